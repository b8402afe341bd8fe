#include "runtime/ballotd/node.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "caf/all.hpp"

#include "actors/backup/cluster_id.hpp"
#include "actors/backup/sha256.hpp"
#include "actors/replica/replica_actor.hpp"
#include "actors/replica/type_ids.hpp"
#include "actors/service/service_machine.hpp"
#include "runtime/ballotd/client_service.hpp"
#include "runtime/ballotd/cluster_id_file.hpp"
#include "runtime/ballotd/node_metrics.hpp"
#include "runtime/ballotd/observability.hpp"
#include "runtime/ballotd/peer_prober.hpp"
#include "runtime/ballotd/restore.hpp"
#include "runtime/gateway/change_feed.hpp"
#include "runtime/peer/peer_service.hpp"
#include "runtime/wal/wal_storage.hpp"

namespace ballot::ballotd {

namespace {

/// The write-ahead log, opened and replayed by ballotd itself before any
/// actor starts, so a corrupt or unusable data directory stops the process
/// with exit code 3 instead of killing an actor later. Closing syncs, so a
/// clean stop leaves every appended record durable.
class opened_log final : public actors::storage {
 public:
  /// `metrics` (may be null) counts the log's bytes, segments and snapshots.
  opened_log(const std::string& dir, node_metrics::log_instruments* metrics)
      : log_(options_for(dir)), metrics_(metrics) {
    state_ = log_.load();
    auto& report = log_.last_recovery();
    if (report.truncated())
      std::fprintf(
        stderr,
        "ballotd: %s: cut a torn tail of %llu bytes at offset %llu (%s): the remains "
        "of a write interrupted before it was acknowledged\n",
        report.truncated_file.c_str(), static_cast<unsigned long long>(report.truncated_bytes),
        static_cast<unsigned long long>(report.truncated_at), report.truncated_reason.c_str());
    // A damaged snapshot the log could do without (an older checkpoint and
    // the segments after it were still there) is worth an operator's look.
    if (!report.corrupt_snapshot.empty())
      std::fprintf(stderr,
                   "ballotd: %s: set aside as %s.corrupt and started from the older state: %s\n",
                   report.corrupt_snapshot.c_str(), report.corrupt_snapshot.c_str(),
                   report.corrupt_reason.c_str());
    if (report.damaged()) {
      std::fprintf(stderr, "ballotd: %s: damaged synced data at offset %llu: %s\n",
                   report.damaged_file.c_str(), static_cast<unsigned long long>(report.damaged_at),
                   report.damaged_reason.c_str());
      for (auto& f : report.set_aside)
        std::fprintf(stderr, "ballotd: kept the damaged file for inspection as %s\n", f.c_str());
      std::fprintf(stderr,
                   "ballotd: kept the valid records before the damage; the replica re-learns "
                   "the rest from its peers before it votes again\n");
    }
    if (report.removed_files > 0)
      std::fprintf(stderr,
                   "ballotd: %s: removed %zu file(s) left over by an interrupted checkpoint\n",
                   dir.c_str(), report.removed_files);
  }

  ~opened_log() override {
    try {
      log_.sync();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "ballotd: final sync failed: %s\n", e.what());
    }
  }

  static wal::wal_options options_for(const std::string& dir) {
    wal::wal_options o;
    o.dir = dir;
    // Damage is set aside and repaired from the peers instead of stopping
    // the node for good (see paxos::rejoin).
    o.set_aside_damage = true;
    return o;
  }

  paxos::durable_state load() override { return std::move(state_); }

  void append(const paxos::ready& rd) override {
    if (metrics_ == nullptr) {
      log_.append(rd);
      return;
    }
    // A compacted state is written as a snapshot file (a checkpoint).
    auto started = std::chrono::steady_clock::now();
    log_.append(rd);
    if (rd.compacted)
      metrics_->snapshot_written(std::chrono::steady_clock::now() - started);
    metrics_->progress(log_.log().bytes_appended(), log_.log().segment_count());
  }

  void sync() override {
    log_.sync();
    if (metrics_ != nullptr)
      metrics_->progress(log_.log().bytes_appended(), log_.log().segment_count());
  }

 private:
  wal::wal_storage log_;
  paxos::durable_state state_;
  node_metrics::log_instruments* metrics_;
};

/// What a replica actor owns: a view of the log ballotd opened and will close.
class forwarding_storage final : public actors::storage {
 public:
  explicit forwarding_storage(actors::storage& log) : log_(log) {}
  paxos::durable_state load() override { return log_.load(); }
  void append(const paxos::ready& rd) override { log_.append(rd); }
  void sync() override { log_.sync(); }

 private:
  actors::storage& log_;
};

[[noreturn]] void storage_failed(const std::string& what) {
  // The disk failed under a running replica: nothing it would do next is
  // safe. Stop at once; recovery on restart replays what was synced.
  std::fprintf(stderr, "ballotd: storage failure: %s\n", what.c_str());
  std::fflush(stderr);
  std::_Exit(exit_data);
}

/// Reads one peer TLS file; the error names the flag and the path (exit 2).
std::optional<std::string> read_pem(const char* flag, const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::string{"cannot read "} + flag + " " + path + ": " + std::strerror(errno);
  std::ostringstream text;
  text << in.rdbuf();
  out = text.str();
  if (out.empty())
    return std::string{"cannot use "} + flag + " " + path + ": the file is empty";
  return std::nullopt;
}

/// The cluster id the flags ask for: --cluster-id, else derived from
/// --cluster-token and --peers.
cluster_id_wish wish_of(const options& o) {
  if (!o.cluster_id.empty()) {
    std::string why;
    return {*backup::parse_cluster_id(o.cluster_id, why), id_origin::explicit_};
  }
  std::set<std::uint32_t> members;
  for (auto& [id, where] : o.peers)
    members.insert(id);
  return {backup::derive_cluster_id(o.cluster_token, members), id_origin::derived};
}

}  // namespace

struct node::impl {
  options opts;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::vector<std::unique_ptr<opened_log>> logs;
  std::map<std::uint32_t, caf::actor> replicas;
  std::unique_ptr<peer::peer_service> peers;
  caf::actor prober;
  std::unique_ptr<client_service> clients;
  /// Null unless --metrics (or the embedded default) asks for them: without
  /// it, no replica, log or gateway reads a clock or touches a counter for them.
  std::shared_ptr<node_metrics> metrics;
  std::unique_ptr<observability> operator_port;
  std::shared_ptr<replica_directory> directory = std::make_shared<replica_directory>();
  /// What the gateway's replica applies, for waiting acquires and watches.
  std::shared_ptr<gateway::change_feed> feed = std::make_shared<gateway::change_feed>();
};

node::node(options opts) : impl_(std::make_unique<impl>()) {
  impl_->opts = std::move(opts);
}

node::~node() {
  stop();
}

int node::start() {
  auto& o = impl_->opts;
  impl_->clients = std::make_unique<client_service>();
  if (auto err = impl_->clients->open_audit(o)) {
    std::fprintf(stderr, "ballotd: %s\n", err->c_str());
    return exit_usage;
  }
  std::vector<std::uint32_t> local_ids;
  std::vector<std::uint32_t> members;
  if (o.embedded) {
    local_ids = members = {1, 2, 3};
  } else {
    local_ids = {o.id};
    for (auto& [id, where] : o.peers)
      members.push_back(id);
  }
  // A TLS file that cannot be used is a usage error, before anything starts.
  if (auto err = client_service::check_tls(o)) {
    std::fprintf(stderr, "ballotd: %s\n", err->c_str());
    return exit_usage;
  }
  // Peer TLS material: a missing file is a bad flag too (exit code 2).
  std::optional<peer::tls_material> tls;
  if (!o.embedded && o.peer_tls()) {
    peer::tls_material m;
    for (auto [flag, path, out] : {std::tuple{"--peer-cacert", &o.peer_cacert, &m.ca_pem},
                                   std::tuple{"--peer-cert", &o.peer_cert, &m.cert_pem},
                                   std::tuple{"--peer-key", &o.peer_key, &m.key_pem}}) {
      if (auto err = read_pem(flag, *path, *out)) {
        std::fprintf(stderr, "ballotd: %s\n", err->c_str());
        return exit_usage;
      }
    }
    tls = std::move(m);
  }
  // --restore fills the empty data directory before the log opens it.
  if (!o.restore.empty())
    if (auto code = restore_data_dir(o); code != 0)
      return code;
  if (o.metrics)
    impl_->metrics = std::make_shared<node_metrics>();
  auto* m = impl_->metrics.get();
  // Open every log first: an unusable data directory is exit code 3, before
  // anything listens.
  std::map<std::uint32_t, opened_log*> log_of;
  try {
    for (auto id : local_ids) {
      auto dir = o.embedded ? o.data_dir + "/" + std::to_string(id) : o.data_dir;
      impl_->logs.push_back(std::make_unique<opened_log>(dir, m ? &m->log_for(id) : nullptr));
      log_of[id] = impl_->logs.back().get();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ballotd: cannot use the data directory: %s\n", e.what());
    return exit_data;
  }
  // The log created the directory; the cluster id lives beside it.
  std::string cluster_id;
  if (!o.embedded) {
    auto settled = settle_cluster_id(o.data_dir, wish_of(o));
    if (!settled.error.empty()) {
      std::fprintf(stderr, "ballotd: %s\n", settled.error.c_str());
      return settled.bad_file ? exit_data : exit_usage;
    }
    cluster_id = settled.id;
    std::fprintf(stderr, "ballotd: cluster id %s\n", backup::to_hex(cluster_id).c_str());
  }

  auto& cfg = impl_->cfg;
  cfg.add_message_types<caf::id_block::ballot>();
  // Idle CAF workers of the default work-stealing scheduler poll and sleep in
  // 50 us steps; with three nodes and their clients on two cores that
  // polling costs more CPU than the work. The sharing scheduler's workers
  // block on a condition variable instead.
  const char* policy = std::getenv("BALLOT_SCHEDULER");
  if (policy && std::string{policy} == "stealing")
    cfg.set("scheduler.policy", caf::atom("stealing"));
  else
    cfg.set("scheduler.policy", caf::atom("sharing"));
  impl_->sys = std::make_unique<caf::actor_system>(cfg);
  auto& sys = *impl_->sys;

  for (auto id : local_ids) {
    actors::replica_options ro;
    ro.paxos.id = id;
    ro.paxos.members = members;
    ro.paxos.seed =
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    // An empty or damaged data directory rejoins through its peers (see
    // paxos::rejoin); the incarnation tells this start's queries from an
    // earlier one's.
    ro.paxos.check_amnesia = true;
    ro.paxos.incarnation = std::random_device{}() | (std::uint64_t{std::random_device{}()} << 32);
    ro.on_event = [](const std::string& line) {
      std::fprintf(stderr, "ballotd: %s\n", line.c_str());
      std::fflush(stderr);
    };
    ro.tick_interval = std::chrono::milliseconds(o.tick_ms);
    auto observed = id == (o.embedded ? 1u : o.id);
    ro.quota_bytes = o.quota_bytes;
    service::service_machine::limits caps;
    caps.max_sessions = static_cast<std::size_t>(o.max_sessions);
    caps.max_waiters_per_lock = static_cast<std::size_t>(o.max_waiters_per_lock);
    ro.make_state_machine = [feed = impl_->feed, observed, caps] {
      auto m = std::make_unique<service::service_machine>(
        service::service_machine::default_grace_ms, caps);
      if (observed)
        m->set_observer([feed](const service::change& c) { feed->publish(c); });
      return m;
    };
    auto* log = log_of.at(id);
    ro.make_storage = [log] { return std::make_unique<forwarding_storage>(*log); };
    ro.on_storage_error = [](const std::string& what) { storage_failed(what); };
    if (m)
      ro.probe = m->probe_for(id, observed);
    impl_->replicas[id] = actors::spawn_replica(sys, ro);
  }

  if (o.embedded) {
    actors::peer_map all(impl_->replicas.begin(), impl_->replicas.end());
    impl_->directory->set(all);
    actors::introduce(all);
  } else {
    // The peer port is Ballot's own transport (runtime/peer), not CAF's
    // middleman: it authenticates members and decodes only the consensus
    // messages and member requests, so nothing else on the replica is
    // reachable from the network.
    peer::service_options po;
    po.self = o.id;
    for (auto& [id, where] : o.peers)
      po.members[id] = {where.host, where.port};
    po.tls = std::move(tls);
    po.cluster_id = cluster_id;
    po.log = [](const std::string& line) {
      std::fprintf(stderr, "ballotd: %s\n", line.c_str());
      std::fflush(stderr);
    };
    auto& local = impl_->replicas.at(o.id);
    try {
      impl_->peers = peer::peer_service::start(sys, local, std::move(po));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "ballotd: peer port (from --peers%s): %s\n",
                   o.peer_tls() ? " and --peer-*" : "", e.what());
      return exit_usage;
    }
    actors::peer_map map = impl_->peers->links();
    map.emplace(o.id, local);
    impl_->directory->set(map);
    caf::anon_send(local, actors::peers_atom_v, map);
  }

  auto self = o.embedded ? 1u : o.id;
  impl_->clients->cluster_id = cluster_id;
  if (auto err = impl_->clients->start(sys, o, self, impl_->directory, impl_->feed,
                                       m ? m->gateway() : nullptr)) {
    std::fprintf(stderr, "ballotd: cannot serve clients on %s (from --client): %s\n",
                 o.client.to_string().c_str(), err->c_str());
    return exit_usage;
  }
  if (m)
    return start_metrics(members);
  return 0;
}

int node::start_metrics(const std::vector<std::uint32_t>& members) {
  auto* m = impl_->metrics.get();
  auto& o = impl_->opts;
  auto& sys = *impl_->sys;
  auto self = o.embedded ? 1u : o.id;
  if (!o.embedded) {
    std::vector<std::uint32_t> others;
    for (auto id : members)
      if (id != self)
        others.push_back(id);
    impl_->prober = spawn_peer_prober(
      sys, impl_->directory, others,
      [shared = impl_->metrics](std::uint32_t peer, std::optional<node_metrics::duration> rtt) {
        shared->peer_probed(peer, rtt);
      });
    // The transport's own view, read at scrape time: the link to each peer
    // and the frames it dropped. The operator port stops before the peers.
    if (impl_->peers)
      m->watch_transport(
        others, [p = impl_->peers.get()](std::uint32_t id) { return p->connected(id); },
        [p = impl_->peers.get()](peer::drop_reason r) { return p->drops(r); });
  }
  observability::setup s;
  s.where = *o.metrics;
  s.self = self;
  s.embedded = o.embedded;
  s.members = members;
  s.client_endpoints[self] = impl_->clients->bound();
  s.metrics = impl_->metrics;
  try {
    impl_->operator_port = observability::start(
      sys, std::move(s), [dir = impl_->directory](paxos::node_id id) { return dir->find(id); });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ballotd: cannot serve metrics on %s (from --metrics): %s\n",
                 o.metrics->to_string().c_str(), e.what());
    if (o.metrics_required)
      return exit_usage;
    // The embedded default's port is a convenience: another process (a
    // second embedded cluster, say) may have it.
    std::fprintf(stderr, "ballotd: going on without metrics (pass --metrics HOST:PORT)\n");
  }
  return 0;
}

void node::stop() {
  if (!impl_->sys)
    return;
  if (impl_->operator_port)
    impl_->operator_port->stop();
  impl_->operator_port.reset();
  if (impl_->prober)
    caf::anon_send_exit(impl_->prober, caf::exit_reason::user_shutdown);
  impl_->prober = nullptr;
  // Stop accepting clients first; in-flight calls get a bounded time to end.
  if (impl_->clients)
    impl_->clients->stop();
  impl_->clients.reset();
  if (impl_->peers) {
    auto drops = impl_->peers->drop_summary();
    if (!drops.empty())
      std::fprintf(stderr, "ballotd: peer port drops: %s\n", drops.c_str());
    impl_->peers->stop();
  }
  for (auto& [id, replica] : impl_->replicas)
    caf::anon_send_exit(replica, caf::exit_reason::user_shutdown);
  impl_->replicas.clear();
  impl_->peers.reset();
  impl_->sys->await_all_actors_done();
  impl_->sys.reset();
  // Closing each log syncs whatever was appended last.
  impl_->logs.clear();
}

std::string node::metrics_endpoint() const {
  return impl_->operator_port ? impl_->operator_port->endpoint() : std::string{};
}

std::string node::client_endpoint() const {
  return impl_->clients ? impl_->clients->bound() : impl_->opts.client.to_string();
}

}  // namespace ballot::ballotd
