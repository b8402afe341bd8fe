// ballotctl: the command-line client of a Ballot cluster (see SURFACE.md).
//
// Exit codes: 0 success; 1 refused (absent key, version mismatch); 2 usage
// error (the message names the flag and the value); 3 cluster unavailable
// within --timeout.

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/ballotctl/json.hpp"
#include "runtime/client/client.hpp"
#include "runtime/client/endpoint.hpp"

namespace {

using namespace ballot;
using ctl::json_string;
using kv::result_code;

constexpr int exit_ok = 0;
constexpr int exit_refused = 1;
constexpr int exit_usage = 2;
constexpr int exit_unavailable = 3;

constexpr const char* usage_text =
  R"(usage: ballotctl [--endpoints H:P[,H:P...]] [--timeout SECS] [--json] COMMAND ...

commands:
  status                           cluster health: members, leader, commit index, up/down
  put KEY VALUE [--if-version N]   linearizable write (--if-version 0: create only); prints the new version
  get KEY                          linearizable read; prints the value, then its version
  delete KEY [--if-version N]      linearizable delete
  list [PREFIX]                    keys under PREFIX, one "key version" a line
  watch, lock, check-token         not implemented yet

options:
  --endpoints H:P[,H:P...]  nodes to talk to (default 127.0.0.1:7400); any live one will do
  --timeout SECS            give up after this long, retries included (default 5)
  --json                    one JSON object per line on stdout, for scripts
  --help                    this text

exit codes: 0 success, 1 refused (absent key, version mismatch), 2 usage error,
            3 cluster unavailable within --timeout
)";

/// A usage error: printed with the usage hint, exit 2.
struct usage_error {
  std::string message;
};

struct invocation {
  std::string endpoints = "127.0.0.1:7400";
  double timeout_s = 5;
  bool json = false;
  bool help = false;
  std::optional<std::uint64_t> if_version;
  /// Flags of watch and lock (--prefix, --count, --shared, --wait), accepted
  /// so that those commands report "not implemented yet" rather than a usage error.
  std::vector<std::string> later_flags;
  std::string command;
  std::vector<std::string> args;
};

std::uint64_t parse_version(const std::string& flag, const std::string& text) {
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size())
    throw usage_error{flag + " '" + text + "' is not a non-negative integer"};
  return v;
}

double parse_timeout(const std::string& text) {
  double v = 0;
  std::istringstream in{text};
  in >> v;
  if (text.empty() || !in.eof() || in.fail() || !std::isfinite(v) || v <= 0 || v > 86400)
    throw usage_error{"--timeout '" + text + "' is not a number of seconds in (0, 86400]"};
  return v;
}

invocation parse(int argc, char** argv) {
  invocation inv;
  std::vector<std::string> positional;
  bool flags_done = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (flags_done || arg.size() < 2 || arg.compare(0, 2, "--") != 0 || arg == "-") {
      if (arg == "-h") {
        inv.help = true;
        continue;
      }
      positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    std::string flag = arg;
    std::optional<std::string> value;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    auto take_value = [&]() -> std::string {
      if (value)
        return *value;
      if (i + 1 >= argc)
        throw usage_error{flag + " needs a value"};
      return argv[++i];
    };
    if (flag == "--help") {
      inv.help = true;
    } else if (flag == "--json") {
      if (value)
        throw usage_error{"--json takes no value (got '" + *value + "')"};
      inv.json = true;
    } else if (flag == "--endpoints") {
      inv.endpoints = take_value();
    } else if (flag == "--timeout") {
      inv.timeout_s = parse_timeout(take_value());
    } else if (flag == "--if-version") {
      inv.if_version = parse_version(flag, take_value());
    } else if (flag == "--prefix" || flag == "--shared") {
      inv.later_flags.push_back(flag);
    } else if (flag == "--count" || flag == "--wait") {
      inv.later_flags.push_back(flag + " " + take_value());
    } else {
      throw usage_error{"unknown flag '" + arg + "'"};
    }
  }
  if (inv.help)
    return inv;
  if (positional.empty())
    throw usage_error{"no command given"};
  inv.command = positional.front();
  inv.args.assign(positional.begin() + 1, positional.end());
  return inv;
}

void expect_args(const invocation& inv, std::size_t min, std::size_t max, const char* shape) {
  if (inv.args.size() < min || inv.args.size() > max)
    throw usage_error{"'" + inv.command + "' takes " + shape + " (got " +
                      std::to_string(inv.args.size()) + " arguments)"};
}

/// Reports a failed call and returns its exit code.
int fail(const invocation& inv, const kv::result& r, const std::string& key) {
  auto code = r.code;
  if (inv.json) {
    std::cout << "{\"ok\":false,\"error\":" << json_string(kv::to_string(code));
    if (!key.empty())
      std::cout << ",\"key\":" << json_string(key);
    if (code == result_code::version_mismatch)
      std::cout << ",\"current_version\":" << r.version;
    if (!r.message.empty())
      std::cout << ",\"message\":" << json_string(r.message);
    std::cout << "}" << std::endl;
  }
  switch (code) {
    case result_code::not_found:
      std::cerr << "ballotctl: key '" << key << "' not found\n";
      return exit_refused;
    case result_code::version_mismatch:
      std::cerr << "ballotctl: version mismatch on '" << key << "': its current version is "
                << r.version << (r.version == 0 ? " (absent)" : "") << "\n";
      return exit_refused;
    case result_code::bad_request:
      std::cerr << "ballotctl: bad request: " << r.message << "\n";
      return exit_usage;
    case result_code::unavailable:
      std::cerr << "ballotctl: cluster unavailable within " << inv.timeout_s << " s: " << r.message
                << "\n";
      return exit_unavailable;
    case result_code::ok:
      break;
  }
  return exit_ok;
}

int run_status(const invocation& inv, client::client& c) {
  auto st = c.status();
  if (!st.ok()) {
    kv::result r = kv::result::error(st.code, st.message);
    return fail(inv, r, {});
  }
  if (inv.json) {
    std::cout << "{\"ok\":true,\"leader\":" << st.leader_id
              << ",\"commit_index\":" << st.commit_index
              << ",\"answered_by\":" << json_string(st.answered_by) << ",\"node_id\":" << st.node_id
              << ",\"members\":[";
    for (std::size_t i = 0; i < st.members.size(); ++i) {
      auto& m = st.members[i];
      std::cout << (i ? "," : "") << "{\"id\":" << m.id << ",\"up\":" << (m.up ? "true" : "false")
                << ",\"leader\":" << (m.is_leader ? "true" : "false")
                << ",\"commit_index\":" << m.commit_index
                << ",\"endpoint\":" << json_string(m.endpoint) << "}";
    }
    std::cout << "]}" << std::endl;
    return exit_ok;
  }
  std::cout << "leader " << (st.leader_id ? std::to_string(st.leader_id) : "none")
            << ", commit index " << st.commit_index << " (answered by node " << st.node_id << " at "
            << st.answered_by << ")\n";
  std::cout << "ID  STATE  ROLE      COMMIT  ENDPOINT\n";
  for (auto& m : st.members) {
    std::string id = std::to_string(m.id);
    std::string role = !m.up ? "-" : m.is_leader ? "leader" : "follower";
    std::string commit = m.up ? std::to_string(m.commit_index) : "-";
    std::cout << id << std::string(id.size() < 4 ? 4 - id.size() : 1, ' ')
              << (m.up ? "up     " : "down   ") << role << std::string(10 - role.size(), ' ')
              << commit << std::string(commit.size() < 8 ? 8 - commit.size() : 1, ' ')
              << (m.endpoint.empty() ? "-" : m.endpoint) << "\n";
  }
  return exit_ok;
}

int run(const invocation& inv) {
  auto& cmd = inv.command;
  if (cmd == "watch" || cmd == "lock" || cmd == "check-token") {
    std::cerr << "ballotctl: '" << cmd << "' is not implemented yet\n";
    return exit_usage;
  }
  if (cmd != "status" && cmd != "put" && cmd != "get" && cmd != "delete" && cmd != "list")
    throw usage_error{"unknown command '" + cmd + "'"};
  if (!inv.later_flags.empty())
    throw usage_error{inv.later_flags.front() + " applies to watch and lock, not to '" + cmd + "'"};
  if (inv.if_version && cmd != "put" && cmd != "delete")
    throw usage_error{"--if-version applies to put and delete, not to '" + cmd + "'"};
  if (cmd == "status")
    expect_args(inv, 0, 0, "no arguments");
  else if (cmd == "put")
    expect_args(inv, 2, 2, "KEY VALUE");
  else if (cmd == "list")
    expect_args(inv, 0, 1, "at most a PREFIX");
  else
    expect_args(inv, 1, 1, "KEY");

  std::vector<client::endpoint> parsed;
  std::string error;
  if (!client::parse_endpoints(inv.endpoints, parsed, error))
    throw usage_error{"--endpoints: " + error};
  client::options opts;
  opts.endpoints.clear();
  for (auto& ep : parsed)
    opts.endpoints.push_back(ep.to_string());
  opts.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(inv.timeout_s * 1000));
  opts.attempt_timeout = std::min(opts.timeout, opts.attempt_timeout);
  client::client c{opts};

  if (cmd == "status")
    return run_status(inv, c);
  auto key = inv.args.empty() ? std::string{} : inv.args[0];
  if (cmd == "put") {
    auto r = c.put(key, inv.args[1], inv.if_version);
    if (!r.ok())
      return fail(inv, r, key);
    if (inv.json)
      std::cout << "{\"ok\":true,\"key\":" << json_string(key) << ",\"version\":" << r.version
                << "}" << std::endl;
    else
      std::cout << "version " << r.version << std::endl;
    return exit_ok;
  }
  if (cmd == "get") {
    auto r = c.get(key);
    if (!r.ok())
      return fail(inv, r, key);
    if (inv.json)
      std::cout << "{\"ok\":true,\"key\":" << json_string(key)
                << ",\"value\":" << json_string(r.value) << ",\"version\":" << r.version << "}"
                << std::endl;
    else
      std::cout << r.value << "\nversion " << r.version << std::endl;
    return exit_ok;
  }
  if (cmd == "delete") {
    auto r = c.del(key, inv.if_version);
    if (!r.ok())
      return fail(inv, r, key);
    if (inv.json)
      std::cout << "{\"ok\":true,\"key\":" << json_string(key) << ",\"revision\":" << r.version
                << "}" << std::endl;
    return exit_ok;
  }
  // list
  auto r = c.list(key);
  if (!r.ok())
    return fail(inv, r, key);
  for (auto& e : r.entries) {
    if (inv.json)
      std::cout << "{\"key\":" << json_string(e.key) << ",\"version\":" << e.version << "}\n";
    else
      std::cout << e.key << " " << e.version << "\n";
  }
  if (r.truncated) {
    if (inv.json)
      std::cout << "{\"truncated\":true,\"returned\":" << r.entries.size() << "}\n";
    std::cerr << "ballotctl: listing truncated after " << r.entries.size()
              << " keys (the node's cap); narrow the prefix\n";
  }
  std::cout.flush();
  return exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    auto inv = parse(argc, argv);
    if (inv.help) {
      std::cout << usage_text;
      return exit_ok;
    }
    return run(inv);
  } catch (const usage_error& e) {
    std::cerr << "ballotctl: " << e.message << "\n(see ballotctl --help)\n";
    return exit_usage;
  } catch (const std::exception& e) {
    std::cerr << "ballotctl: " << e.what() << "\n";
    return exit_usage;
  }
}
