// ballotctl: the command-line client of a Ballot cluster (see SURFACE.md).
//
// Exit codes: 0 success; 1 refused (absent key, version mismatch, quota,
// limits, unauthenticated, permission denied); 2 usage error (the message names the flag and the
// value); 3 cluster unavailable (or overloaded) within --timeout.

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "actors/lock/wait_limit.hpp"
#include "runtime/ballotctl/auth_commands.hpp"
#include "runtime/ballotctl/kv_commands.hpp"
#include "runtime/ballotctl/lock_commands.hpp"
#include "runtime/ballotctl/member_commands.hpp"
#include "runtime/ballotctl/printable.hpp"
#include "runtime/ballotctl/snapshot_commands.hpp"
#include "runtime/client/client.hpp"
#include "runtime/client/endpoint.hpp"
#include "runtime/client/status_json.hpp"

namespace {

using namespace ballot;

constexpr int exit_ok = 0;
constexpr int exit_usage = 2;

constexpr const char* usage_text =
  R"(usage: ballotctl [--endpoints H:P[,H:P...]] [--timeout SECS] [--json]
                 [--cacert FILE [--cert FILE --key FILE] [--tls-server-name NAME]]
                 [--user NAME [--password P|-]] COMMAND ...

commands:
  status                           cluster health: members, leader, commit index, up/down
  put KEY [VALUE|-] [--if-version N]
                                   linearizable write (--if-version 0: create only); prints
                                   the new version. VALUE omitted or "-": the value is read
                                   from stdin, byte for byte, up to 1 MiB (1048576 bytes)
  get KEY                          linearizable read; prints the value, then its version
  delete KEY [--if-version N]      linearizable delete
  list [PREFIX] [--limit N] [--values]
                                   keys under PREFIX in key order, one "key version" a line
                                   ("key version value" with --values); pages through any
                                   number of keys (pages are separate reads, not one
                                   snapshot); --limit: print at most N keys
  watch KEY [--prefix] [--count N] [--from-revision R]
                                   waits for changes of KEY (or of every key starting with
                                   it); one event a line, in commit order: "put KEY REVISION
                                   VALUE" or "delete KEY REVISION"; --count: stop after N
                                   events; --from-revision: replay every change after R (a
                                   revision past the current one is a usage error, exit 2)
  lock NAME [--shared] [--wait SECS] [--ttl SECS] [--lock-delay SECS]
       [--jeopardy-margin SECS] [--kill-grace SECS] -- CMD [ARGS...]
                                   opens a session, acquires NAME, runs CMD with
                                   BALLOT_LOCK_NAME and BALLOT_FENCING_TOKEN in its
                                   environment, releases; exits with CMD's status.
                                   --wait 0 is a try-lock (default: wait as long as it takes;
                                   at most 3600, one call's longest wait);
                                   --ttl: the session's TTL (default 10; kept alive meanwhile);
                                   --lock-delay: if the session expires while holding NAME,
                                   nobody gets it for this long (0..60, default 0).
                                   Jeopardy: when no keep-alive was confirmed within TTL
                                   minus --jeopardy-margin (default TTL/4), or the session is
                                   lost, CMD gets SIGTERM, then SIGKILL after --kill-grace
                                   (default margin/2, must be less than the margin), and
                                   ballotctl exits 75: CMD is dead before the cluster may
                                   expire the session and grant NAME to anybody else.
  check-token NAME TOKEN           is TOKEN the current holder's fencing token of NAME?
                                   prints "valid" (exit 0) or "stale" (exit 1)
  snapshot save FILE               an online backup of the whole cluster state at one
                                   point (taken by the leader while writes go on) into
                                   FILE (written as FILE.part, fsynced, renamed); progress
                                   on stderr. Root only once authentication is on; exit 1
                                   if the node streams another backup (busy)
  snapshot status FILE             checks FILE (SHA-256) and prints its revision, applied
                                   index, size, keys, sessions, members, cluster id and
                                   checksum; exit 1 naming the damage and its offset

membership (README "Changing the membership"; changes need the root role once
authentication is on):
  member list                      every member: id, role (voter/learner), lag behind the
                                   leader in slots, peer and client addresses
  member add --peer H:P --client H:P
                                   adds a learner (it votes in nothing) and prints its new id;
                                   then start that node with ballotd --join
  member promote ID                makes learner ID a voter; refused (exit 3 at --timeout)
                                   while it is far behind the leader
  member remove ID                 takes ID out of the cluster; a removed node stops

users, roles and authentication (changes and listings need the root role once
authentication is on):
  auth enable|disable              turn checks on (refused unless some user has the root
                                   role) or off
  auth status                      whether checks are on, and who this connection acts as
  user add NAME (--new-password P|- | --no-password)
                                   a user with a password ("-": one line from stdin), or
                                   one who presents a client certificate with CN=NAME
  user passwd NAME --new-password P|-
  user delete NAME
  user grant USER ROLE             ROLE "root" grants everything
  user revoke USER ROLE
  user list                        one user a line: NAME roles=R,... password=yes|no
  role add NAME
  role delete NAME
  role grant ROLE KIND PREFIX      KIND: read (get, list, watch), write (put, delete),
                                   readwrite, or lock (acquire, release, check-token,
                                   lock info of lock names); PREFIX "" is everything
  role revoke ROLE KIND PREFIX
  role list                        one permission a line: ROLE KIND "PREFIX"

options:
  --endpoints H:P[,H:P...]  nodes to talk to (default 127.0.0.1:7400); any live one will do
  --timeout SECS            give up after this long, retries included (default 5)
  --json                    one JSON object per line on stdout, for scripts
  --cacert FILE             talk TLS, trusting only this CA (PEM) to sign the nodes'
                            certificates; a node's certificate must carry the host dialled
                            as a subjectAltName DNS name (IP addresses are not matched:
                            dial names, or use --tls-server-name)
  --cert FILE, --key FILE   this client's certificate and key (PEM), for nodes started
                            with --client-cert-auth
  --tls-server-name NAME    the DNS name every node's certificate must carry, whatever
                            host is dialled (default: the host of each endpoint)
  --user NAME               authenticate as NAME on every connection (without it: anonymous,
                            or the client certificate's common name)
  --password P|-            NAME's password; "-" reads one line from stdin (before the
                            line of --new-password -). Default: $BALLOT_PASSWORD. A password
                            on the command line is visible to other local users (ps)
  --help                    this text

output: keys and values are printed with \\, \n, \t, \r and \xNN escapes for
        backslashes, control bytes and bytes that are not UTF-8, so each stays on its
        line; --json prints them as JSON strings.

exit codes: 0 success
            1 refused: absent key, version mismatch, lock not acquired in time, stale
              token; quota_exceeded (the state is over the cluster's quota: writes
              that grow it are refused, deletes and reads go on); request_id_reused (a
              write's request id already named a different command); limit_reached (a
              cap on sessions or on a lock's waiters); unauthenticated (authentication
              is on and no user, or a wrong user name or password, was given);
              permissionDenied (the user's roles do not allow the operation on that key
              or lock name, or the session belongs to another user); user and role
              changes: not found, already exists
            2 usage error (also a bad request the cluster refused)
            3 cluster unavailable within --timeout; also overloaded: a node kept
              answering overloaded (retried with backoff) until --timeout; and expired:
              the cluster forgot the write's client id (whether it applied is unknown)
            lock: CMD's status (128+N if a signal N ended it); 75 if ballotctl
              stopped CMD because the session was in jeopardy or lost
)";

/// A usage error: printed with the usage hint, exit 2.
struct usage_error {
  std::string message;
};

struct invocation {
  std::string endpoints = "127.0.0.1:7400";
  double timeout_s = 5;
  // TLS: PEM file paths.
  std::string cacert, cert, key, tls_server_name;
  // Authentication: --user, --password ("-": stdin); user add/passwd.
  std::string user;
  std::optional<std::string> password, new_password;
  bool no_password = false;
  bool json = false;
  bool help = false;
  std::optional<std::uint64_t> if_version;
  // list
  std::optional<std::uint64_t> limit;
  bool values = false;
  // watch
  bool prefix = false;
  std::optional<std::uint64_t> count;
  std::optional<std::uint64_t> from_revision;
  // lock
  bool shared = false;
  std::optional<double> wait_s;
  double ttl_s = 10;
  double lock_delay_s = 0;
  std::optional<double> jeopardy_margin_s;
  std::optional<double> kill_grace_s;
  /// Flags given, for "applies to X, not to Y" errors.
  std::vector<std::string> command_flags;
  std::string command;
  std::vector<std::string> args;
  /// member add --peer H:P --client H:P.
  std::string member_peer, member_client;
  /// Positional arguments after "--" (lock's CMD ARGS...).
  std::vector<std::string> after_dashes;
  bool saw_dashes = false;
};

/// A number of seconds, at most a day if `capped`.
double parse_seconds(const std::string& flag, const std::string& text, bool allow_zero,
                     bool capped = true) {
  double v = 0;
  std::istringstream in{text};
  in >> v;
  if (text.empty() || !in.eof() || in.fail() || !std::isfinite(v) || v < 0 ||
      (!allow_zero && v == 0) || (capped && v > 86400))
    throw usage_error{flag + " '" + text + "' is not a number of seconds in " +
                      (allow_zero ? "[0, 86400]" : "(0, 86400]")};
  return v;
}

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

/// One --flag or --flag=value of the command line.
struct flag_arg {
  std::string arg;
  std::string flag;
  std::optional<std::string> value;
  int& i;
  int argc;
  char** argv;

  std::string take_value() {
    if (value)
      return *value;
    if (i + 1 >= argc)
      throw usage_error{flag + " needs a value"};
    return argv[++i];
  }

  void no_value() const {
    if (value)
      throw usage_error{flag + " takes no value (got '" + *value + "')"};
  }
};

/// The flags of every command (connection, output, credentials); false: not one of them.
bool parse_common_flag(invocation& inv, flag_arg& f) {
  auto& flag = f.flag;
  if (flag == "--help") {
    inv.help = true;
  } else if (flag == "--json") {
    f.no_value();
    inv.json = true;
  } else if (flag == "--endpoints") {
    inv.endpoints = f.take_value();
  } else if (flag == "--timeout") {
    inv.timeout_s = parse_timeout(f.take_value());
  } else if (flag == "--cacert" || flag == "--cert" || flag == "--key" ||
             flag == "--tls-server-name") {
    auto v = f.take_value();
    if (v.empty())
      throw usage_error{flag + " needs a value"};
    (flag == "--cacert" ? inv.cacert
     : flag == "--cert" ? inv.cert
     : flag == "--key"  ? inv.key
                        : inv.tls_server_name) = v;
  } else if (flag == "--user") {
    inv.user = f.take_value();
    if (inv.user.empty())
      throw usage_error{"--user needs a value"};
  } else if (flag == "--password") {
    inv.password = f.take_value();
  } else if (flag == "--new-password") {
    inv.new_password = f.take_value();
  } else if (flag == "--no-password") {
    f.no_value();
    inv.no_password = true;
  } else if (flag == "--if-version") {
    inv.if_version = parse_version(flag, f.take_value());
  } else {
    return false;
  }
  return true;
}

/// The lock command's timing flags; false: not one of them.
bool parse_lock_flag(invocation& inv, flag_arg& f) {
  auto& flag = f.flag;
  if (flag == "--wait") {
    auto text = f.take_value();
    inv.wait_s = parse_seconds(flag, text, true, false);
    // The node's limit, in the node's words (before anything is asked).
    auto wait_ms = *inv.wait_s * 1000;
    if (wait_ms > static_cast<double>(lock::max_acquire_wait_ms))
      throw usage_error{"--wait '" + text + "': " +
                        lock::wait_over_maximum(static_cast<std::uint64_t>(
                          std::min(wait_ms, 1e19)))};  // 1e19 < 2^64: a valid conversion
  } else if (flag == "--lock-delay") {
    inv.lock_delay_s = parse_seconds(flag, f.take_value(), true);
    if (inv.lock_delay_s > 60)
      throw usage_error{"--lock-delay '" + std::to_string(inv.lock_delay_s) +
                        "' is over the maximum of 60 seconds"};
  } else if (flag == "--jeopardy-margin") {
    inv.jeopardy_margin_s = parse_seconds(flag, f.take_value(), false);
  } else if (flag == "--kill-grace") {
    inv.kill_grace_s = parse_seconds(flag, f.take_value(), true);
  } else if (flag == "--ttl") {
    inv.ttl_s = parse_seconds(flag, f.take_value(), false);
    if (inv.ttl_s < 0.1 || inv.ttl_s > 3600)
      throw usage_error{"--ttl '" + std::to_string(inv.ttl_s) + "' is outside [0.1, 3600] seconds"};
  } else if (flag == "--shared") {
    inv.shared = true;
  } else {
    return false;
  }
  return true;
}

/// The flags of one command (checked against the command later, see
/// check_flags); false: not one of them.
bool parse_command_flag(invocation& inv, flag_arg& f) {
  auto& flag = f.flag;
  if (flag == "--peer" || flag == "--client") {
    (flag == "--peer" ? inv.member_peer : inv.member_client) = f.take_value();
  } else if (flag == "--prefix") {
    inv.prefix = true;
  } else if (flag == "--count") {
    inv.count = parse_version(flag, f.take_value());
    if (*inv.count == 0)
      throw usage_error{"--count '0' must be at least 1"};
  } else if (flag == "--from-revision") {
    inv.from_revision = parse_version(flag, f.take_value());
  } else if (flag == "--limit") {
    inv.limit = parse_version(flag, f.take_value());
    if (*inv.limit == 0)
      throw usage_error{"--limit '0' must be at least 1"};
  } else if (flag == "--values") {
    f.no_value();
    inv.values = true;
  } else if (!parse_lock_flag(inv, f)) {
    return false;
  }
  inv.command_flags.push_back(flag);
  return true;
}

invocation parse(int argc, char** argv) {
  invocation inv;
  std::vector<std::string> positional;
  bool flags_done = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (flags_done) {
      inv.after_dashes.push_back(arg);
      continue;
    }
    if (arg.size() < 2 || arg.compare(0, 2, "--") != 0 || arg == "-") {
      if (arg == "-h") {
        inv.help = true;
        continue;
      }
      positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      inv.saw_dashes = true;
      continue;
    }
    flag_arg f{arg, arg, std::nullopt, i, argc, argv};
    if (auto eq = arg.find('='); eq != std::string::npos) {
      f.flag = arg.substr(0, eq);
      f.value = arg.substr(eq + 1);
    }
    if (!parse_common_flag(inv, f) && !parse_command_flag(inv, f))
      throw usage_error{"unknown flag '" + arg + "'"};
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

int run_status(const invocation& inv, client::client& c) {
  auto st = c.status();
  if (!st.ok()) {
    kv::result r = kv::result::error(st.code, st.message);
    return ctl::fail_kv({inv.json, inv.timeout_s}, r, {});
  }
  if (inv.json) {
    std::cout << client::status_json(st) << std::endl;
    return exit_ok;
  }
  std::cout << "leader " << (st.leader_id ? std::to_string(st.leader_id) : "none")
            << ", commit index " << st.commit_index << " (answered by node " << st.node_id << " at "
            << st.answered_by << ")\n";
  std::cout << "ID  STATE  ROLE      COMMIT  ENDPOINT\n";
  for (auto& m : st.members) {
    std::string id = std::to_string(m.id);
    std::string role = !m.up ? "-" : m.is_leader ? "leader" : m.learner ? "learner" : "follower";
    std::string commit = m.up ? std::to_string(m.commit_index) : "-";
    std::cout << id << std::string(id.size() < 4 ? 4 - id.size() : 1, ' ')
              << (m.up ? "up     " : "down   ") << role << std::string(10 - role.size(), ' ')
              << commit << std::string(commit.size() < 8 ? 8 - commit.size() : 1, ' ')
              << (m.endpoint.empty() ? "-" : m.endpoint) << "\n";
  }
  return exit_ok;
}

/// Which command each command flag belongs to.
void check_flags(const invocation& inv) {
  for (auto& flag : inv.command_flags) {
    bool is_watch = flag == "--prefix" || flag == "--count" || flag == "--from-revision";
    bool is_list = flag == "--limit" || flag == "--values";
    bool is_member = flag == "--peer" || flag == "--client";
    const char* owner = is_watch ? "watch" : is_list ? "list" : is_member ? "member" : "lock";
    if (inv.command != owner)
      throw usage_error{flag + " applies to " + owner + ", not to '" + inv.command + "'"};
  }
  if (inv.saw_dashes && inv.command != "lock")
    throw usage_error{"'--' and a command to run apply to lock, not to '" + inv.command + "'"};
}

/// The password to authenticate with (--password, stdin, $BALLOT_PASSWORD)
/// and the new one of user add/passwd ("-": the next line of stdin).
void settle_passwords(invocation& inv) {
  if (inv.password && inv.user.empty())
    throw usage_error{"--password needs --user NAME"};
  std::string error;
  if (inv.password && *inv.password == "-" && !ctl::read_secret_line(*inv.password, error))
    throw usage_error{"--password -: " + error};
  if (!inv.user.empty() && !inv.password)
    if (const char* env = std::getenv("BALLOT_PASSWORD"))
      inv.password = env;
  // A user who presents a certificate needs no --user; one named here
  // authenticates with a password, and an empty one never matches.
  if (!inv.user.empty() && (!inv.password || inv.password->empty()))
    throw usage_error{"--user " + ctl::printable(inv.user) +
                      " needs a password: --password P, --password - (one line of stdin) or "
                      "$BALLOT_PASSWORD"};
  if (inv.new_password && *inv.new_password == "-" &&
      !ctl::read_secret_line(*inv.new_password, error))
    throw usage_error{"--new-password -: " + error};
  if (inv.new_password && inv.new_password->empty())
    throw usage_error{
      "--new-password: the password is empty (--no-password makes a "
      "certificate-only user)"};
}

/// The arguments each command takes.
void check_args(const invocation& inv, const ctl::auth_args& auth) {
  auto& cmd = inv.command;
  if (ctl::is_auth_command(cmd)) {
    if (auto bad = ctl::check_auth_args(auth); !bad.empty())
      throw usage_error{bad};
  } else if (cmd == "status") {
    expect_args(inv, 0, 0, "no arguments");
  } else if (cmd == "put") {
    expect_args(inv, 1, 2, "KEY and a VALUE (none or '-': from stdin)");
  } else if (cmd == "list") {
    expect_args(inv, 0, 1, "at most a PREFIX");
  } else if (cmd == "check-token") {
    expect_args(inv, 2, 2, "NAME TOKEN");
  } else if (cmd == "lock") {
    expect_args(inv, 1, 1, "NAME, then -- and the command to run");
  } else if (cmd == "member") {
    if (auto bad = ctl::check_member_args(inv.args, inv.member_peer, inv.member_client);
        !bad.empty())
      throw usage_error{bad};
  } else if (cmd == "snapshot") {
    expect_args(inv, 2, 2, "save FILE or status FILE");
    if (inv.args[0] != "save" && inv.args[0] != "status")
      throw usage_error{"snapshot takes save FILE or status FILE, not '" + inv.args[0] + "'"};
  } else {
    expect_args(inv, 1, 1, "KEY");
  }
}

ctl::lock_args lock_args_of(const invocation& inv) {
  if (inv.after_dashes.empty())
    throw usage_error{"'lock' needs a command to run after '--' (lock NAME -- CMD ARGS...)"};
  ctl::lock_args lock;
  lock.name = inv.args[0];
  lock.shared = inv.shared;
  lock.wait_s = inv.wait_s;
  lock.ttl_s = inv.ttl_s;
  lock.lock_delay_s = inv.lock_delay_s;
  lock.command = inv.after_dashes;
  lock.json = inv.json;
  lock.timeout_s = inv.timeout_s;
  auto ms = [](double s) { return std::chrono::milliseconds(std::llround(s * 1000)); };
  if (inv.jeopardy_margin_s)
    lock.jeopardy_margin = ms(*inv.jeopardy_margin_s);
  if (inv.kill_grace_s)
    lock.kill_grace = ms(*inv.kill_grace_s);
  auto bad =
    ctl::settle_lock_timing(lock, inv.jeopardy_margin_s.has_value(), inv.kill_grace_s.has_value());
  if (!bad.empty())
    throw usage_error{bad};
  return lock;
}

/// Where and how to reach the cluster; reads the passwords last, as that
/// may read stdin.
client::options client_options_of(invocation& inv) {
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
  if (inv.cert.empty() != inv.key.empty())
    throw usage_error{"--cert and --key go together"};
  if (inv.cacert.empty() && (!inv.cert.empty() || !inv.tls_server_name.empty()))
    throw usage_error{std::string{inv.cert.empty() ? "--tls-server-name" : "--cert"} +
                      " needs --cacert (the CA that signed the nodes' certificates)"};
  opts.tls.ca_file = inv.cacert;
  opts.tls.cert_file = inv.cert;
  opts.tls.key_file = inv.key;
  opts.tls.server_name = inv.tls_server_name;
  settle_passwords(inv);  // after every usage check: it may read stdin
  opts.user = inv.user;
  opts.password = inv.password.value_or("");
  return opts;
}

/// The key/value commands: put, get, delete, list.
int run_kv(const invocation& inv, client::client& c) {
  ctl::output out{inv.json, inv.timeout_s};
  auto& cmd = inv.command;
  auto key = inv.args.empty() ? std::string{} : inv.args[0];
  if (cmd == "put") {
    std::optional<std::string> value;
    if (inv.args.size() == 2 && inv.args[1] != "-")
      value = inv.args[1];
    return ctl::run_put(out, key, value, inv.if_version, c);
  }
  if (cmd == "get")
    return ctl::run_get(out, key, c);
  if (cmd == "delete")
    return ctl::run_delete(out, key, inv.if_version, c);
  return ctl::run_list(out, {key, inv.limit, inv.values}, c);
}

int run(invocation& inv) {
  auto& cmd = inv.command;
  bool is_auth = ctl::is_auth_command(cmd);
  if (!is_auth && cmd != "status" && cmd != "put" && cmd != "get" && cmd != "delete" &&
      cmd != "list" && cmd != "watch" && cmd != "lock" && cmd != "check-token" &&
      cmd != "snapshot" && cmd != "member")
    throw usage_error{"unknown command '" + cmd + "'"};
  check_flags(inv);
  if (inv.if_version && cmd != "put" && cmd != "delete")
    throw usage_error{"--if-version applies to put and delete, not to '" + cmd + "'"};
  if (!is_auth && (inv.new_password || inv.no_password))
    throw usage_error{std::string{inv.new_password ? "--new-password" : "--no-password"} +
                      " applies to user add and user passwd, not to '" + cmd + "'"};
  ctl::auth_args auth{cmd, inv.args, inv.new_password, inv.no_password};
  check_args(inv, auth);
  if (cmd == "snapshot" && inv.args[0] == "status")  // a file only: no cluster, no credentials
    return ctl::run_snapshot_status({inv.json, inv.timeout_s}, inv.args[1]);
  ctl::lock_args lock;
  if (cmd == "lock")
    lock = lock_args_of(inv);
  std::uint64_t token = 0;
  if (cmd == "check-token")
    token = parse_version("TOKEN", inv.args[1]);
  auto opts = client_options_of(inv);
  auth.new_password = inv.new_password;
  client::client c{opts};  // an unusable TLS file: invalid_argument naming it, exit 2

  if (cmd == "status")
    return run_status(inv, c);
  if (cmd == "check-token")
    return ctl::run_check_token(inv.args[0], token, inv.json, c);
  if (cmd == "watch")
    return ctl::run_watch({inv.args[0], inv.prefix, inv.count, inv.from_revision, inv.json}, c);
  if (cmd == "lock")
    return ctl::run_lock(lock, c);
  ctl::output out{inv.json, inv.timeout_s};
  if (cmd == "snapshot")
    return ctl::run_snapshot_save(out, inv.args[1], c);
  if (cmd == "member")
    return ctl::run_member(out, inv.args, inv.member_peer, inv.member_client, c);
  if (is_auth)
    return ctl::run_auth(out, auth, c);
  return run_kv(inv, c);
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
