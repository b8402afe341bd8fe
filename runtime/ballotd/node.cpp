#include "runtime/ballotd/node.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "caf/all.hpp"

#include "actors/backup/cluster_id.hpp"
#include "actors/backup/sha256.hpp"
#include "actors/replica/handoff_scheduler.hpp"
#include "actors/replica/replica_actor.hpp"
#include "actors/replica/type_ids.hpp"
#include "actors/service/service_machine.hpp"
#include "runtime/ballotd/client_service.hpp"
#include "runtime/ballotd/cluster_id_file.hpp"
#include "runtime/ballotd/join.hpp"
#include "runtime/ballotd/member_sync.hpp"
#include "runtime/ballotd/node_metrics.hpp"
#include "runtime/ballotd/observability.hpp"
#include "runtime/ballotd/peer_prober.hpp"
#include "runtime/ballotd/restore.hpp"
#include "runtime/gateway/change_feed.hpp"
#include "runtime/log/log.hpp"
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
  opened_log(const std::string& dir, std::uint32_t chunk_bytes,
             node_metrics::log_instruments* metrics)
      : log_(options_for(dir, chunk_bytes)), metrics_(metrics) {
    state_ = log_.load();
    auto& report = log_.last_recovery();
    using logging::field;
    if (report.truncated())
      logging::warn(report.truncated_file + ": cut a torn tail of " +
                      std::to_string(report.truncated_bytes) + " bytes at offset " +
                      std::to_string(report.truncated_at) + " (" + report.truncated_reason +
                      "): the remains of a write interrupted before it was acknowledged",
                    {field{"event", "wal_torn_tail"}, field{"file", report.truncated_file},
                     field{"offset", report.truncated_at}});
    // A damaged snapshot the log could do without (an older checkpoint and
    // the segments after it were still there) is worth an operator's look.
    if (!report.corrupt_snapshot.empty())
      logging::warn(
        report.corrupt_snapshot + ": set aside as " + report.corrupt_snapshot +
          ".corrupt and started from the older state: " + report.corrupt_reason,
        {field{"event", "wal_corrupt_snapshot"}, field{"file", report.corrupt_snapshot}});
    if (report.damaged()) {
      logging::error(report.damaged_file + ": damaged synced data at offset " +
                       std::to_string(report.damaged_at) + ": " + report.damaged_reason,
                     {field{"event", "storage_error"}, field{"file", report.damaged_file},
                      field{"offset", report.damaged_at}});
      for (auto& f : report.set_aside)
        logging::warn("kept the damaged file for inspection as " + f,
                      {field{"event", "wal_set_aside"}, field{"file", f}});
      logging::warn(
        "kept the valid records before the damage; the replica re-learns the rest "
        "from its peers before it votes again",
        {field{"event", "wal_repair"}});
    }
    if (!report.snapshot_file.empty() && state_.snap)
      logging::info("loaded " + report.snapshot_file + " (" +
                      std::to_string(state_.snap->machine.size_hint()) + " bytes of state) and " +
                      std::to_string(report.records) + " record(s) after it",
                    {field{"event", "wal_loaded"}, field{"file", report.snapshot_file}});
    if (report.removed_files > 0)
      logging::info(dir + ": removed " + std::to_string(report.removed_files) +
                      " file(s) left over by an interrupted checkpoint",
                    {field{"event", "wal_cleanup"}, field{"dir", dir}});
    log_.on_checkpoint_finished(&log_checkpoint);
  }

  ~opened_log() override {
    try {
      log_.sync();
    } catch (const std::exception& e) {
      logging::error(std::string{"final sync failed: "} + e.what(),
                     {{"event", "storage_error"}, {"error", e.what()}});
    }
  }

  static wal::wal_options options_for(const std::string& dir, std::uint32_t chunk_bytes) {
    wal::wal_options o;
    o.dir = dir;
    o.snapshot_chunk_size = chunk_bytes;
    // Damage is set aside and repaired from the peers instead of stopping
    // the node for good (see paxos::rejoin).
    o.set_aside_damage = true;
    return o;
  }

  paxos::durable_state load() override { return std::move(state_); }

  /// Nothing was ever persisted here (before `load`).
  bool holds_nothing() const { return state_.holds_nothing(); }

  void append(const paxos::ready& rd) override {
    timed([&] { log_.append(rd); }, rd.compacted.has_value());
  }

  void append_owned(paxos::ready& rd) override {
    bool compacted = rd.compacted.has_value();
    timed([&] { log_.append_owned(rd); }, compacted);
  }

  void sync() override {
    log_.sync();
    if (metrics_ != nullptr)
      metrics_->progress(log_.log().bytes_appended(), log_.log().segment_count());
  }

 private:
  /// Runs `append`; with a compaction, counts the time it took on this thread
  /// (all of a checkpoint but for one written in the background).
  template <class F>
  void timed(F&& append, bool compacted) {
    if (metrics_ == nullptr) {
      append();
      return;
    }
    auto started = std::chrono::steady_clock::now();
    append();
    if (compacted)
      metrics_->snapshot_written(std::chrono::steady_clock::now() - started);
    metrics_->progress(log_.log().bytes_appended(), log_.log().segment_count());
  }

  /// A checkpoint written in the background finished: its cost, off the
  /// replica's thread, for the operator.
  static void log_checkpoint(const wal::checkpoint_result& r) {
    using logging::field;
    using std::chrono::duration_cast;
    using std::chrono::milliseconds;
    bool committed = r.what == wal::checkpoint_result::outcome::committed;
    logging::info(
      committed ? "snapshot written in the background" : "snapshot postponed: the disk is full",
      {field{"event", committed ? "snapshot_written" : "snapshot_postponed"}, field{"slot", r.key},
       field{"bytes", r.bytes},
       field{"encode_ms", duration_cast<milliseconds>(r.encode_time).count()},
       field{"write_ms", duration_cast<milliseconds>(r.write_time).count()}});
  }

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
  void append_owned(paxos::ready& rd) override { log_.append_owned(rd); }
  void sync() override { log_.sync(); }

 private:
  actors::storage& log_;
};

[[noreturn]] void storage_failed(const std::string& what) {
  // The disk failed under a running replica: nothing it would do next is
  // safe. Stop at once; recovery on restart replays what was synced.
  // Said even with --log-level off: it explains the exit code.
  if (logging::enabled(logging::level::error))
    logging::error("storage failure: " + what + "; stopping (exit 3)",
                   {{"event", "storage_error"}, {"error", what}});
  else
    std::fprintf(stderr, "ballotd: storage failure: %s\n", what.c_str());
  std::fflush(stderr);
  std::_Exit(exit_data);
}

/// Reads one peer TLS file; the error names the flag and the path (exit 2).
/// Snapshots to and from members in chunks (runtime/peer/snapshot_*.hpp).
/// The largest one taken is derived from the quota: the state machine's
/// image holds the keys and values (at most --quota-bytes) with their
/// metadata, the change history and the sessions; twice the quota plus
/// 512 MiB is far above that, and still a bound. The chunk size is 4 MiB;
/// the hidden BALLOT_PEER_SNAPSHOT_CHUNK_BYTES (tests only) makes it small
/// so that a state of a few MiB travels in many chunks.
void snapshot_transfer_options(const options& o, peer::service_options& po) {
  po.snapshot_in.max_total_bytes = 2 * o.quota_bytes + (std::uint64_t{512} << 20);
  if (const char* env = std::getenv("BALLOT_PEER_SNAPSHOT_CHUNK_BYTES")) {
    auto n = std::strtoull(env, nullptr, 10);
    if (n >= 1024 && n <= peer::max_chunk_bytes)
      po.snapshot_out.chunk_bytes = static_cast<std::size_t>(n);
  }
  // Four chunks unacknowledged: the link stays busy over a round trip, and
  // the member's 64 MiB outbox keeps room for everything else.
  po.snapshot_out.window_bytes = 4 * po.snapshot_out.chunk_bytes;
}

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

/// The service machine of one replica; the observed one tells the gateway's
/// change feed what it applies.
actors::state_machine_factory service_machines(std::shared_ptr<gateway::change_feed> feed,
                                               bool observed,
                                               service::service_machine::limits caps) {
  return [feed = std::move(feed), observed, caps] {
    auto m =
      std::make_unique<service::service_machine>(service::service_machine::default_grace_ms, caps);
    if (observed)
      m->set_observer([feed](const service::change& c) {
        // Debug: a cluster of many short-lived clients expires many sessions.
        if (!c.expired.empty() && logging::enabled(logging::level::debug))
          for (auto session : c.expired)
            logging::debug(
              "session expired",
              {{"event", "session_expired"}, {"session", session}, {"revision", c.revision}});
        feed->publish(c);
      });
    return m;
  };
}

/// What start() learns, step by step, before the replicas exist.
struct start_plan {
  std::vector<std::uint32_t> local_ids;
  std::vector<std::uint32_t> members;
  std::optional<peer::tls_material> tls;
  std::optional<join_plan> joined;
  std::map<std::uint32_t, opened_log*> log_of;
  bool fresh_join = false;
  std::string cluster_id;
};

}  // namespace

struct node::impl {
  /// The steps of start(): each returns 0 or the exit code to stop with.
  int check_files(start_plan& p);
  int place_data(start_plan& p);
  int open_logs(start_plan& p);
  void start_actor_system();
  actors::replica_options replica_options_for(std::uint32_t id, const start_plan& p);
  int connect_replicas(start_plan& p);

  options opts;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::vector<std::unique_ptr<opened_log>> logs;
  std::map<std::uint32_t, caf::actor> replicas;
  std::unique_ptr<peer::peer_service> peers;
  /// The local replica's way to its peers past their link actors (see
  /// actors/replica/peer_outlet.hpp); BALLOT_PEER_OUTLET=0 leaves it out,
  /// for comparison.
  std::shared_ptr<peer::transport_outlet> outlet;
  caf::actor prober;
  std::unique_ptr<client_service> clients;
  /// Null unless --metrics (or the embedded default) asks for them: without
  /// it, no replica, log or gateway reads a clock or touches a counter for them.
  std::shared_ptr<node_metrics> metrics;
  std::unique_ptr<observability> operator_port;
  std::shared_ptr<replica_directory> directory = std::make_shared<replica_directory>();
  /// The membership as the replica applied it, for the gateway's status.
  std::shared_ptr<gateway::member_roster> roster = std::make_shared<gateway::member_roster>();
  std::unique_ptr<member_sync> sync;
  /// What the gateway's replica applies, for waiting acquires and watches.
  std::shared_ptr<gateway::change_feed> feed = std::make_shared<gateway::change_feed>();
};

node::node(options opts) : impl_(std::make_unique<impl>()) {
  impl_->opts = std::move(opts);
}

node::~node() {
  stop();
}

int node::impl::check_files(start_plan& p) {
  auto& o = opts;
  clients = std::make_unique<client_service>();
  if (auto err = clients->open_audit(o)) {
    std::fprintf(stderr, "ballotd: %s\n", err->c_str());
    return exit_usage;
  }
  // A TLS file that cannot be used is a usage error, before anything starts.
  if (auto err = client_service::check_tls(o)) {
    std::fprintf(stderr, "ballotd: %s\n", err->c_str());
    return exit_usage;
  }
  // Peer TLS material: a missing file is a bad flag too (exit code 2).
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
    p.tls = std::move(m);
  }
  return 0;
}

int node::impl::place_data(start_plan& p) {
  auto& o = opts;
  if (o.embedded) {
    p.local_ids = p.members = {1, 2, 3};
  } else {
    p.local_ids = {o.id};
    for (auto& [id, where] : o.peers)
      p.members.push_back(id);
  }
  // A joining node learns its id, the bootstrap voters, alpha and the
  // members' peer addresses from the cluster, once, into DIR/join.
  if (o.join.empty() && !o.embedded && std::filesystem::exists(o.data_dir + "/" + join_file_name)) {
    std::fprintf(stderr,
                 "ballotd: %s joined a running cluster (it holds %s): start it with --join as "
                 "before, not with --peers\n",
                 o.data_dir.c_str(), join_file_name);
    return exit_usage;
  }
  if (!o.join.empty()) {
    std::error_code made;
    std::filesystem::create_directories(o.data_dir, made);
    if (made) {
      std::fprintf(stderr, "ballotd: cannot create --data-dir %s: %s\n", o.data_dir.c_str(),
                   made.message().c_str());
      return exit_data;
    }
    auto outcome = prepare_join(o);
    if (!outcome.plan)
      return outcome.code;
    p.joined = std::move(outcome.plan);
    o.id = p.joined->id;
    p.local_ids = {o.id};
    p.members = p.joined->bootstrap;
    o.peers = p.joined->peers;
  }
  // --restore fills the empty data directory before the log opens it.
  if (!o.restore.empty())
    if (auto code = restore_data_dir(o); code != 0)
      return code;
  return 0;
}

int node::impl::open_logs(start_plan& p) {
  auto& o = opts;
  if (o.metrics)
    metrics = std::make_shared<node_metrics>();
  auto* m = metrics.get();
  // Open every log first: an unusable data directory is exit code 3, before
  // anything listens.
  try {
    for (auto id : p.local_ids) {
      auto dir = o.embedded ? o.data_dir + "/" + std::to_string(id) : o.data_dir;
      logs.push_back(
        std::make_unique<opened_log>(dir, o.snapshot_chunk_bytes, m ? &m->log_for(id) : nullptr));
      p.log_of[id] = logs.back().get();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ballotd: cannot use the data directory: %s\n", e.what());
    return exit_data;
  }
  // A node that joins has no votes to forget until it wrote something.
  p.fresh_join = p.joined && logs.front()->holds_nothing();
  if (!o.embedded) {
    auto wish = p.joined ? cluster_id_wish{p.joined->cluster_id, id_origin::explicit_} : wish_of(o);
    auto settled = settle_cluster_id(o.data_dir, wish);
    if (!settled.error.empty()) {
      std::fprintf(stderr, "ballotd: %s\n", settled.error.c_str());
      return settled.bad_file ? exit_data : exit_usage;
    }
    p.cluster_id = settled.id;
    logging::info("cluster id " + backup::to_hex(p.cluster_id), {{"event", "cluster_id"}});
  }
  return 0;
}

void node::impl::start_actor_system() {
  cfg.add_message_types<caf::id_block::ballot>();
  // CAF's work-stealing workers poll and sleep in 50 us steps, which with
  // three nodes and their clients on two cores costs more CPU than the work;
  // its work-sharing workers block instead, but wake one another for every
  // message. The hand-off scheduler (actors/replica/handoff_scheduler.hpp)
  // runs a message's receiver on the sender's worker when it can.
  // BALLOT_SCHEDULER=sharing|stealing picks CAF's own, for comparison.
  const char* policy = std::getenv("BALLOT_SCHEDULER");
  std::string chosen = policy ? policy : "handoff";
  bool handoff = chosen != "stealing" && chosen != "sharing";
  if (handoff)
    actors::use_handoff_scheduler(cfg);
  else if (chosen == "stealing")
    cfg.set("scheduler.policy", caf::atom("stealing"));
  else
    cfg.set("scheduler.policy", caf::atom("sharing"));
  // One worker per core (CAF's default is at least 4): with the hand-off
  // scheduler the extra workers only compete for the cores (bench/README
  // "One worker per core"). BALLOT_CAF_THREADS=N overrides, for comparison.
  const char* threads = std::getenv("BALLOT_CAF_THREADS");
  int asked = threads ? std::atoi(threads) : 0;
  if (asked > 0)
    cfg.set("scheduler.max-threads", static_cast<std::size_t>(asked));
  else if (handoff)
    cfg.set("scheduler.max-threads", std::max<std::size_t>(2, std::thread::hardware_concurrency()));
  sys = std::make_unique<caf::actor_system>(cfg);
}

actors::replica_options node::impl::replica_options_for(std::uint32_t id, const start_plan& p) {
  auto& o = opts;
  actors::replica_options ro;
  ro.paxos.id = id;
  ro.paxos.members = p.members;
  ro.paxos.seed =
    static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  // An empty or damaged data directory rejoins through its peers (see
  // paxos::rejoin); the incarnation tells this start's queries from an
  // earlier one's.
  ro.paxos.check_amnesia = true;
  ro.paxos.incarnation = std::random_device{}() | (std::uint64_t{std::random_device{}()} << 32);
  // Events (leadership, catch-up, snapshots, slow syncs) go to the logger.
  ro.slow_sync = std::chrono::milliseconds(o.slow_fsync_ms);
  ro.paxos.snapshot_interval = o.snapshot_interval;
  ro.tick_interval = std::chrono::milliseconds(o.tick_ms);
  auto observed = id == (o.embedded ? 1u : o.id);
  ro.quota_bytes = o.quota_bytes;
  service::service_machine::limits caps;
  caps.max_sessions = static_cast<std::size_t>(o.max_sessions);
  caps.max_waiters_per_lock = static_cast<std::size_t>(o.max_waiters_per_lock);
  ro.make_state_machine = service_machines(feed, observed, caps);
  auto* log = p.log_of.at(id);
  ro.make_storage = [log] { return std::make_unique<forwarding_storage>(*log); };
  ro.on_storage_error = [](const std::string& what) { storage_failed(what); };
  if (metrics)
    ro.probe = metrics->probe_for(id, observed);
  ro.outlet = outlet;
  if (!o.embedded) {
    // The membership decides whom the peer port reaches (README "Changing
    // the membership"); --peers (or what --join learnt) fills in the
    // addresses of members bootstrapped without one in the log.
    for (auto& [peer_id, where] : o.peers)
      ro.known_peers[peer_id] = where.to_string();
    ro.on_members = [sync = sync.get()](const auto& all) { sync->on_members(all); };
    // A removed member stops like on SIGTERM (main waits for it), exit 0.
    ro.on_removed = [] { ::kill(::getpid(), SIGTERM); };
  }
  if (p.joined) {
    ro.paxos.alpha = p.joined->alpha;
    for (auto& [peer_id, where] : p.joined->peers)
      ro.paxos.peers.push_back(peer_id);
    ro.paxos.joining = p.fresh_join;
  }
  return ro;
}

int node::impl::connect_replicas(start_plan& p) {
  auto& o = opts;
  if (o.embedded) {
    actors::peer_map all(replicas.begin(), replicas.end());
    directory->set(all);
    actors::introduce(all);
    return 0;
  }
  // The peer port is Ballot's own transport (runtime/peer), not CAF's
  // middleman: it authenticates members and decodes only the consensus
  // messages and member requests, so nothing else on the replica is
  // reachable from the network.
  peer::service_options po;
  po.self = o.id;
  for (auto& [id, where] : o.peers)
    po.members[id] = {where.host, where.port};
  po.tls = std::move(p.tls);
  po.cluster_id = p.cluster_id;
  snapshot_transfer_options(o, po);
  po.outlet = outlet;
  // BALLOT_PEER_DIRECT_WRITE_BYTES=N: the largest frame a sender writes
  // itself; 0: every frame through the peer thread, for comparison
  // (bench/README "Direct peer writes").
  if (const char* env = std::getenv("BALLOT_PEER_DIRECT_WRITE_BYTES"))
    po.direct_write_bytes = std::strtoull(env, nullptr, 10);
  // Without po.log the transport writes to the logger (peer_connected, ...).
  auto& local = replicas.at(o.id);
  try {
    peers = peer::peer_service::start(*sys, local, std::move(po));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ballotd: peer port (from --peers%s): %s\n",
                 o.peer_tls() ? " and --peer-*" : "", e.what());
    return exit_usage;
  }
  actors::peer_map map = peers->links();
  map.emplace(o.id, local);
  directory->set(map);
  caf::anon_send(local, actors::peers_atom_v, map);
  sync->attach(peers.get(), local);
  return 0;
}

int node::start() {
  auto& o = impl_->opts;
  logging::info("ballotd starting", describe(o));
  start_plan p;
  if (auto code = impl_->check_files(p))
    return code;
  if (auto code = impl_->place_data(p))
    return code;
  if (auto code = impl_->open_logs(p))
    return code;
  impl_->start_actor_system();
  auto& sys = *impl_->sys;
  if (!o.embedded)
    impl_->sync = std::make_unique<member_sync>(o.id, o.peers, impl_->directory, impl_->roster);
  if (const char* env = std::getenv("BALLOT_PEER_OUTLET"); !o.embedded && !(env && *env == '0'))
    impl_->outlet = std::make_shared<peer::transport_outlet>(sys);
  for (auto id : p.local_ids)
    impl_->replicas[id] = actors::spawn_replica(sys, impl_->replica_options_for(id, p));
  if (auto code = impl_->connect_replicas(p))
    return code;
  auto* m = impl_->metrics.get();
  auto self = o.embedded ? 1u : o.id;
  impl_->clients->cluster_id = p.cluster_id;
  if (!o.embedded)
    impl_->clients->roster = impl_->roster;
  if (auto err = impl_->clients->start(sys, o, self, impl_->directory, impl_->feed,
                                       m ? m->gateway() : nullptr)) {
    std::fprintf(stderr, "ballotd: cannot serve clients on %s (from --client): %s\n",
                 o.client.to_string().c_str(), err->c_str());
    return exit_usage;
  }
  if (m) {
    std::vector<std::uint32_t> known = p.members;
    if (!o.embedded) {
      known.clear();
      for (auto& [peer_id, where] : o.peers)
        known.push_back(peer_id);
    }
    return start_metrics(known);
  }
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
    if (o.metrics_required) {
      std::fprintf(stderr, "ballotd: cannot serve metrics on %s (from --metrics): %s\n",
                   o.metrics->to_string().c_str(), e.what());
      return exit_usage;
    }
    // The embedded default's port is a convenience: another process (a
    // second embedded cluster, say) may have it.
    logging::warn("cannot serve metrics on " + o.metrics->to_string() + ": " + e.what() +
                    "; going on without metrics (pass --metrics HOST:PORT)",
                  {{"event", "metrics_off"}, {"error", e.what()}});
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
  if (impl_->sync)
    impl_->sync->detach();
  if (impl_->peers) {
    auto drops = impl_->peers->drop_summary();
    if (!drops.empty())
      logging::info("peer port drops: " + drops, {{"event", "peer_drops"}});
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

std::uint32_t node::id() const {
  return impl_->opts.embedded ? 0 : impl_->opts.id;
}

std::string node::metrics_endpoint() const {
  return impl_->operator_port ? impl_->operator_port->endpoint() : std::string{};
}

std::string node::client_endpoint() const {
  return impl_->clients ? impl_->clients->bound() : impl_->opts.client.to_string();
}

}  // namespace ballot::ballotd
