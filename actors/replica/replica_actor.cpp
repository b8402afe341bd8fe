#include "actors/replica/replica_actor.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "caf/actor.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/sec.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_response_promise.hpp"

#include "actors/backup/backup_format.hpp"
#include "actors/paxos/lease_clock.hpp"
#include "actors/paxos/member_report.hpp"
#include "actors/paxos/replica.hpp"
#include "actors/replica/commit_pipeline.hpp"
#include "actors/replica/event_log.hpp"
#include "actors/replica/memory_storage.hpp"
#include "actors/replica/random_id.hpp"
#include "actors/replica/reply_sink.hpp"
#include "actors/replica/timed_storage.hpp"
#include "actors/replica/type_ids.hpp"
#include "runtime/log/log.hpp"

namespace ballot::actors {

namespace {

/// How many own commands (leader_change, ticks) go under one request id:
/// half the dedup window (64, which ballotd keeps), see propose_own.
constexpr std::uint64_t own_seqs_per_id = 32;

/// Random: a restarted leader's own commands must not be taken for retries
/// of its previous life's, nor a new id for an old one's.
std::uint64_t fresh_own_client() {
  std::random_device rd;
  return rd() | (std::uint64_t{rd()} << 32);
}

using client_key = std::pair<std::uint64_t, std::uint64_t>;

struct replica_state : commit_sink {
  static inline const char* name = "ballot.replica";

  explicit replica_state(caf::event_based_actor* self) : self(self) {}

  /// Carries out the core's outputs for the last input through the commit
  /// pipeline (group commit: see commit_pipeline.hpp), after telling the
  /// operator and the probe what changed.
  void flush() {
    note_repair();
    note_rejected();
    note_members();
    emit(events->observe(*core));
    if (probe && core->leader_hint() != last_leader) {
      last_leader = core->leader_hint();
      probe->on_leader_change(last_leader);
    }
    if (core->is_leader() != was_leader) {
      was_leader = core->is_leader();
      own_in_flight = 0;
      if (was_leader)
        propose_own(true);
    }
    auto rd = core->take_ready();
    if (rd.empty())
      return;
    emit(events->on_ready(rd, *core));
    pipe->commit(std::move(rd));
  }

  /// For the pipeline (see commit_sink::serve): a read is answered from the
  /// state at the moment the core allows it.
  std::vector<read_answer> serve(const std::vector<paxos::read_result>& allowed) override {
    std::vector<read_answer> out;
    for (auto& r : allowed) {
      auto it = queries.find(r.id);
      if (it == queries.end())
        continue;
      read_answer a{r.id, r.status, {}, r.leader_hint};
      if (r.status == paxos::reply_status::ok)
        a.result = answer_query(it->second.query);
      if (probe && r.status == paxos::reply_status::ok)
        probe->on_read(std::chrono::steady_clock::now() - it->second.received);
      queries.erase(it);
      out.push_back(std::move(a));
    }
    return out;
  }

  /// A read's answer at this point of the log: the state machine's, or for
  /// an online backup the whole applied state with its counts (taken here,
  /// at one applied index; the gateway streams it while writes go on).
  std::string answer_query(const std::string& query) {
    if (paxos::is_members_query(query))
      return paxos::encode(core->report_members(known_peers));
    if (!backup::is_backup_query(query))
      return sm->query(query);
    // Encodes the frozen state on this thread: a backup's answer is the
    // state's bytes (rare, asked by an operator).
    auto snap = core->snapshot_now();
    if (!snap)
      return {};
    auto c = sm->describe();
    backup::state_summary s{c.revision, c.keys, c.sessions,
                            static_cast<std::uint32_t>(core->members().latest().members.size())};
    return backup::encode_backup_state(*snap, s);
  }

  /// Tells the process when the members to reach change, and once when this
  /// replica was removed (see replica_options::on_members, on_removed).
  void note_members() {
    auto& epochs = core->members().epochs();
    auto mark = std::make_tuple(epochs.size(), epochs.begin()->first, epochs.rbegin()->first,
                                core->members().latest().members.size());
    if (on_members && mark != members_mark) {
      members_mark = mark;
      on_members(paxos::roster_of(core->members()));
    }
    if (!removal_said && core->removed()) {
      removal_said = true;
      emit(logging::level::warn,
           "replica " + std::to_string(core->id()) +
             ": removed from the cluster (the membership no longer names it); it takes no "
             "part any more",
           "member_removed");
      if (on_removed)
        on_removed();
    }
  }

  /// A membership change (a command of `paxos::membership_client`): its
  /// request id is its token (replica::change_members), so the change is
  /// taken from the payload only. One without a token gets one here: its
  /// asker's retries are then other changes, but nothing is applied twice
  /// under one id.
  reply_promise change_members(const paxos::command& cmd, reply_promise& promise) {
    auto change = paxos::decode_change(cmd.payload);
    if (!change) {
      promise.deliver(paxos::client_reply{cmd.client, cmd.seq, paxos::reply_status::invalid,
                                          "not a membership change", core->leader_hint()});
      return promise;
    }
    if (!core->is_leader()) {
      promise.deliver(paxos::client_reply{
        cmd.client, cmd.seq, paxos::reply_status::not_leader, {}, core->leader_hint()});
      return promise;
    }
    // Members bootstrapped by --peers have no address in the membership:
    // the leader checks those itself (the log's own check sees the others).
    for (auto& [id, peer] : known_peers)
      if (change->what == paxos::member_change::kind::add_learner && peer == change->peer) {
        promise.deliver(paxos::client_reply{
          cmd.client, cmd.seq, paxos::reply_status::ok,
          "refused: member " + std::to_string(id) + " has that address already", core->id()});
        return promise;
      }
    if (change->token == 0)
      change->token = random_client_id();
    waiting[{paxos::membership_client, change->token}].promises.push_back(
      reply_sink{promise, nullptr, 0});
    core->change_members(*change);
    flush();
    return promise;
  }

  /// Opens the storage and builds the core and its clocks from the options.
  void open(const replica_options& opts) {
    tick_interval = opts.tick_interval;
    disk = opts.make_storage ? opts.make_storage() : std::make_unique<memory_storage>();
    sm = opts.make_state_machine();
    if (!disk || !sm)
      throw std::invalid_argument("replica_actor: a factory returned nullptr");
    core.emplace(opts.paxos, disk->load(), *sm);
    timed_disk.emplace(*disk, timing());
    pipe.emplace(*timed_disk, *this);
    events.emplace(opts.paxos.id);
    slow_sync = opts.slow_sync;
    lease = paxos::lease_clock{static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(opts.lease_max_step).count())};
    // An empty log has no time yet: it starts at this replica's wall clock, so
    // deadlines read as milliseconds since the epoch (client.capnp). Harmless:
    // no session exists before the first stamp, and from then on only elapsed
    // time moves it.
    if (sm->log_time_ms() == 0)
      lease.start_at(
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count()));
    observe_time();
  }

  /// Takes the embedder's callbacks and starts the two timers.
  void start(const replica_options& opts) {
    // Random per incarnation: a restarted leader's own commands must not be
    // taken for retries of its previous life's.
    own_client = fresh_own_client();
    housekeeping_interval = opts.housekeeping_interval;
    quota_bytes = opts.quota_bytes;
    on_event = opts.on_event;
    on_members = opts.on_members;
    on_removed = opts.on_removed;
    known_peers = opts.known_peers;
    probe = opts.probe;
    outlet = opts.outlet;
    observe_interval = opts.observe_interval;
    if (probe)
      probe->on_observe(*core, *sm);
    last_observed = std::chrono::steady_clock::now();
    self->delayed_send<caf::message_priority::high>(self, tick_interval, caf::tick_atom_v);
    self->delayed_send(self, housekeeping_interval, house_atom_v);
  }

  void housekeeping() {
    if (core->is_leader()) {
      propose_own(false);
      flush();
    }
    // The observer's clock rides on housekeeping: no timer of its own.
    auto now = std::chrono::steady_clock::now();
    if (probe && now - last_observed >= observe_interval) {
      last_observed = now;
      probe->on_observe(*core, *sm);
    }
    self->delayed_send(self, housekeeping_interval, house_atom_v);
  }

  void on_tick() {
    observe_time();
    core->tick();
    flush();
    // Urgent, like peer messages: time must not wait behind client writes.
    self->delayed_send<caf::message_priority::high>(self, tick_interval, caf::tick_atom_v);
  }

  void set_peers(peer_map all) {
    // Holding a handle to itself would only keep the actor from being collected.
    all.erase(core->id());
    peers = std::move(all);
  }

  /// A client's command: refused at once when the leader cannot take it,
  /// else queued for the next slot and answered once it applied.
  reply_promise propose(paxos::command& cmd) {
    auto promise = self->make_response_promise<paxos::client_reply>();
    if (cmd.client == paxos::membership_client)
      return change_members(cmd, promise);
    take(cmd, reply_sink{promise, nullptr, 0});
    flush();
    schedule_fill();
    return promise;
  }

  /// Several commands in one message (a gateway's writes of one moment):
  /// each is taken as `propose` takes it, and the answers go back together.
  batch_promise propose_batch(std::vector<paxos::command>& cmds) {
    auto answer = std::make_shared<batch_answer>();
    answer->promise = self->make_response_promise<std::vector<paxos::client_reply>>();
    answer->replies.resize(cmds.size());
    answer->pending += cmds.size();
    for (std::size_t i = 0; i < cmds.size(); ++i) {
      auto& cmd = cmds[i];
      // A membership change is asked on its own (bridge::change_members).
      if (cmd.client == paxos::membership_client)
        answer->set(i, paxos::client_reply{cmd.client,
                                           cmd.seq,
                                           paxos::reply_status::invalid,
                                           "a membership change cannot be batched",
                                           {}});
      else
        take(cmd, reply_sink{{}, answer, i});
    }
    flush();
    schedule_fill();
    auto promise = answer->promise;
    answer->release();
    return promise;
  }

  /// Refuses `cmd` at once, or queues it for the next slot with `sink`
  /// waiting for its answer.
  void take(paxos::command& cmd, reply_sink sink) {
    if (auto refusal = refuse(cmd)) {
      sink.deliver(*refusal);
      return;
    }
    auto& w = waiting[{cmd.client, cmd.seq}];
    if (probe && w.promises.empty())
      w.received = std::chrono::steady_clock::now();
    w.promises.push_back(std::move(sink));
    if (core->is_leader())
      sm->stamp(cmd.payload, lease_stamp());
    core->queue(std::move(cmd));
  }

  /// Batching: commands queue up while the mailbox holds more; one message
  /// to ourselves, behind them, puts them all into one slot.
  void schedule_fill() {
    if (!fill_scheduled) {
      fill_scheduled = true;
      self->send(self, fill_atom_v);
    }
  }

  /// Why a command cannot be taken now (full disk, quota, the state
  /// machine's admission), or nothing.
  std::optional<paxos::client_reply> refuse(const paxos::command& cmd) {
    if (pipe->disk_is_full())
      return paxos::client_reply{
        cmd.client,
        cmd.seq,
        paxos::reply_status::overloaded,
        "replica " + std::to_string(core->id()) + ": disk full, writes paused",
        {}};
    // A retry of a command that applied (or is being ordered) skips the
    // quota and the caps: the core answers it with its real result, so a
    // write that happened is never reported as refused.
    if (!core->is_leader() || core->knows(cmd))
      return std::nullopt;
    // The quota is the leader's call, not the log's: a soft limit (like
    // etcd's) that every command the leader already took may pass.
    if (quota_bytes > 0 && sm->grows(cmd.payload) && sm->state_bytes() >= quota_bytes)
      return paxos::client_reply{cmd.client, cmd.seq, paxos::reply_status::quota_exceeded,
                                 std::to_string(quota_bytes), core->id()};
    if (auto refusal = sm->admit(cmd.payload))
      return paxos::client_reply{cmd.client, cmd.seq, paxos::reply_status::ok, std::move(*refusal),
                                 core->id()};
    return std::nullopt;
  }

  void fill() {
    fill_scheduled = false;
    auto before = core->queued();
    core->flush();
    if (probe && before > core->queued())
      probe->on_batch(before - core->queued());
    flush();
  }

  caf::typed_response_promise<read_reply> read(std::string query) {
    auto id = ++next_read;
    auto promise = self->make_response_promise<read_reply>();
    queries.emplace(
      id, pending_query{std::move(query), probe ? std::chrono::steady_clock::now()
                                                : std::chrono::steady_clock::time_point{}});
    read_promises.emplace(id, promise);
    core->read(id);
    flush();
    return promise;
  }

  replica_status status() const {
    return replica_status{core->id(), core->is_leader(), core->leader_hint(), core->commit_index()};
  }

  std::vector<paxos::chosen_entry> chosen_log() const {
    std::vector<paxos::chosen_entry> log;
    for (paxos::slot_index slot = 1; slot <= core->commit_index(); ++slot)
      if (auto* val = core->chosen(slot))
        log.push_back({slot, *val});
    return log;
  }

  // --- commit_sink: what the commit pipeline asks of the actor --------------

  void send(paxos::envelope& env) override { send_message(env); }

  void schedule_sync(sync_when when) override {
    // To the back of the mailbox: every input already waiting shares the
    // sync. After a full disk, a second later.
    if (when == sync_when::after_queued_inputs)
      self->send(self, sync_atom_v);
    else
      self->delayed_send(self, std::chrono::seconds(1), sync_atom_v);
  }

  void disk_full(const std::string& why) override {
    emit(logging::level::error,
         "replica " + std::to_string(core->id()) + ": disk full, writes paused (" + why +
           "); retrying every second",
         "disk_full");
  }

  void disk_space_again() override {
    emit(logging::level::warn,
         "replica " + std::to_string(core->id()) + ": disk has space again, writes resume",
         "disk_space_again");
  }

  /// What the storage's slow calls took, for the probe and the log.
  timed_storage::hooks timing() {
    timed_storage::hooks h;
    h.on_synced = [this](timed_storage::duration took) {
      if (probe)
        probe->on_sync(took);
      if (auto slow = events->sync_took(took, slow_sync))
        emit(std::move(*slow));
    };
    // A snapshot is rare and large: worth a line with its cost, and with the
    // whole pause of this replica's thread (taking the state included),
    // which is what an election timeout has to outlast.
    h.on_compacted = [this](paxos::slot_index slot, std::size_t bytes,
                            timed_storage::duration took) {
      auto now = std::chrono::steady_clock::now();
      auto pause = input_started ? now - *input_started : std::chrono::nanoseconds{0};
      emit(events->snapshot(installing, slot, bytes, took, pause));
    };
    return h;
  }

  /// Queues the state machine's own commands (see replica_options): with
  /// `elected`, ahead of any client command of the new term.
  void propose_own(bool elected) {
    // One batch at a time: a leader whose log lags would otherwise queue a
    // redundant tick every housekeeping period until the first one applied.
    if (!elected && own_in_flight > 0)
      return;
    auto payloads = sm->leader_commands(lease_stamp(), elected);
    if (payloads.empty())
      return;
    // The dedup table refuses a client it does not know past its first
    // window (a client evicted after idling), and a follower may idle for
    // hours before it leads again: own commands stay within a fresh id's
    // first half window. Only with none in flight, as replies are matched
    // by the id.
    if (own_in_flight == 0 && own_seq + payloads.size() > own_seqs_per_id) {
      own_client = fresh_own_client();
      own_seq = 0;
    }
    for (auto& p : payloads) {
      core->queue(paxos::command{own_client, ++own_seq, std::move(p)});
      ++own_in_flight;
    }
    core->flush();
  }

  static std::uint64_t monotonic_ms() {
    // Steady, not the wall clock: an NTP step or an operator's `date -s` on
    // the leader must neither expire every session nor freeze log time.
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
  }

  /// Tells the operator how a repair from peers goes, once per change.
  void note_repair() {
    auto& rj = core->repair();
    auto now = std::make_tuple(rj.current(), rj.catching_up(), rj.blocked_by());
    if (last_repair && *last_repair == now)
      return;
    auto before = last_repair ? std::get<0>(*last_repair) : paxos::rejoin::mode::normal;
    last_repair = now;
    using mode = paxos::rejoin::mode;
    auto who = "replica " + std::to_string(core->id()) + ": ";
    if (rj.current() == mode::normal) {
      if (before == mode::repairing)
        emit(logging::level::info, who + "repaired: re-learned every slot up to " +
                                     std::to_string(rj.target()) + " from its peers; voting again");
      else if (before == mode::fresh)
        emit(logging::level::info, who + "no peer holds any state: joining a new cluster");
      return;
    }
    if (rj.current() == mode::fresh) {
      emit(logging::level::info,
           who + "empty data directory: asking the peers whether the cluster is new " +
             "before voting");
      return;
    }
    if (rj.catching_up()) {
      auto& p = core->promised();
      emit(logging::level::info, who + "every other member answered: promise restored to round " +
                                   std::to_string(p.round) + " of member " +
                                   std::to_string(p.node) + "; re-learning slots up to " +
                                   std::to_string(rj.target()) + " before it promises again");
    } else if (auto other = rj.blocked_by()) {
      emit(logging::level::warn,
           who + "cannot repair yet: member " + std::to_string(*other) +
             " lost state too, and two damaged members cannot vouch for each other; " +
             "waiting for it (restore one of them from a backup if it never comes back)");
    } else {
      emit(logging::level::warn,
           who + "state incomplete: repairing from the peers; it will not vote until " +
             "every other member has answered");
    }
  }

  /// Tells the operator that the core dropped messages as insane (see
  /// paxos/input_check.hpp): the first of each reason, then each time its
  /// count grew tenfold, so a flood of them cannot flood the log too.
  void note_rejected() {
    auto& r = core->rejected();
    if (r.total() == rejected_seen)
      return;
    rejected_seen = r.total();
    for (std::size_t i = 0; i < paxos::input_fault_count; ++i) {
      auto n = r.counts[i];
      auto& logged = rejected_logged[i];
      if (n == logged || (logged > 0 && n < logged * 10))
        continue;
      logged = n;
      emit(logging::level::warn,
           "replica " + std::to_string(core->id()) + ": dropped " + std::to_string(n) +
             " message(s) from the network as insane (" +
             paxos::name_of(static_cast<paxos::input_fault>(i)) + "; last from member " +
             std::to_string(r.last_from) + ")",
           "insane_input");
    }
  }

  /// Writes an operator's record: to `on_event` (its message) when the
  /// embedder gave one, else to the process's logger (runtime/log).
  void emit(logging::record r) {
    if (on_event) {
      on_event(r.msg);
      return;
    }
    logging::write(std::move(r));
  }

  void emit(std::vector<logging::record> rs) {
    for (auto& r : rs)
      emit(std::move(r));
  }

  void emit(logging::level lvl, std::string msg, const char* event = "repair") {
    if (!on_event && !logging::enabled(lvl))
      return;
    emit(logging::record{{},
                         lvl,
                         std::move(msg),
                         {logging::field{"event", event}, logging::field{"replica", core->id()}}});
  }

  /// Lets the lease clock read the monotonic clock and catch up with the
  /// log; every replica does it every tick (see paxos::lease_clock).
  void observe_time() {
    lease.advance(monotonic_ms());
    lease.follow(sm->log_time_ms(), core->is_leader());
  }

  /// The log time to stamp into a command proposed now.
  std::uint64_t lease_stamp() {
    lease.follow(sm->log_time_ms(), true);
    return lease.stamp(monotonic_ms());
  }

  void send_message(paxos::envelope& env) {
    // To ourselves: our own vote, back through the mailbox now that it is durable.
    if (env.to == core->id()) {
      std::visit(
        [&](auto& msg) { self->send<caf::message_priority::high>(self, env.from, std::move(msg)); },
        env.msg);
      return;
    }
    if (outlet && outlet->send(env.to, env.from, env.msg))
      return;
    auto peer = peers.find(env.to);
    // An unknown peer is a lost message, which the protocol tolerates.
    if (peer == peers.end())
      return;
    // The protocol's messages go ahead of client proposals in the peer's
    // mailbox (CAF's urgent queue): a flood of large writes must not delay
    // heartbeats and votes until followers think the leader is gone.
    std::visit(
      [&](auto& msg) {
        self->send<caf::message_priority::high>(peer->second, env.from, std::move(msg));
      },
      env.msg);
  }

  void reply(paxos::client_reply& reply) override {
    if (reply.client == own_client && own_in_flight > 0)
      --own_in_flight;
    auto it = waiting.find({reply.client, reply.seq});
    // No promise: the command came from elsewhere (a fire-and-forget send).
    if (it == waiting.end())
      return;
    auto promises = std::move(it->second.promises);
    if (probe && reply.status == paxos::reply_status::ok)
      probe->on_commit(std::chrono::steady_clock::now() - it->second.received);
    waiting.erase(it);
    for (auto& promise : promises)
      promise.deliver(reply);
  }

  void answer(read_answer& read) override {
    auto it = read_promises.find(read.id);
    if (it == read_promises.end())
      return;
    it->second.deliver(read_reply{read.status, std::move(read.result), read.leader_hint});
    read_promises.erase(it);
  }

  caf::event_based_actor* self;
  caf::timespan tick_interval{0};
  // Declared before `core`, which refers to the state machine: destroyed after it.
  std::unique_ptr<storage> disk;
  /// `disk` as the pipeline writes to it: timed (see timing()).
  std::optional<timed_storage> timed_disk;
  /// Group commit of the core's outputs (see flush()).
  std::optional<commit_pipeline> pipe;
  std::unique_ptr<paxos::state_machine> sm;
  std::optional<paxos::replica> core;
  /// Log time as this replica measures it (the leader stamps it).
  paxos::lease_clock lease{0};
  peer_map peers;
  /// Client requests waiting for their command's reply. Several promises per
  /// key: a client may retry while its first attempt is still in flight, and
  /// the core then answers the (client, seq) once, for both.
  struct waiter {
    std::vector<reply_sink> promises;
    /// When the first attempt arrived (read only with a probe).
    std::chrono::steady_clock::time_point received;
  };
  std::map<client_key, waiter> waiting;
  /// Reads in progress: their query and their requester.
  std::uint64_t next_read = 0;
  struct pending_query {
    std::string query;
    std::chrono::steady_clock::time_point received;
  };
  std::map<std::uint64_t, pending_query> queries;
  std::map<std::uint64_t, caf::typed_response_promise<read_reply>> read_promises;
  bool fill_scheduled = false;
  /// Leadership as of the last flush: a change to leading triggers the
  /// state machine's election commands.
  bool was_leader = false;
  /// The request ids of the leader's own commands (nobody waits for them).
  std::uint64_t own_client = 0;
  std::uint64_t own_seq = 0;
  /// Own commands proposed and not answered yet (this term).
  std::size_t own_in_flight = 0;
  caf::timespan housekeeping_interval{0};
  std::uint64_t quota_bytes = 0;
  std::function<void(const std::string&)> on_event;
  /// Leadership, catch-up, snapshot and sync events for the log (set once
  /// the core exists).
  std::optional<event_log> events;
  /// The input being handled is a peer's snapshot (see event_log::snapshot).
  bool installing = false;
  /// When the peer message being handled arrived at the core (only peer
  /// messages apply slots, so only they take snapshots).
  std::optional<std::chrono::steady_clock::time_point> input_started;
  /// A sync slower than this is logged as a warning (0: never).
  caf::timespan slow_sync{0};
  std::optional<std::tuple<paxos::rejoin::mode, bool, std::optional<paxos::node_id>>> last_repair;
  /// Drops by the core already reported (see note_rejected).
  std::uint64_t rejected_seen = 0;
  /// Per reason, the count last reported.
  std::array<std::uint64_t, paxos::input_fault_count> rejected_logged{};
  std::shared_ptr<replica_probe> probe;
  std::shared_ptr<peer_outlet> outlet;
  /// The leader as last told to the probe.
  std::optional<paxos::node_id> last_leader;
  caf::timespan observe_interval{0};
  std::chrono::steady_clock::time_point last_observed;
  std::function<void(const std::map<paxos::node_id, paxos::member>&)> on_members;
  std::function<void()> on_removed;
  std::map<paxos::node_id, std::string> known_peers;
  /// The epochs last told to on_members (count, first, last start, members).
  std::tuple<std::size_t, paxos::slot_index, paxos::slot_index, std::size_t> members_mark{};
  bool removal_said = false;
};

using replica_actor_ptr = caf::stateful_actor<replica_state>*;

/// The handler for one kind of peer message: re-wrap it into the envelope
/// the core expects (the sender travels next to the message).
template <class Message>
auto on_peer_message(replica_actor_ptr self) {
  return [self](paxos::node_id from, Message& msg) {
    auto& st = self->state;
    st.installing = std::is_same_v<Message, paxos::install_snapshot>;
    st.input_started = std::chrono::steady_clock::now();
    st.core->step(paxos::envelope{from, st.core->id(), paxos::message{std::move(msg)}});
    st.flush();
    st.installing = false;
    st.input_started.reset();
  };
}

/// Storage fails by throwing; nothing the replica does afterwards is safe,
/// so the actor stops with the storage's error.
auto stop_on_storage_failure(const replica_options& opts) {
  return [on_error = opts.on_storage_error, id = opts.paxos.id](
           caf::scheduled_actor*, std::exception_ptr& ep) -> caf::error {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
      // keep the generic text
    }
    logging::error("storage failure: the replica stops",
                   {{"event", "storage_error"}, {"replica", id}, {"error", what}});
    if (on_error)
      on_error(what);
    return caf::make_error(caf::sec::runtime_error, what);
  };
}

caf::behavior replica_actor(replica_actor_ptr self, const replica_options& opts) {
  self->state.open(opts);
  self->set_exception_handler(stop_on_storage_failure(opts));
  self->state.start(opts);
  return {
    [self](house_atom) { self->state.housekeeping(); },
    [self](caf::tick_atom) { self->state.on_tick(); },
    on_peer_message<paxos::prepare>(self),
    on_peer_message<paxos::promise>(self),
    on_peer_message<paxos::accept>(self),
    on_peer_message<paxos::accepted>(self),
    on_peer_message<paxos::reject>(self),
    on_peer_message<paxos::heartbeat>(self),
    on_peer_message<paxos::heartbeat_ack>(self),
    on_peer_message<paxos::catchup_request>(self),
    on_peer_message<paxos::catchup_reply>(self),
    on_peer_message<paxos::install_snapshot>(self),
    on_peer_message<paxos::state_query>(self),
    on_peer_message<paxos::state_report>(self),
    [self](peers_atom, peer_map& peers) { self->state.set_peers(std::move(peers)); },
    [self](propose_atom, paxos::command& cmd) -> caf::result<paxos::client_reply> {
      return self->state.propose(cmd);
    },
    [self](propose_batch_atom, std::vector<paxos::command>& cmds)
      -> caf::result<std::vector<paxos::client_reply>> { return self->state.propose_batch(cmds); },
    [self](fill_atom) { self->state.fill(); },
    [self](read_atom, std::string& query) -> caf::result<read_reply> {
      return self->state.read(std::move(query));
    },
    [self](sync_atom) { self->state.pipe->sync(); },
    [self](status_atom) { return self->state.status(); },
    [self](log_atom) { return self->state.chosen_log(); },
  };
}

}  // namespace

caf::actor spawn_replica(caf::actor_system& sys, replica_options opts) {
  if (!opts.make_state_machine)
    throw std::invalid_argument("spawn_replica: make_state_machine is required");
  if (opts.housekeeping_interval <= caf::timespan{0})
    throw std::invalid_argument("spawn_replica: housekeeping_interval must be positive");
  if (opts.tick_interval <= caf::timespan{0})
    throw std::invalid_argument("spawn_replica: tick_interval must be positive");
  return sys.spawn(replica_actor, std::move(opts));
}

void introduce(const peer_map& peers) {
  for (auto& [id, peer] : peers)
    caf::anon_send(peer, peers_atom_v, peers);
}

}  // namespace ballot::actors
