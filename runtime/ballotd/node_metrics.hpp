#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "actors/replica/replica_probe.hpp"
#include "runtime/metrics/registry.hpp"
#include "runtime/peer/peer_policy.hpp"

namespace ballot::gateway {
class gateway_metrics;
}

namespace ballot::ballotd {

/// A lock as the status page shows it: who holds it and who waits, by
/// session id and mode. Never a fencing token or a session secret.
struct lock_view {
  struct party {
    std::uint64_t session = 0;
    bool shared = false;
  };
  std::string name;
  std::vector<party> holders;
  std::vector<party> waiters;  ///< in queue order
  std::size_t more_holders = 0;
  std::size_t more_waiters = 0;
};

/// One local replica as it last showed itself to the probe.
struct replica_facts {
  std::uint32_t id = 0;
  std::string role;  ///< "leader", "candidate", "follower"
  std::optional<std::uint32_t> leader;
  std::uint64_t commit_index = 0;
  std::uint64_t ballot_round = 0;
  std::uint32_t ballot_node = 0;
  std::uint64_t proposals_pending = 0;
};

/// A change of the leader the node's replica follows, for the status page.
struct leader_change {
  std::int64_t at_ms = 0;    ///< wall clock, ms since the epoch
  std::uint32_t leader = 0;  ///< 0: none known
};

/// What the status page shows beyond `ballotctl status`: refreshed by the
/// replicas' probes about once a second.
struct page_facts {
  std::vector<replica_facts> replicas;
  std::uint64_t sessions = 0;
  std::uint64_t locks = 0;
  std::uint64_t holders = 0;
  std::uint64_t waiters = 0;
  /// With authentication on, lock names and session ids are not shown.
  bool auth_enabled = false;
  std::vector<lock_view> locks_shown;  ///< the first locks by name, bounded
  bool locks_truncated = false;
  std::deque<leader_change> changes;  ///< oldest first, bounded
};

/// ballotd's metrics: the registry and every instrument of the node (its
/// replicas, their logs, the gateway, the peers), plus the facts the status
/// page shows. Replicas report through `probe_for` on their own threads;
/// everything here is updated with atomics or under a short lock.
class node_metrics {
 public:
  using duration = std::chrono::steady_clock::duration;

  /// Locks listed on the status page, and holders and waiters per lock.
  static constexpr std::size_t max_locks_shown = 100;
  static constexpr std::size_t max_parties_shown = 20;
  static constexpr std::size_t max_changes_kept = 20;

  node_metrics();
  ~node_metrics();

  metrics::registry& registry() { return registry_; }

  /// The probe of replica `id`; `observed` is the one whose state machine the
  /// node's gateway follows (its locks and sessions are the node's view).
  std::shared_ptr<actors::replica_probe> probe_for(std::uint32_t id, bool observed);

  /// The instruments of one replica's write-ahead log, for the code that
  /// appends to it (one thread): found once, then updated without a lock.
  struct log_instruments {
    metrics::counter& bytes;
    metrics::gauge& segments;
    metrics::counter& snapshots;
    metrics::histogram& snapshot_seconds;
    std::uint64_t bytes_seen = 0;

    /// The log's totals after an append or sync.
    void progress(std::uint64_t bytes_appended, std::size_t segment_count) {
      if (bytes_appended > bytes_seen)
        bytes.inc(bytes_appended - bytes_seen);
      bytes_seen = bytes_appended;
      segments.set(static_cast<double>(segment_count));
    }
    /// A snapshot (a checkpoint of the log) was written, taking `took`.
    void snapshot_written(duration took) {
      snapshots.inc();
      snapshot_seconds.observe(std::chrono::duration<double>(took).count());
    }
  };
  /// Lives as long as this object.
  log_instruments& log_for(std::uint32_t id);

  /// The gateway's instruments (registered here).
  std::shared_ptr<gateway::gateway_metrics> gateway() const { return gateway_; }

  /// A peer probe's outcome: `rtt` when the peer answered, nullopt when not.
  void peer_probed(std::uint32_t peer, std::optional<duration> rtt);

  page_facts facts() const;

  /// Adds the peer transport's state to every scrape: `ballot_peer_link_up`
  /// per peer from `connected`, `ballot_peer_frames_dropped_total` per reason
  /// from `dropped`. Both are called at scrape time and must be thread-safe.
  void watch_transport(std::vector<std::uint32_t> peers,
                       std::function<bool(std::uint32_t)> connected,
                       std::function<std::uint64_t(peer::drop_reason)> dropped);

 private:
  class probe;
  friend class probe;

  struct per_replica;
  per_replica& replica(std::uint32_t id);

  metrics::registry registry_;
  std::shared_ptr<gateway::gateway_metrics> gateway_;
  metrics::family<metrics::gauge>& role_;
  metrics::family<metrics::gauge>& has_leader_;
  metrics::family<metrics::counter>& leader_changes_;
  metrics::family<metrics::gauge>& ballot_round_;
  metrics::family<metrics::gauge>& commit_index_;
  metrics::family<metrics::gauge>& applied_index_;
  metrics::family<metrics::gauge>& pending_;
  metrics::family<metrics::gauge>& pending_bytes_;
  metrics::family<metrics::histogram>& batch_;
  metrics::family<metrics::histogram>& commit_seconds_;
  metrics::family<metrics::histogram>& fsync_seconds_;
  metrics::family<metrics::histogram>& read_seconds_;
  metrics::family<metrics::counter>& wal_bytes_;
  metrics::family<metrics::gauge>& wal_segments_;
  metrics::family<metrics::counter>& snapshots_;
  metrics::family<metrics::histogram>& snapshot_seconds_;
  metrics::gauge& sessions_;
  metrics::gauge& locks_;
  metrics::gauge& holders_;
  metrics::gauge& waiters_;
  metrics::gauge& state_bytes_;
  metrics::family<metrics::gauge>& peer_up_;
  metrics::family<metrics::gauge>& peer_rtt_;
  metrics::family<metrics::counter>& peer_failures_;
  std::map<std::uint32_t, std::unique_ptr<log_instruments>> logs_;

  mutable std::mutex mutex_;
  std::map<std::uint32_t, std::unique_ptr<per_replica>> replicas_;
  page_facts facts_;
};

}  // namespace ballot::ballotd
