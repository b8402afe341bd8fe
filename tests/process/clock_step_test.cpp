// Wall-clock steps on real ballotd processes, made with libfaketime: every
// node runs under LD_PRELOAD=libfaketime with its own FAKETIME_TIMESTAMP_FILE
// (re-read every second) and FAKETIME_DONT_FAKE_MONOTONIC=1, so writing
// "+2h" to a node's file steps its wall clock as NTP or `date -s` would and
// leaves its monotonic clock alone, as the kernel does.
//
// Before lease time came from a monotonic clock (paxos::lease_clock), a step
// of +2 h on the leader expired every session at once, and a step back kept
// a dead holder's lock taken for two hours. Here a holder that keeps its
// session alive must run its command to the end through a step of the
// leader's clock forward and then back (and one of a follower's), and the
// lock of a holder killed with SIGKILL must be free within TTL + grace.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/client/client.hpp"
#include "tests/support/process.hpp"

namespace {

using namespace std::chrono_literals;
using ballot::testing::process;

/// Debian's libfaketime, or "" if it is not installed.
std::string libfaketime() {
  for (const char* p : {"/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
                        "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
                        "/usr/lib/faketime/libfaketimeMT.so.1"})
    if (std::filesystem::exists(p))
      return p;
  return {};
}

/// Three ballotd processes under libfaketime, each with its own clock file.
class faketime_cluster {
 public:
  explicit faketime_cluster(std::string lib) : lib_(std::move(lib)) {
    dir_ =
      std::filesystem::temp_directory_path() / ("ballot-clockstep-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    for (std::uint32_t i = 1; i <= 3; ++i) {
      peer_ports_[i] = ballot::testing::free_port();
      client_ports_[i] = ballot::testing::free_port();
      set_offset(i, "+0");
    }
  }

  ~faketime_cluster() {
    nodes_.clear();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  /// Steps node `id`'s wall clock to `offset` from true time ("+2h", "-2h").
  void set_offset(std::uint32_t id, const std::string& offset) {
    auto file = clock_file(id);
    std::ofstream{file.string() + ".tmp"} << offset << "\n";
    std::filesystem::rename(file.string() + ".tmp", file);
  }

  void start_all() {
    std::string peers;
    for (auto& [id, port] : peer_ports_)
      peers +=
        (peers.empty() ? "" : ",") + std::to_string(id) + "=127.0.0.1:" + std::to_string(port);
    for (std::uint32_t id = 1; id <= 3; ++id) {
      nodes_[id] = std::make_unique<process>(std::vector<std::string>{
        "/usr/bin/env", "LD_PRELOAD=" + lib_, "FAKETIME_TIMESTAMP_FILE=" + clock_file(id).string(),
        "FAKETIME_CACHE_DURATION=1", "FAKETIME_DONT_FAKE_MONOTONIC=1", BALLOTD_BIN, "--id",
        std::to_string(id), "--peers", peers, "--client", endpoint(id), "--data-dir",
        (dir_ / ("data-" + std::to_string(id))).string()});
    }
    for (auto& [id, p] : nodes_)
      ASSERT_TRUE(p->wait_for_output("ballotd ready", 15s)) << "node " << id << " did not start:\n"
                                                            << p->err();
  }

  std::string endpoint(std::uint32_t id) const {
    return "127.0.0.1:" + std::to_string(client_ports_.at(id));
  }

  std::string endpoints() const { return endpoint(1) + "," + endpoint(2) + "," + endpoint(3); }

  std::uint32_t leader() {
    ballot::client::options o;
    o.endpoints = {endpoint(1), endpoint(2), endpoint(3)};
    o.timeout = 4s;
    ballot::client::client c{o};
    for (auto deadline = std::chrono::steady_clock::now() + 10s;
         std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(50ms))
      if (auto st = c.status(); st.ok() && st.leader_id != 0)
        return st.leader_id;
    return 0;
  }

  std::filesystem::path dir() const { return dir_; }

 private:
  std::filesystem::path clock_file(std::uint32_t id) const {
    return dir_ / ("faketime-" + std::to_string(id));
  }

  std::string lib_;
  std::filesystem::path dir_;
  std::map<std::uint32_t, std::uint16_t> peer_ports_, client_ports_;
  std::map<std::uint32_t, std::unique_ptr<process>> nodes_;
};

/// `ballotctl lock NAME --ttl TTL -- sh -c SCRIPT` as a child process.
std::unique_ptr<process> holder(const faketime_cluster& c, const std::string& name,
                                const std::string& ttl, const std::string& wait,
                                const std::string& script) {
  return std::make_unique<process>(std::vector<std::string>{
    BALLOTCTL_BIN, "--timeout", "10", "--endpoints", c.endpoints(), "lock", name, "--ttl", ttl,
    "--wait", wait, "--lock-delay", "0", "--", "/bin/sh", "-c", script});
}

bool wait_for_file(const std::filesystem::path& f, std::chrono::milliseconds timeout) {
  for (auto deadline = std::chrono::steady_clock::now() + timeout;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(20ms))
    if (std::filesystem::exists(f))
      return true;
  return false;
}

TEST(ProcessClockStepTest, WallClockStepsNeitherExpireNorKeepSessions) {
  auto lib = libfaketime();
  if (lib.empty())
    GTEST_SKIP() << "libfaketime is missing (Debian: apt-get install faketime libfaketime; "
                    ".ci/install-deps installs it)";
  faketime_cluster cluster{lib};
  cluster.start_all();
  auto leader = cluster.leader();
  ASSERT_NE(leader, 0u) << "no leader elected";
  auto follower = leader % 3 + 1;
  constexpr auto ttl = 2s;
  constexpr auto grace = 5s;  // service_machine::default_grace_ms

  // A healthy holder: keeps its 2 s session alive for 14 s while the clocks step.
  auto healthy_started = cluster.dir() / "healthy-started";
  auto healthy =
    holder(cluster, "healthy", "2", "10", "touch " + healthy_started.string() + "; sleep 14");
  ASSERT_TRUE(wait_for_file(healthy_started, 10s)) << healthy->err();

  // A follower two hours behind, then the leader two hours ahead: a leader
  // stamping its wall clock would expire every session here.
  cluster.set_offset(follower, "-2h");
  cluster.set_offset(leader, "+2h");
  std::this_thread::sleep_for(3s);  // the clock files are re-read every second

  // A holder that dies with its lock, under the leader's forward step...
  auto dead_started = cluster.dir() / "dead-started";
  auto dead_pid = cluster.dir() / "dead-pid";
  auto dead = holder(
    cluster, "dead", "2", "10",
    "echo $$ > " + dead_pid.string() + "; touch " + dead_started.string() + "; exec sleep 60");
  ASSERT_TRUE(wait_for_file(dead_started, 10s)) << dead->err();
  dead->kill(SIGKILL);
  dead->wait_exit(5s);
  auto killed_at = std::chrono::steady_clock::now();
  {
    std::ifstream in{dead_pid};
    pid_t pid = 0;
    if (in >> pid && pid > 0)
      ::kill(pid, SIGKILL);  // its command, orphaned
  }
  // ...and the leader's clock four hours back: a leader stamping its wall
  // clock would hold log time still for hours, and the lock with it.
  cluster.set_offset(leader, "-2h");

  auto taken = cluster.dir() / "taken";
  auto next = holder(cluster, "dead", "2", "20", "touch " + taken.string());
  auto code = next->exit_code(30s);
  auto free_after = std::chrono::steady_clock::now() - killed_at;
  ASSERT_EQ(code, std::optional<int>{0}) << next->err();
  EXPECT_TRUE(std::filesystem::exists(taken));
  // TTL + grace, and a second for the processes and the clock files.
  EXPECT_LT(free_after, ttl + grace + 1s)
    << "the dead holder's lock was free only after "
    << std::chrono::duration_cast<std::chrono::milliseconds>(free_after).count() << " ms";
  std::printf("the dead holder's lock was free %lld ms after it was killed (TTL %lld ms)\n",
              static_cast<long long>(
                std::chrono::duration_cast<std::chrono::milliseconds>(free_after).count()),
              static_cast<long long>(std::chrono::milliseconds(ttl).count()));

  // The healthy holder ran its command to the end: its session never expired.
  auto healthy_code = healthy->exit_code(20s);
  EXPECT_EQ(healthy_code, std::optional<int>{0})
    << "the healthy holder lost its session across the clock steps:\n"
    << healthy->err();
}

}  // namespace
