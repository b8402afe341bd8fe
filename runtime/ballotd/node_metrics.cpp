#include "runtime/ballotd/node_metrics.hpp"

#include <algorithm>
#include <string>

#include "actors/paxos/replica.hpp"
#include "actors/service/service_machine.hpp"
#include "runtime/gateway/gateway_metrics.hpp"

namespace ballot::ballotd {

namespace {

double seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

const char* role_name(paxos::proposer::role r) {
  switch (r) {
    case paxos::proposer::role::leader:
      return "leader";
    case paxos::proposer::role::candidate:
      return "candidate";
    case paxos::proposer::role::follower:
      return "follower";
  }
  return "follower";
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// The lock service's counts and the first locks by name, for the page.
void read_locks(const service::service_machine& m, page_facts& out) {
  auto& svc = m.locks();
  out.sessions = svc.sessions().sessions().size();
  out.auth_enabled = m.auth().enabled();
  out.locks = 0;
  out.holders = 0;
  out.waiters = 0;
  out.locks_shown.clear();
  out.locks_truncated = false;
  for (auto& [name, l] : svc.locks().locks()) {
    if (l.holders.empty() && l.waiters.empty())
      continue;
    ++out.locks;
    out.holders += l.holders.size();
    out.waiters += l.waiters.size();
    if (out.auth_enabled)
      continue;  // names and sessions are the users' business
    if (out.locks_shown.size() >= node_metrics::max_locks_shown) {
      out.locks_truncated = true;
      continue;
    }
    lock_view v;
    v.name = name;
    for (auto& h : l.holders) {
      if (v.holders.size() >= node_metrics::max_parties_shown) {
        ++v.more_holders;
        continue;
      }
      v.holders.push_back({h.session, h.mode == lock::lock_mode::shared});
    }
    for (auto& w : l.waiters) {
      if (v.waiters.size() >= node_metrics::max_parties_shown) {
        ++v.more_waiters;
        continue;
      }
      v.waiters.push_back({w.session, w.mode == lock::lock_mode::shared});
    }
    out.locks_shown.push_back(std::move(v));
  }
}

}  // namespace

/// One replica's series, found once so that the probe updates them lock-free.
struct node_metrics::per_replica {
  std::uint32_t id = 0;
  bool observed = false;
  metrics::gauge* role[3] = {};
  metrics::gauge* has_leader = nullptr;
  metrics::counter* leader_changes = nullptr;
  metrics::gauge* ballot_round = nullptr;
  metrics::gauge* commit = nullptr;
  metrics::gauge* applied = nullptr;
  metrics::gauge* pending = nullptr;
  metrics::gauge* pending_bytes = nullptr;
  metrics::histogram* batch = nullptr;
  metrics::histogram* commit_seconds = nullptr;
  metrics::histogram* fsync_seconds = nullptr;
  metrics::histogram* read_seconds = nullptr;
  /// Whether the first leader report was seen (it is no change).
  bool seen_leader = false;
};

class node_metrics::probe final : public actors::replica_probe {
 public:
  probe(node_metrics& owner, per_replica& r) : owner_(owner), r_(r) {}

  void on_sync(duration took) override { r_.fsync_seconds->observe(seconds(took)); }
  void on_commit(duration took) override { r_.commit_seconds->observe(seconds(took)); }
  void on_read(duration took) override { r_.read_seconds->observe(seconds(took)); }
  void on_batch(std::size_t commands) override { r_.batch->observe(static_cast<double>(commands)); }

  void on_leader_change(std::optional<paxos::node_id> leader) override {
    r_.has_leader->set(leader ? 1 : 0);
    // Losing a leader is not a change yet; a different (or first) one is.
    if (!leader)
      return;
    if (r_.seen_leader)
      r_.leader_changes->inc();
    r_.seen_leader = true;
    if (!r_.observed)
      return;
    std::lock_guard<std::mutex> guard{owner_.mutex_};
    auto& changes = owner_.facts_.changes;
    changes.push_back({wall_ms(), *leader});
    while (changes.size() > max_changes_kept)
      changes.pop_front();
  }

  void on_observe(const paxos::replica& core, const paxos::state_machine& sm) override {
    auto role = core.role();
    for (int i = 0; i < 3; ++i)
      r_.role[i]->set(static_cast<int>(role) == i ? 1 : 0);
    r_.ballot_round->set(static_cast<double>(core.promised().round));
    r_.commit->set(static_cast<double>(core.commit_index()));
    r_.applied->set(static_cast<double>(core.commit_index()));
    r_.pending->set(static_cast<double>(core.queued()));
    r_.pending_bytes->set(static_cast<double>(core.queued_bytes()));
    replica_facts f;
    f.id = r_.id;
    f.role = role_name(role);
    f.leader = core.leader_hint();
    f.commit_index = core.commit_index();
    f.ballot_round = core.promised().round;
    f.ballot_node = core.promised().node;
    f.proposals_pending = core.queued();
    page_facts locks;
    auto* machine = r_.observed ? dynamic_cast<const service::service_machine*>(&sm) : nullptr;
    if (machine != nullptr) {
      read_locks(*machine, locks);
      owner_.sessions_.set(static_cast<double>(locks.sessions));
      owner_.locks_.set(static_cast<double>(locks.locks));
      owner_.holders_.set(static_cast<double>(locks.holders));
      owner_.waiters_.set(static_cast<double>(locks.waiters));
      owner_.state_bytes_.set(static_cast<double>(sm.state_bytes()));
    }
    std::lock_guard<std::mutex> guard{owner_.mutex_};
    auto& all = owner_.facts_.replicas;
    auto it = std::find_if(all.begin(), all.end(), [&](auto& x) { return x.id == f.id; });
    if (it == all.end())
      all.push_back(f);
    else
      *it = f;
    std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.id < b.id; });
    if (machine != nullptr) {
      auto& out = owner_.facts_;
      out.sessions = locks.sessions;
      out.locks = locks.locks;
      out.holders = locks.holders;
      out.waiters = locks.waiters;
      out.auth_enabled = locks.auth_enabled;
      out.locks_shown = std::move(locks.locks_shown);
      out.locks_truncated = locks.locks_truncated;
    }
  }

 private:
  node_metrics& owner_;
  per_replica& r_;
};

node_metrics::node_metrics()
    : gateway_(std::make_shared<gateway::gateway_metrics>(registry_)),
      role_(registry_.add_gauge("ballot_role",
                                "1 for the role this replica has now (leader, candidate or "
                                "follower), 0 for the others.",
                                {"replica", "role"})),
      has_leader_(registry_.add_gauge("ballot_has_leader",
                                      "1 while the replica knows a leader, else 0.", {"replica"})),
      leader_changes_(registry_.add_counter(
        "ballot_leader_changes_total",
        "Times the leader this replica follows changed to another member.", {"replica"})),
      ballot_round_(registry_.add_gauge(
        "ballot_ballot_round", "Round of the highest ballot this replica promised.", {"replica"})),
      commit_index_(registry_.add_gauge("ballot_commit_index",
                                        "Every slot up to this one is chosen.", {"replica"})),
      applied_index_(registry_.add_gauge(
        "ballot_applied_index",
        "Every slot up to this one is applied to the state machine (a replica applies each "
        "slot as it learns it is chosen, so this equals the commit index).",
        {"replica"})),
      pending_(registry_.add_gauge("ballot_proposals_pending",
                                   "Commands waiting at this leader for a slot.", {"replica"})),
      pending_bytes_(registry_.add_gauge("ballot_proposals_pending_bytes",
                                         "Payload bytes of the commands waiting for a slot.",
                                         {"replica"})),
      batch_(registry_.add_histogram("ballot_proposal_batch_size",
                                     "Commands put into slots at once (group commit).",
                                     metrics::power_of_two_buckets(4096), {"replica"})),
      commit_seconds_(registry_.add_histogram(
        "ballot_commit_duration_seconds",
        "Time from a command's arrival at the replica to its successful reply (chosen, "
        "durable, applied).",
        metrics::latency_buckets(), {"replica"})),
      fsync_seconds_(registry_.add_histogram(
        "ballot_wal_fsync_duration_seconds",
        "Time of one group-commit sync of the write-ahead log (write and fdatasync).",
        metrics::latency_buckets(), {"replica"})),
      read_seconds_(registry_.add_histogram(
        "ballot_read_index_duration_seconds",
        "Time from a linearizable read's arrival to its answer (the leader's read-index round).",
        metrics::latency_buckets(), {"replica"})),
      wal_bytes_(registry_.add_counter("ballot_wal_bytes_total",
                                       "Bytes of records appended to the write-ahead log.",
                                       {"replica"})),
      wal_segments_(registry_.add_gauge(
        "ballot_wal_segments", "Segment files the write-ahead log holds now.", {"replica"})),
      snapshots_(registry_.add_counter("ballot_snapshots_total",
                                       "Snapshots written (checkpoints of the log).", {"replica"})),
      snapshot_seconds_(registry_.add_histogram("ballot_snapshot_duration_seconds",
                                                "Time to write one snapshot and compact the log.",
                                                metrics::latency_buckets(), {"replica"})),
      sessions_(registry_.add_gauge("ballot_sessions", "Live lock-service sessions.").with()),
      locks_(registry_.add_gauge("ballot_locks", "Locks with a holder or a waiter.").with()),
      holders_(registry_.add_gauge("ballot_locks_held", "Holds on locks (shared holds count each).")
                 .with()),
      waiters_(
        registry_.add_gauge("ballot_lock_waiters", "Acquires waiting in lock queues.").with()),
      state_bytes_(
        registry_
          .add_gauge("ballot_state_bytes", "Bytes of keys and values (what --quota-bytes limits).")
          .with()),
      peer_up_(registry_.add_gauge("ballot_peer_up",
                                   "1 if the peer's replica answered the last probe (about once a "
                                   "second), else 0.",
                                   {"peer"})),
      peer_rtt_(registry_.add_gauge("ballot_peer_rtt_seconds",
                                    "Round-trip time of the last answered probe of the peer.",
                                    {"peer"})),
      peer_failures_(registry_.add_counter("ballot_peer_probe_failures_total",
                                           "Probes of the peer that got no answer in time.",
                                           {"peer"})) {}

node_metrics::~node_metrics() = default;

node_metrics::per_replica& node_metrics::replica(std::uint32_t id) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto& slot = replicas_[id];
  if (!slot) {
    slot = std::make_unique<per_replica>();
    auto& r = *slot;
    auto label = std::to_string(id);
    r.id = id;
    const char* roles[3] = {"follower", "candidate", "leader"};
    for (int i = 0; i < 3; ++i)
      r.role[i] = &role_.with({label, roles[i]});
    r.has_leader = &has_leader_.with({label});
    r.leader_changes = &leader_changes_.with({label});
    r.ballot_round = &ballot_round_.with({label});
    r.commit = &commit_index_.with({label});
    r.applied = &applied_index_.with({label});
    r.pending = &pending_.with({label});
    r.pending_bytes = &pending_bytes_.with({label});
    r.batch = &batch_.with({label});
    r.commit_seconds = &commit_seconds_.with({label});
    r.fsync_seconds = &fsync_seconds_.with({label});
    r.read_seconds = &read_seconds_.with({label});
  }
  return *slot;
}

std::shared_ptr<actors::replica_probe> node_metrics::probe_for(std::uint32_t id, bool observed) {
  auto& r = replica(id);
  r.observed = observed;
  return std::make_shared<probe>(*this, r);
}

node_metrics::log_instruments& node_metrics::log_for(std::uint32_t id) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto& slot = logs_[id];
  if (!slot) {
    auto label = std::to_string(id);
    slot.reset(new log_instruments{wal_bytes_.with({label}), wal_segments_.with({label}),
                                   snapshots_.with({label}), snapshot_seconds_.with({label})});
  }
  return *slot;
}

void node_metrics::peer_probed(std::uint32_t peer, std::optional<duration> rtt) {
  auto label = std::to_string(peer);
  peer_up_.with({label}).set(rtt ? 1 : 0);
  if (rtt)
    peer_rtt_.with({label}).set(seconds(*rtt));
  else
    peer_failures_.with({label}).inc();
}

void node_metrics::watch_transport(std::vector<std::uint32_t> peers,
                                   std::function<bool(std::uint32_t)> connected,
                                   std::function<std::uint64_t(peer::drop_reason)> dropped) {
  registry_.add_collector([peers = std::move(peers), connected = std::move(connected),
                           dropped = std::move(dropped)](metrics::text_writer& out) {
    out.family("ballot_peer_link_up",
               "1 while the peer transport's connection to the peer is up, else 0 (a frozen peer "
               "keeps its connection: see ballot_peer_up).",
               metrics::kind::gauge);
    for (auto id : peers)
      out.sample("ballot_peer_link_up", {{"peer", std::to_string(id)}},
                 std::uint64_t{connected(id) ? 1u : 0u});
    out.family("ballot_peer_frames_dropped_total",
               "Peer frames dropped and peer connections refused, by reason.",
               metrics::kind::counter);
    for (std::size_t i = 0; i < peer::drop_reason_count; ++i) {
      auto r = static_cast<peer::drop_reason>(i);
      out.sample("ballot_peer_frames_dropped_total", {{"reason", peer::reason_name(r)}},
                 dropped(r));
    }
  });
}

page_facts node_metrics::facts() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return facts_;
}

}  // namespace ballot::ballotd
