#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/log/log_format.hpp"

namespace ballot::ballotd {

/// A host and port, as written on the command line ("127.0.0.1:7401").
struct endpoint {
  std::string host;
  std::uint16_t port = 0;

  std::string to_string() const { return host + ":" + std::to_string(port); }
};

/// Parses "host:port"; nullopt if malformed or the port is not 1..65535.
std::optional<endpoint> parse_endpoint(const std::string& text);

/// Everything ballotd is told to do. Pure data: parsed and validated
/// without touching the network or the disk.
struct options {
  /// No --id/--peers: one process hosts a whole three-replica cluster.
  bool embedded = true;
  std::uint32_t id = 0;
  /// Every member's node-to-node address, this node's included.
  std::map<std::uint32_t, endpoint> peers;
  /// --join ENDPOINTS: join the running cluster whose client endpoints these
  /// are (README "Changing the membership") instead of bootstrapping one with
  /// --peers; `peer_address` is where this node listens for its peers (and
  /// what the cluster records); --id names the learner an operator added
  /// already (0: the node adds itself). `join_cacert`: the CA of the
  /// cluster's client TLS certificates, if it serves TLS.
  std::string join;
  std::optional<endpoint> peer_address;
  std::string join_cacert;
  /// The Cap'n Proto endpoint for clients.
  endpoint client{"127.0.0.1", 7400};
  std::string data_dir = "ballot-data";
  /// --audit-log: where the gateway appends one line per authentication
  /// failure, permission denial and user or role change; "" = nowhere.
  std::string audit_log;
  /// Length of one Paxos tick; timeouts are counted in ticks.
  std::uint32_t tick_ms = 10;
  /// Longest a client call waits inside this node for the cluster (queueing,
  /// forwarding and retries included) before it is answered `unavailable`.
  std::uint32_t request_timeout_ms = 5000;
  /// Past this many bytes of keys and values, puts are refused
  /// (quotaExceeded); deletes, reads, sessions and locks go on. 0: none.
  /// 2 GiB like etcd: a snapshot file holds the state in chunks of any total.
  std::uint64_t quota_bytes = std::uint64_t{2} << 30;
  /// Caps on live sessions and on one lock's waiters (limitReached).
  std::uint64_t max_sessions = 250'000;
  std::uint64_t max_waiters_per_lock = 10'000;
  /// Client connections in all and from one address.
  std::uint64_t max_connections = 4096;
  std::uint64_t max_connections_per_address = 256;
  /// TLS on the client endpoint (PEM file paths; README "Securing a
  /// cluster"): --client-cert with --client-key turn it on; --client-cacert
  /// is the CA of client certificates, which --client-cert-auth requires.
  /// Read and checked by client_service, so a bad file exits 2 naming it.
  std::string client_cacert;
  std::string client_cert;
  std::string client_key;
  bool client_cert_auth = false;
  /// Peer TLS, all three or none: the cluster CA, this member's certificate
  /// (CN and SAN DNS `member-<id>`) and its key (PEM files).
  std::string peer_cacert, peer_cert, peer_key;
  /// Run the peer port without TLS although --peers are not all loopback.
  bool insecure_peers = false;
  bool peer_tls() const { return !peer_cacert.empty(); }
  /// --metrics: where /metrics, /health, /status and the status page are
  /// served (README "Metrics and health"). `parse_options` sets
  /// 127.0.0.1:7480 for the embedded default; a cluster node serves none
  /// unless told; "off" turns it off. `metrics_required`: it was asked for,
  /// so failing to listen is a usage error (the embedded default only warns).
  std::optional<endpoint> metrics;
  bool metrics_required = false;
  /// Cluster identity (README "Cluster identity"): at bootstrap the id is
  /// SHA-256 of --cluster-token and the sorted member ids, unless --cluster-id
  /// gives it (64 hex digits, kept here as given).
  std::string cluster_token;
  std::string cluster_id;
  /// --restore FILE: initialise the (empty) data directory from a backup
  /// (README "Backup and restore") before starting.
  std::string restore;
  /// --log-level and --log-format (README "Logs"): what goes to stderr.
  logging::level log_level = logging::level::info;
  logging::format log_format = logging::format::text;
  /// A sync of the log slower than this is logged as a warning; 0: never.
  std::uint32_t slow_fsync_ms = 100;
  /// Slots between snapshots of the state machine (a checkpoint of the log).
  std::uint64_t snapshot_interval = 10000;
  /// --snapshot-chunk-bytes: the chunk size of snapshot files (an advanced
  /// knob; tests set it small so a few MiB of state span many chunks).
  std::uint32_t snapshot_chunk_bytes = std::uint32_t{32} << 20;
  bool help = false;
};

/// A usage error: the message names the flag and the value (exit code 2).
struct usage_error {
  std::string message;
};

/// Parses ballotd's flags; `--config FILE` reads `key = value` lines (keys are
/// the flag names without dashes, `#` starts a comment) and flags win over
/// the file. Returns the options or the first usage error.
struct parse_result {
  std::optional<options> opts;
  std::optional<usage_error> error;
};
parse_result parse_options(const std::vector<std::string>& args);

/// The configuration as log fields, for the one start-up line (event
/// "startup"): the mode, addresses, directories, limits and switches, never a
/// key's contents (only the TLS files' paths).
std::vector<logging::field> describe(const options& o);

/// The text of `ballotd --help`.
const char* usage_text();

}  // namespace ballot::ballotd
