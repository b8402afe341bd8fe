#include "runtime/ballotd/options.hpp"

#include <charconv>
#include <fstream>
#include <set>

namespace ballot::ballotd {

namespace {

const char* usage =
  "usage: ballotd [--id N --peers ID=HOST:PORT,... --client HOST:PORT] [--data-dir DIR]\n"
  "       ballotd --join H:P[,H:P...] --peer-address HOST:PORT --client HOST:PORT\n"
  "               --data-dir DIR [--id N] [--join-cacert FILE]\n"
  "               [--config FILE] [--tick-ms MS] [--quota-bytes N] [--max-sessions N]\n"
  "               [--audit-log FILE] [--metrics HOST:PORT|off]\n"
  "               [--max-waiters-per-lock N] [--max-connections N]\n"
  "               [--max-connections-per-address N]\n"
  "               [--client-cert FILE --client-key FILE [--client-cacert FILE]\n"
  "                [--client-cert-auth]]\n"
  "               [--peer-cacert FILE --peer-cert FILE --peer-key FILE | --insecure-peers]\n"
  "               [--cluster-token TEXT | --cluster-id HEX] [--restore FILE]\n"
  "               [--log-level LEVEL] [--log-format text|json] [--slow-fsync-ms MS]\n"
  "               [--snapshot-interval SLOTS] [--snapshot-chunk-bytes N]\n"
  "               [--request-timeout-ms MS]\n"
  "\n"
  "Runs one node of a Ballot cluster. Without --id and --peers it runs the embedded\n"
  "default: a whole three-replica cluster in this process, state in ./ballot-data,\n"
  "clients served on 127.0.0.1:7400.\n"
  "\n"
  "  --id N                 this node's id (must appear in --peers)\n"
  "  --peers LIST           every member: 1=127.0.0.1:7411,2=127.0.0.1:7412,...\n"
  "                         a node listens for its peers on its own entry's address\n"
  "                         (--peers stays the bootstrap list for the cluster's life;\n"
  "                         later members come and go with ballotctl member ...)\n"
  "  --join LIST            join the running cluster at these client endpoints: the\n"
  "                         node adds itself as a learner (or takes the learner --id N\n"
  "                         that `ballotctl member add` made), learns the members and\n"
  "                         catches up; promote it with `ballotctl member promote`.\n"
  "                         Needs an empty --data-dir the first time; later starts\n"
  "                         read DIR/join and need the cluster for nothing\n"
  "  --peer-address H:P     with --join: where this node listens for its peers\n"
  "  --join-cacert FILE     with --join: the CA of the cluster's client certificates\n"
  "  --client HOST:PORT     Cap'n Proto endpoint for clients (default 127.0.0.1:7400)\n"
  "  --data-dir DIR         durable state (default ./ballot-data, or ./ballot-data/<id>)\n"
  "  --audit-log FILE       append one line per authentication failure, permission\n"
  "                         denial and user or role change (README, \"Users, roles and\n"
  "                         permissions\"); a file that cannot be opened exits 2\n"
  "  --metrics HOST:PORT    serve /metrics (Prometheus), /health, /status (JSON) and a\n"
  "                         status page at / over HTTP; off by default for a cluster\n"
  "                         node, 127.0.0.1:7480 for the embedded default; `off` turns\n"
  "                         it off. Anyone who reaches it sees the cluster's state:\n"
  "                         keep it on a loopback or operators' address\n"
  "  --config FILE          the same keys as `key = value` lines; flags win over the file\n"
  "  --tick-ms MS           length of a consensus tick (default 10)\n"
  "  --request-timeout-ms MS  longest a client call waits in this node for the\n"
  "                         cluster, queueing and forwarding included, before it\n"
  "                         is answered unavailable (default 5000)\n"
  "  --log-level LEVEL      trace, debug, info, warn, error or off (default info):\n"
  "                         the least severe log line written to stderr\n"
  "  --log-format FORMAT    text (default) or json: one JSON object a line with ts,\n"
  "                         level, msg and the event's fields\n"
  "  --slow-fsync-ms MS     warn when one sync of the log takes longer (default 100;\n"
  "                         0 never warns)\n"
  "  --snapshot-interval SLOTS  slots between snapshots of the state (default 10000)\n"
  "  --snapshot-chunk-bytes N  advanced: snapshot files hold the state in chunks of N\n"
  "                         bytes, each with its own CRC (default 33554432 = 32 MiB,\n"
  "                         1024..1073741824); files of any chunk size are read\n"
  "  --quota-bytes N        past N bytes of keys and values, puts are refused with\n"
  "                         quotaExceeded; deletes, reads, sessions and locks go on\n"
  "                         (default 2147483648 = 2 GiB, at most 274877906944 =\n"
  "                         256 GiB; the state is held in memory, and a checkpoint\n"
  "                         encodes one more copy of it: leave RAM for three)\n"
  "  --max-sessions N       live sessions in the cluster (default 250000)\n"
  "  --max-waiters-per-lock N  waiting acquires on one lock (default 10000)\n"
  "  --max-connections N    client connections in all (default 4096)\n"
  "  --max-connections-per-address N  from one client address (default 256)\n"
  "  --client-cert FILE     TLS on the client endpoint: this node's certificate (PEM,\n"
  "                         a chain leaf first; its subjectAltName must carry the DNS\n"
  "                         name clients dial or check)\n"
  "  --client-key FILE      the certificate's private key (PEM, unencrypted)\n"
  "  --client-cacert FILE   the CA (PEM) that signs client certificates\n"
  "  --client-cert-auth     require a client certificate signed by --client-cacert;\n"
  "                         its common name identifies the client\n"
  "  --peer-cacert FILE     peer TLS: the cluster CA; members accept only certificates\n"
  "                         it signed, with common name member-<id> of a member\n"
  "  --peer-cert FILE       peer TLS: this member's certificate (CN and SAN DNS\n"
  "                         member-<id>); --peer-key FILE: its private key\n"
  "  --insecure-peers       no peer TLS although --peers are not all loopback: any\n"
  "                         host that reaches the peer port can act as a member\n"
  "  --cluster-token TEXT   at bootstrap the cluster id is SHA-256 of this and the\n"
  "                         sorted member ids of --peers (give each cluster its own\n"
  "                         token); kept in <data-dir>/cluster-id. Peers of another\n"
  "                         cluster are refused (drop reason foreign_cluster)\n"
  "  --cluster-id HEX       the cluster id itself (64 hex digits), instead\n"
  "  --restore FILE         initialise an empty --data-dir from a backup made with\n"
  "                         `ballotctl snapshot save`, as a member of a NEW cluster\n"
  "                         (id from the backup's id and checksum); then start\n"
  "\n"
  "Prints `ballotd ready id=<id> client=<host:port>` once it serves. SIGINT/SIGTERM\n"
  "stop it cleanly. Exit codes: 0 clean stop, 2 bad flags or config (a data\n"
  "directory of another cluster id, a non-empty one for --restore), 3 unusable or\n"
  "corrupt data directory (or backup file).\n";

template <class T>
bool parse_number(const std::string& text, T& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && ptr == text.data() + text.size() && !text.empty();
}

usage_error bad(const std::string& flag, const std::string& value, const std::string& why) {
  return usage_error{"invalid value '" + value + "' for --" + flag + ": " + why};
}

/// --peers ID=HOST:PORT,...
std::optional<usage_error> apply_peers(options& o, const std::string& key,
                                       const std::string& value) {
  o.peers.clear();
  std::size_t start = 0;
  while (start <= value.size()) {
    auto end = value.find(',', start);
    auto item = value.substr(start, end == std::string::npos ? std::string::npos : end - start);
    auto eq = item.find('=');
    std::uint32_t id = 0;
    auto ep = eq == std::string::npos ? std::nullopt : parse_endpoint(item.substr(eq + 1));
    if (eq == std::string::npos || !parse_number(item.substr(0, eq), id) || id == 0 || !ep)
      return bad(key, value, "expected ID=HOST:PORT,... but got '" + item + "'");
    if (!o.peers.emplace(id, *ep).second)
      return bad(key, value, "id " + std::to_string(id) + " appears twice");
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  return std::nullopt;
}

// Each apply_* below takes the keys of one group: false for a key not of
// its group, else true with `error` set when the value is refused.

/// Who the node is, which cluster, and where it listens.
bool apply_cluster(options& o, const std::string& key, const std::string& value,
                   std::optional<usage_error>& error) {
  if (key == "id") {
    if (!parse_number(value, o.id) || o.id == 0)
      error = bad(key, value, "expected a positive integer");
  } else if (key == "peers") {
    error = apply_peers(o, key, value);
  } else if (key == "join") {
    if (value.empty())
      error = bad(key, value, "expected the client endpoints HOST:PORT,... of the cluster");
    else
      o.join = value;
  } else if (key == "peer-address" || key == "client") {
    auto ep = parse_endpoint(value);
    if (!ep)
      error = bad(key, value, "expected HOST:PORT with a port in 1..65535");
    else if (key == "client")
      o.client = *ep;
    else
      o.peer_address = *ep;
  } else if (key == "metrics") {
    if (value == "off") {
      o.metrics.reset();
      o.metrics_required = false;
    } else if (auto ep = parse_endpoint(value)) {
      o.metrics = *ep;
      o.metrics_required = true;
    } else {
      error = bad(key, value, "expected HOST:PORT with a port in 1..65535, or off");
    }
  } else if (key == "cluster-token") {
    o.cluster_token = value;
  } else if (key == "cluster-id") {
    bool hex =
      value.size() == 64 && value.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
    if (!hex)
      error = bad(key, value, "expected 64 hex digits");
    else
      o.cluster_id = value;
  } else {
    return false;
  }
  return true;
}

/// The data directory, the logs and the replica's timing and sizes.
bool apply_storage(options& o, const std::string& key, const std::string& value,
                   std::optional<usage_error>& error) {
  if (key == "data-dir" || key == "audit-log" || key == "restore") {
    if (value.empty())
      error = bad(key, value,
                  key == "data-dir"    ? "must not be empty"
                  : key == "audit-log" ? "expected the path of a file to append to"
                                       : "expected the path of a backup file");
    else
      (key == "data-dir" ? o.data_dir : key == "audit-log" ? o.audit_log : o.restore) = value;
  } else if (key == "log-level") {
    if (auto lvl = logging::parse_level(value))
      o.log_level = *lvl;
    else
      error = bad(key, value, "expected trace, debug, info, warn, error or off");
  } else if (key == "log-format") {
    if (auto f = logging::parse_format(value))
      o.log_format = *f;
    else
      error = bad(key, value, "expected text or json");
  } else if (key == "slow-fsync-ms") {
    if (!parse_number(value, o.slow_fsync_ms) || o.slow_fsync_ms > 3'600'000)
      error = bad(key, value, "expected milliseconds in 0..3600000");
  } else if (key == "snapshot-interval") {
    if (!parse_number(value, o.snapshot_interval) || o.snapshot_interval < 10 ||
        o.snapshot_interval > 100'000'000)
      error = bad(key, value, "expected a number of slots in 10..100000000");
  } else if (key == "tick-ms") {
    if (!parse_number(value, o.tick_ms) || o.tick_ms == 0 || o.tick_ms > 10000)
      error = bad(key, value, "expected milliseconds in 1..10000");
  } else if (key == "request-timeout-ms") {
    if (!parse_number(value, o.request_timeout_ms) || o.request_timeout_ms < 100 ||
        o.request_timeout_ms > 600'000)
      error = bad(key, value, "expected milliseconds in 100..600000");
  } else if (key == "quota-bytes") {
    // 0 ("no quota") is refused too: the state lives in memory, so it needs a
    // bound. The cap is no format's limit (snapshot files hold any size) but
    // a sanity check: past it a typo, not a plan.
    if (!parse_number(value, o.quota_bytes) || o.quota_bytes == 0 ||
        o.quota_bytes > (std::uint64_t{256} << 30))
      error = bad(key, value, "expected a number of bytes in 1..274877906944 (256 GiB)");
  } else if (key == "snapshot-chunk-bytes") {
    if (!parse_number(value, o.snapshot_chunk_bytes) || o.snapshot_chunk_bytes < 1024 ||
        o.snapshot_chunk_bytes > (std::uint32_t{1} << 30))
      error = bad(key, value, "expected a number of bytes in 1024..1073741824 (1 GiB)");
  } else {
    return false;
  }
  return true;
}

/// The budgets in counts: sessions, waiters, connections.
bool apply_limits(options& o, const std::string& key, const std::string& value,
                  std::optional<usage_error>& error) {
  if (key != "max-sessions" && key != "max-waiters-per-lock" && key != "max-connections" &&
      key != "max-connections-per-address")
    return false;
  auto& field = key == "max-sessions"           ? o.max_sessions
                : key == "max-waiters-per-lock" ? o.max_waiters_per_lock
                : key == "max-connections"      ? o.max_connections
                                                : o.max_connections_per_address;
  if (!parse_number(value, field) || field == 0 || field > 100'000'000)
    error = bad(key, value, "expected a positive integer up to 100000000");
  return true;
}

/// TLS on the client endpoint and the peer port.
bool apply_tls(options& o, const std::string& key, const std::string& value,
               std::optional<usage_error>& error) {
  if (key == "client-cacert" || key == "client-cert" || key == "client-key" ||
      key == "join-cacert") {
    if (value.empty())
      error = bad(key, value, "expected the path of a PEM file");
    else
      (key == "client-cacert" ? o.client_cacert
       : key == "client-cert" ? o.client_cert
       : key == "client-key"  ? o.client_key
                              : o.join_cacert) = value;
  } else if (key == "peer-cacert" || key == "peer-cert" || key == "peer-key") {
    if (value.empty())
      error = bad(key, value, "expected a file name");
    else
      (key == "peer-cacert" ? o.peer_cacert
       : key == "peer-cert" ? o.peer_cert
                            : o.peer_key) = value;
  } else if (key == "client-cert-auth" || key == "insecure-peers") {
    if (value != "true" && value != "false")
      error = bad(key, value, "expected true or false (or the flag alone)");
    else
      (key == "client-cert-auth" ? o.client_cert_auth : o.insecure_peers) = value == "true";
  } else {
    return false;
  }
  return true;
}

/// Applies one key to `o`; the key is a flag name without dashes.
std::optional<usage_error> apply(options& o, const std::string& key, const std::string& value,
                                 std::set<std::string>& seen) {
  seen.insert(key);
  std::optional<usage_error> error;
  if (apply_cluster(o, key, value, error) || apply_storage(o, key, value, error) ||
      apply_limits(o, key, value, error) || apply_tls(o, key, value, error))
    return error;
  return usage_error{"unknown option --" + key};
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string{} : s.substr(b, e - b + 1);
}

std::optional<usage_error> read_config(const std::string& path, options& o,
                                       std::set<std::string>& seen) {
  std::ifstream in(path);
  if (!in)
    return bad("config", path, "cannot read the file");
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    line = trim(line.substr(0, line.find('#')));
    if (line.empty())
      continue;
    auto eq = line.find('=');
    if (eq == std::string::npos)
      return usage_error{path + ":" + std::to_string(number) + ": expected `key = value`, got '" +
                         line + "'"};
    if (auto err = apply(o, trim(line.substr(0, eq)), trim(line.substr(eq + 1)), seen))
      return usage_error{path + ":" + std::to_string(number) + ": " + err->message};
  }
  return std::nullopt;
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1" || host == "[::1]";
}

/// Peer TLS takes all three files; a cluster whose members are not all on
/// this host needs it, or an explicit --insecure-peers.
std::optional<usage_error> check_peer_security(const options& o) {
  int given = !o.peer_cacert.empty() + !o.peer_cert.empty() + !o.peer_key.empty();
  if (given != 0 && given != 3)
    return usage_error{
      "peer TLS needs all three of --peer-cacert, --peer-cert and --peer-key (missing " +
      std::string{o.peer_cacert.empty() ? "--peer-cacert"
                  : o.peer_cert.empty() ? "--peer-cert"
                                        : "--peer-key"} +
      ")"};
  if (given == 3 || o.insecure_peers)
    return std::nullopt;
  if (o.peer_address && !is_loopback(o.peer_address->host))
    return usage_error{"--peer-address " + o.peer_address->to_string() +
                       " is not loopback: the peer port needs TLS (--peer-cacert, --peer-cert, "
                       "--peer-key), or --insecure-peers to run without it"};
  for (auto& [id, where] : o.peers)
    if (!is_loopback(where.host))
      return usage_error{"member " + std::to_string(id) + " in --peers is at " + where.host +
                         ", not loopback: the peer port needs TLS (--peer-cacert, --peer-cert, "
                         "--peer-key), or --insecure-peers to run without it"};
  return std::nullopt;
}

}  // namespace

std::optional<endpoint> parse_endpoint(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return std::nullopt;
  std::uint32_t port = 0;
  if (!parse_number(text.substr(colon + 1), port) || port == 0 || port > 65535)
    return std::nullopt;
  return endpoint{text.substr(0, colon), static_cast<std::uint16_t>(port)};
}

std::vector<logging::field> describe(const options& o) {
  using logging::field;
  std::vector<field> f{field{"event", "startup"},
                       field{"mode", o.embedded ? "embedded" : "member"}};
  if (!o.embedded) {
    f.emplace_back("id", o.id);
    if (!o.join.empty()) {
      f.emplace_back("join", o.join);
      f.emplace_back("peer_address", o.peer_address->to_string());
    }
    std::string peers;
    for (auto& [id, where] : o.peers)
      peers += (peers.empty() ? "" : ",") + std::to_string(id) + "=" + where.to_string();
    f.emplace_back("peers", peers);
    f.emplace_back("peer_tls", o.peer_tls() ? "on" : o.insecure_peers ? "insecure" : "loopback");
  }
  f.emplace_back("client", o.client.to_string());
  f.emplace_back("client_tls", o.client_cert.empty() ? "off"
                               : o.client_cert_auth  ? "client-cert-auth"
                                                     : "on");
  f.emplace_back("data_dir", o.data_dir);
  f.emplace_back("metrics", o.metrics ? o.metrics->to_string() : "off");
  f.emplace_back("tick_ms", o.tick_ms);
  f.emplace_back("request_timeout_ms", o.request_timeout_ms);
  f.emplace_back("snapshot_interval", o.snapshot_interval);
  f.emplace_back("quota_bytes", o.quota_bytes);
  f.emplace_back("snapshot_chunk_bytes", o.snapshot_chunk_bytes);
  f.emplace_back("max_sessions", o.max_sessions);
  f.emplace_back("max_connections", o.max_connections);
  f.emplace_back("audit_log", o.audit_log.empty() ? "off" : o.audit_log);
  f.emplace_back("log_level", logging::name_of(o.log_level));
  f.emplace_back("log_format", o.log_format == logging::format::json ? "json" : "text");
  f.emplace_back("slow_fsync_ms", o.slow_fsync_ms);
  return f;
}

const char* usage_text() {
  return usage;
}

namespace {

/// The command line as keys and values, --config apart.
struct raw_args {
  std::vector<std::pair<std::string, std::string>> flags;
  std::optional<std::string> config;
  bool help = false;
};

std::optional<usage_error> split_args(const std::vector<std::string>& args, raw_args& out) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "--help" || a == "-h") {
      out.help = true;
      return std::nullopt;
    }
    if (a.rfind("--", 0) != 0)
      return usage_error{"unexpected argument '" + a + "'"};
    auto key = a.substr(2);
    std::string value;
    if (auto eq = key.find('='); eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    } else if (key == "client-cert-auth" || key == "insecure-peers") {
      value = "true";  // a switch: it takes no value on the command line
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return usage_error{"missing value for --" + key};
    }
    if (key == "config")
      out.config = value;
    else
      out.flags.emplace_back(key, value);
  }
  return std::nullopt;
}

std::optional<usage_error> check_client_tls(const options& o) {
  if (o.client_cert.empty() != o.client_key.empty())
    return usage_error{
      "--client-cert and --client-key go together (TLS on the client endpoint needs both)"};
  if (!o.client_cacert.empty() && o.client_cert.empty())
    return usage_error{
      "--client-cacert needs --client-cert and --client-key (client "
      "certificates need TLS on the client endpoint)"};
  if (o.client_cert_auth && o.client_cacert.empty())
    return usage_error{
      "--client-cert-auth needs --client-cacert (the CA that signs client certificates)"};
  return std::nullopt;
}

/// A node that joins a running cluster (--join).
std::optional<usage_error> check_join(const options& o, const std::set<std::string>& seen) {
  if (seen.count("peers") != 0)
    return usage_error{
      "--join and --peers exclude each other: --peers bootstraps a new "
      "cluster, --join joins a running one"};
  if (!o.peer_address)
    return usage_error{
      "--join needs --peer-address HOST:PORT (where the other members reach this node)"};
  if (seen.count("client") == 0 || seen.count("data-dir") == 0)
    return usage_error{"--join needs --client HOST:PORT and --data-dir DIR"};
  if (!o.restore.empty() || !o.cluster_id.empty() || !o.cluster_token.empty())
    return usage_error{
      "--restore, --cluster-id and --cluster-token do not go with --join (the "
      "node learns the cluster's id)"};
  return check_peer_security(o);
}

/// A member of a cluster bootstrapped by --peers.
std::optional<usage_error> check_member(options& o, const std::set<std::string>& seen) {
  if (seen.count("id") == 0)
    return usage_error{"--peers needs --id (which member is this node?)"};
  if (seen.count("peers") == 0)
    return usage_error{"--id needs --peers (who are the members?)"};
  if (o.peers.count(o.id) == 0)
    return bad("id", std::to_string(o.id), "not a member of --peers");
  if (seen.count("client") == 0)
    return usage_error{"a cluster node needs --client HOST:PORT for its clients"};
  if (seen.count("data-dir") == 0)
    o.data_dir = "ballot-data/" + std::to_string(o.id);
  return check_peer_security(o);
}

/// Which kind of node the flags make (embedded, joining, member), and
/// whether they fit it.
std::optional<usage_error> check_kind(options& o, const std::set<std::string>& seen) {
  bool joins = seen.count("join") != 0;
  o.embedded = seen.count("id") == 0 && seen.count("peers") == 0 && !joins;
  if (!joins && (o.peer_address || !o.join_cacert.empty()))
    return usage_error{std::string{o.peer_address ? "--peer-address" : "--join-cacert"} +
                       " applies to --join (with --peers, a node listens on its own entry's "
                       "address)"};
  if (joins)
    return check_join(o, seen);
  if (o.embedded && seen.count("metrics") == 0)
    o.metrics = endpoint{"127.0.0.1", 7480};
  if (!o.cluster_id.empty() && !o.cluster_token.empty())
    return usage_error{
      "--cluster-id and --cluster-token exclude each other (the token only derives an id)"};
  if (o.embedded && (!o.restore.empty() || !o.cluster_id.empty() || !o.cluster_token.empty()))
    return usage_error{
      "--restore, --cluster-id and --cluster-token need a cluster node (--id and --peers)"};
  if (o.embedded)
    return std::nullopt;
  return check_member(o, seen);
}

}  // namespace

parse_result parse_options(const std::vector<std::string>& args) {
  options o;
  raw_args raw;
  if (auto err = split_args(args, raw))
    return {std::nullopt, err};
  if (raw.help) {
    o.help = true;
    return {o, std::nullopt};
  }
  std::set<std::string> seen;
  if (raw.config)
    if (auto err = read_config(*raw.config, o, seen))
      return {std::nullopt, err};
  for (auto& [key, value] : raw.flags)
    if (auto err = apply(o, key, value, seen))
      return {std::nullopt, err};
  if (auto err = check_client_tls(o))
    return {std::nullopt, err};
  if (auto err = check_kind(o, seen))
    return {std::nullopt, err};
  return {o, std::nullopt};
}

}  // namespace ballot::ballotd
