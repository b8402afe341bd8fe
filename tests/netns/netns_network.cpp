#include "tests/netns/netns_network.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>

#include "tests/support/process.hpp"

namespace ballot::testing::netns {

namespace {

using namespace std::chrono_literals;

/// Networks alive in this process, by sequence number: a leftover with our own pid and
/// another number is from an earlier process that had the same pid.
std::mutex live_mutex;
std::set<int> live;
int next_sequence = 0;

std::string prefix_of(pid_t pid, int sequence) {
  return "bt" + std::to_string(pid) + "-" + std::to_string(sequence) + "-";
}

/// Parses `bt<pid>-<seq>-<rest>`; false for any other name.
bool parse_name(const std::string& name, pid_t& pid, int& sequence) {
  if (name.rfind("bt", 0) != 0)
    return false;
  std::size_t i = 2, start = 2;
  while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])))
    ++i;
  if (i == start || i >= name.size() || name[i] != '-')
    return false;
  pid = static_cast<pid_t>(std::stol(name.substr(start, i - start)));
  start = ++i;
  while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])))
    ++i;
  if (i == start || i >= name.size() || name[i] != '-')
    return false;
  sequence = std::stoi(name.substr(start, i - start));
  return true;
}

std::pair<int, std::string> run_ip(const std::vector<std::string>& args, std::string* out) {
  std::vector<std::string> argv{ip_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  process p{argv};
  auto code = p.exit_code(10s);
  if (out)
    *out = p.out();
  return {code ? *code : -1, p.err()};
}

std::string joined(const std::vector<std::string>& args) {
  std::string s = "ip";
  for (auto& a : args)
    s += " " + a;
  return s;
}

}  // namespace

std::string ip_binary() {
  for (const char* path : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"})
    if (access(path, X_OK) == 0)
      return path;
  return {};
}

void ip(const std::vector<std::string>& args) {
  auto [code, err] = run_ip(args, nullptr);
  if (code != 0)
    throw std::runtime_error(joined(args) + " failed (exit " + std::to_string(code) + "): " + err);
}

std::string ip_output(const std::vector<std::string>& args) {
  std::string out;
  auto [code, err] = run_ip(args, &out);
  if (code != 0)
    throw std::runtime_error(joined(args) + " failed (exit " + std::to_string(code) + "): " + err);
  return out;
}

std::string unavailable_reason() {
  if (geteuid() != 0)
    return "network-namespace tests need root (CI runs them as root)";
  if (ip_binary().empty())
    return "network-namespace tests need `ip` (iproute2), not found in /usr/sbin, /sbin, /usr/bin";
  // Some containers forbid namespaces even to root: try once.
  std::string probe;
  {
    std::lock_guard<std::mutex> g{live_mutex};
    probe = prefix_of(getpid(), next_sequence++) + "probe";
  }
  auto [code, err] = run_ip({"netns", "add", probe}, nullptr);
  if (code != 0)
    return "`ip netns add` does not work here: " + err;
  run_ip({"netns", "del", probe}, nullptr);
  return {};
}

void remove_leftovers() {
  std::string list;
  if (run_ip({"netns", "list"}, &list).first != 0)
    return;
  std::istringstream in{list};
  std::string line;
  while (std::getline(in, line)) {
    auto name = line.substr(0, line.find(' '));
    pid_t pid = 0;
    int sequence = 0;
    if (!parse_name(name, pid, sequence))
      continue;
    bool ours_and_live = false;
    if (pid == getpid()) {
      std::lock_guard<std::mutex> g{live_mutex};
      ours_and_live = live.count(sequence) != 0 || name.find("probe") != std::string::npos;
    }
    bool gone = pid != getpid() && ::kill(pid, 0) != 0 && errno == ESRCH;
    if (gone || (pid == getpid() && !ours_and_live))
      run_ip({"netns", "del", name}, nullptr);
  }
}

network::network(std::size_t nodes) : nodes_(nodes), down_(nodes, false) {
  remove_leftovers();
  int sequence = 0;
  {
    std::lock_guard<std::mutex> g{live_mutex};
    sequence = next_sequence++;
    live.insert(sequence);
  }
  sequence_ = sequence;
  prefix_ = prefix_of(getpid(), sequence);
  try {
    auto add = [this](const std::string& ns) {
      ip({"netns", "add", ns});
      made_.push_back(ns);
      ip({"-n", ns, "link", "set", "lo", "up"});
    };
    add(hub());
    ip({"-n", hub(), "link", "add", "br0", "type", "bridge"});
    ip({"-n", hub(), "link", "set", "br0", "up"});
    // One leg per namespace: the hub end (named after the leg) on the bridge, the other end
    // eth0 in the leg's namespace.
    auto leg = [&](const std::string& ns, const std::string& hub_end, const std::string& addr) {
      add(ns);
      ip(
        {"-n", hub(), "link", "add", hub_end, "type", "veth", "peer", "name", "eth0", "netns", ns});
      ip({"-n", hub(), "link", "set", hub_end, "master", "br0"});
      ip({"-n", hub(), "link", "set", hub_end, "up"});
      ip({"-n", ns, "addr", "add", addr + "/24", "dev", "eth0"});
      ip({"-n", ns, "link", "set", "eth0", "up"});
    };
    for (std::size_t i = 1; i <= nodes_; ++i)
      leg(node_ns(i), "n" + std::to_string(i), node_address(i));
    leg(client_ns(), "c", client_address());
  } catch (...) {
    teardown();
    throw;
  }
}

network::~network() {
  teardown();
}

void network::teardown() noexcept {
  // Deleting a namespace deletes its links, and a veth dies with either end.
  for (auto it = made_.rbegin(); it != made_.rend(); ++it) {
    try {
      run_ip({"netns", "del", *it}, nullptr);
    } catch (...) {
    }
  }
  made_.clear();
  std::lock_guard<std::mutex> g{live_mutex};
  live.erase(sequence_);
}

std::vector<std::string> network::exec_in(const std::string& ns) const {
  return {ip_binary(), "netns", "exec", ns};
}

void network::isolate(std::size_t id) {
  ip({"-n", hub(), "link", "set", "n" + std::to_string(id), "down"});
  down_.at(id - 1) = true;
}

void network::heal(std::size_t id) {
  ip({"-n", hub(), "link", "set", "n" + std::to_string(id), "up"});
  down_.at(id - 1) = false;
}

void network::heal_all() {
  for (std::size_t i = 1; i <= nodes_; ++i)
    if (down_[i - 1])
      heal(i);
}

std::vector<std::string> network::namespaces() const {
  std::vector<std::string> out{hub()};
  for (std::size_t i = 1; i <= nodes_; ++i)
    out.push_back(node_ns(i));
  out.push_back(client_ns());
  return out;
}

scoped_netns::scoped_netns(const std::string& ns) {
  original_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (original_ < 0)
    throw std::runtime_error(std::string{"cannot open this thread's network namespace: "} +
                             std::strerror(errno));
  int target = open(("/var/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0 || setns(target, CLONE_NEWNET) != 0) {
    auto why = std::string{std::strerror(errno)};
    if (target >= 0)
      close(target);
    close(original_);
    throw std::runtime_error("cannot enter network namespace " + ns + ": " + why);
  }
  close(target);
}

scoped_netns::~scoped_netns() {
  // Back to where the thread was; failing here would leave it in a namespace about to go.
  if (setns(original_, CLONE_NEWNET) != 0)
    std::abort();
  close(original_);
}

}  // namespace ballot::testing::netns
