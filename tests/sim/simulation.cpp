#include "tests/sim/simulation.hpp"

#include "actors/replica/commit_pipeline.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <functional>
#include <iostream>

#include "actors/paxos/member_report.hpp"
#include "tests/sim/dedup_scenario.hpp"
#include "tests/sim/describe.hpp"
#include "tests/sim/forger.hpp"
#include "tests/sim/reconfig.hpp"
#include "tests/sim/recording_machine.hpp"
#include "tests/sim/sim_client.hpp"
#include "tests/sim/sim_disk.hpp"

namespace ballot::sim {

namespace {

using paxos::client_reply;
using paxos::command;
using paxos::envelope;

/// Virtual time runs in units; a replica tick is ten of them, so message
/// delays of a few units reorder messages within and across ticks.
constexpr std::uint64_t units_per_tick = 10;

struct node {
  /// Survives crashes: what the pipeline appended and synced (see sim_disk).
  sim_disk disk;
  std::unique_ptr<recording_machine> machine;
  std::unique_ptr<lock_machine> locks;  ///< instead of `machine` in the lock workload
  std::unique_ptr<paxos::replica> core;
  std::uint64_t restart_tick = 0;
  std::uint64_t incarnation = 0;
  int side = 0;  ///< partition side; nodes on different sides cannot talk
  // The leader hooks of the lock workload, as the replica actor keeps them.
  bool was_leader = false;
  std::uint64_t term = 0;        ///< the driver's number of its current leadership
  std::uint64_t own_client = 0;  ///< per incarnation: its own commands' client id
  std::uint64_t own_seq = 0;
  std::size_t own_in_flight = 0;  ///< own commands not answered yet, this term
  /// The replica actor's commit pipeline, over `disk`, with its outputs
  /// going to the simulated network (per incarnation, like the core).
  std::unique_ptr<actors::commit_sink> outlet;
  std::unique_ptr<actors::commit_pipeline> pipe;
};

/// Whether the run checks for amnesia and loses disks (drawn in world's
/// constructor from this stream): those runs do not reconfigure, so the
/// repair mutants' seeds replay as before reconfiguration existed.
bool amnesia_run(const options& opts) {
  std::mt19937_64 disk_rng{opts.seed * 0xD1B54A32D192ED03ULL + 17};
  return disk_rng() % 2 == 0;
}

class world final : public lock_host {
 public:
  explicit world(const options& opts)
      : opts_(opts),
        rng_(opts.seed * 0x9E3779B97F4A7C15ULL + opts.nodes),
        scenario_rng_(opts.seed * 0xD1B54A32D192ED03ULL + opts.nodes),
        sides_(opts.work == options::workload::lock || scenario_rng_() % 2 == 0),
        reconf_(opts.seed, opts.nodes, opts.work == options::workload::log && !amnesia_run(opts)),
        oracle_(opts.nodes, reconf_.alpha()),
        // Not in the runs that reconfigure: their measured seeds (7295) stand.
        dedup_(opts.seed, opts.work == options::workload::log && !reconf_.enabled()) {
    // Fault rates are drawn per run, so seeds span calm and very hostile networks.
    drop_ = uniform(0.0, 0.15);
    duplicate_ = uniform(0.0, 0.05);
    max_delay_ = 1 + below(40);
    crash_rate_ = uniform(0.0, 0.02);
    partition_rate_ = uniform(0.0, 0.02);
    max_down_ = (opts.nodes - 1) / 2 + (below(4) == 0 ? 1 : 0);
    // Pipelining and batching vary too: a window of one slot up to eight.
    window_ = std::size_t{1} << below(4);
    max_batch_ = 1 + below(4);
    // Compaction from never to very often, so snapshots are taken,
    // reloaded after crashes and sent to replicas that fell behind.
    snapshot_interval_ = std::array<std::uint64_t, 4>{0, 3, 10, 40}[below(4)];
    // A sync takes up to this long: a fast disk, or one slower than the
    // network, so the leader's own write may finish after a follower's vote.
    max_sync_delay_ = below(2) == 0 ? 2 : 2 * max_delay_;
    // Some runs have clients that lie about request ids.
    liars_ = below(2) == 0 ? 0.0 : 0.05;
    // Re-sends of phase 2a from every heartbeat to rarely.
    resend_interval_ = std::array<std::uint32_t, 3>{2, 5, 20}[below(3)];
    // Disk faults draw from a generator of their own, so that runs without
    // them follow the same course as before they existed. Half of the runs
    // check for amnesia (as ballotd does), and lose or damage disks.
    {
      std::mt19937_64 disk_rng{opts.seed * 0xD1B54A32D192ED03ULL + 17};
      if (disk_rng() % 2 == 0) {
        check_amnesia_ = true;
        disk_fault_rate_ = static_cast<double>(disk_rng() % 1000) / 1000.0;
        disk_rng_.seed(disk_rng());
      }
    }
    // A quarter of the runs give a majority of the nodes a disk slower than
    // an election timeout, so a candidate's quorum of promises reaches the
    // disks after its timer fired (elections end only by backing off, see
    // election_timer). A generator of their own: the other runs follow the
    // course they had before.
    {
      std::mt19937_64 slow_rng{opts.seed * 0x94D049BB133111EBULL + 37};
      if (slow_rng() % 4 == 0) {
        auto timeout = std::uint64_t{paxos::config{}.election_timeout_max} * units_per_tick;
        slow_sync_ = timeout + slow_rng() % (timeout + 1);
        std::vector<node_id> ids;
        for (node_id id = 1; id <= opts.nodes; ++id)
          ids.push_back(id);
        std::shuffle(ids.begin(), ids.end(), slow_rng);
        slow_disks_.insert(ids.begin(),
                           ids.begin() + static_cast<std::ptrdiff_t>(opts.nodes / 2 + 1));
      }
    }
    // Forged messages too (see forge_messages), refused unread: the run
    // follows the course it had before they existed.
    forge_rng_.seed(opts.seed * 0x2545F4914F6CDD1DULL + 29);
    for (node_id id = 1; id <= opts.nodes; ++id) {
      members_.push_back(id);
      nodes_[id];
    }
    bootstrap_ = members_;
    if (opts.work == options::workload::lock)
      lock_ = std::make_unique<lock_workload>(*this, oracle_, opts.clients, opts.nodes);
    for (node_id id : members_)
      start(id);
    trace("run: drop " + std::to_string(drop_) + ", duplicate " + std::to_string(duplicate_) +
          ", delay <= " + std::to_string(max_delay_) + ", crash " + std::to_string(crash_rate_) +
          ", partition " + std::to_string(partition_rate_) + ", sync <= " +
          std::to_string(max_sync_delay_) + ", window " + std::to_string(window_) + ", batch " +
          std::to_string(max_batch_) + ", snapshot every " + std::to_string(snapshot_interval_));
    trace(std::string("clients on both sides of partitions: ") + (sides_ ? "yes" : "no"));
    if (reconf_.enabled())
      trace("reconfiguration: alpha " + std::to_string(reconf_.alpha()));
    if (!slow_disks_.empty()) {
      std::string ids;
      for (auto id : slow_disks_)
        ids += " " + std::to_string(id);
      trace("slow disks:" + ids + ", every sync " + std::to_string(slow_sync_) + " units more");
    }
    if (lock_)
      trace(lock_->clocks().describe());
    if (dedup_.enabled())
      trace(dedup_.describe());
    if (lock_) {
      for (std::size_t i = 0; i < lock_->endpoints(); ++i) {
        client c;
        c.id = i + 1;
        c.retry_ticks = 10;
        clients_.push_back(c);
      }
      next_client_ = clients_.size() + 1;
      return;
    }
    for (std::size_t i = 0; i < opts.clients; ++i) {
      client c;
      c.id = i + 1;
      clients_.push_back(c);
    }
    next_client_ = clients_.size() + 1;
  }

  outcome run() {
    end_ = opts_.fault_ticks + liveness_ticks();
    for (tick_ = 0; tick_ <= end_ && !failed(); ++tick_) {
      for (std::uint64_t u = 0; u < units_per_tick && !failed(); ++u, ++now_)
        deliver_due();
      if (failed())
        break;
      if (tick_ < opts_.fault_ticks)
        inject_faults();
      else if (tick_ == opts_.fault_ticks)
        heal();
      if (lock_ && tick_ < opts_.fault_ticks)
        lock_->clocks().inject(now_);
      if (dedup_.enabled() && tick_ < opts_.fault_ticks)
        dedup_.inject(now_, opts_.nodes, [this](const std::string& line) { trace(line); });
      for (node_id id : members_)
        if (auto& n = nodes_[id]; n.core) {
          if (lock_)
            lock_->clocks().observe(id, now_, n.locks->log_time_ms(), n.core->is_leader());
          else if (dedup_.enabled())
            dedup_.observe(id, now_, n.machine->log_time_ms(), n.core->is_leader());
          n.core->tick();
          flush(id);
        }
      if (lock_)
        housekeeping();
      drive_operator();
      for (auto it = leaving_.begin(); it != leaving_.end();) {
        auto& n = nodes_[*it];
        // One that is down for a while (not dead for good) comes back and
        // leaves once it knows: until its removal takes effect, the slots
        // before it may need its vote (a removed leader crashed as the
        // others chose its removal), as an operator must wait for a removed
        // node to say it left before decommissioning it.
        if (n.core ? !n.core->removed() : dead_.count(*it) == 0) {
          ++it;
          continue;
        }
        trace("node " + std::to_string(*it) +
              (n.core ? " knows it was removed" : " removed, down"));
        retire(*it);
        it = leaving_.erase(it);
      }
      drive_clients();
      if (tick_ > opts_.fault_ticks && settled()) {
        check_final();
        break;
      }
    }
    if (!failed() && tick_ > end_)
      oracle_.fail("liveness: " +
                   (lock_ ? lock_->stuck(live_machines())
                          : std::to_string(pending()) + " commands still pending") +
                   " " + std::to_string(liveness_ticks()) + " ticks after the faults stopped");
    outcome out;
    out.violation = oracle_.violation();
    out.trace_hash = hash_;
    out.ticks = tick_;
    out.chosen_slots = oracle_.chosen_slots();
    out.acked = oracle_.acked();
    out.messages = messages_;
    out.crashes = crashes_;
    out.disk_faults = disk_faults_;
    out.partitions = partitions_;
    out.forged = forged_;
    out.forged_taken = forged_taken_;
    out.reconfigurations = reconf_.changes();
    out.fresh_leader_reads = fresh_leader_reads_;
    out.minority_leader_reads = minority_leader_reads_;
    out.late_retries = late_retries_;
    out.expired_answers = expired_answers_;
    out.late_cuts = late_cuts_;
    out.slow_disks = slow_disks_.size();
    out.leaderships = leaderships_;
    if (lock_)
      out.locks = lock_->stats();
    return out;
  }

  // --- lock_host: what the lock workload's clients use -------------------------

  std::uint64_t now_ms() const override { return now_; }
  std::uint64_t below(std::uint64_t n) override { return rng_() % n; }

  void start_command(std::size_t endpoint, const std::string& payload) override {
    auto& c = clients_[endpoint];
    ++c.seq;
    // The envelope names the command, so the oracle tells equal payloads apart.
    c.cmd =
      command{c.id, c.seq, std::to_string(c.id) + ":" + std::to_string(c.seq) + "|" + payload};
    oracle_.on_submitted(c.cmd);
    c.waiting = true;
    c.reading = false;
    submit(c);
  }

  void start_read(std::size_t endpoint, const std::string& query) override {
    auto& c = clients_[endpoint];
    c.reading = c.waiting = true;
    c.read_id = ++next_read_;
    read_owner_[c.read_id] = endpoint;
    read_query_[c.read_id] = query;
    submit(c);
  }

  void abandon(std::size_t endpoint) override {
    auto& c = clients_[endpoint];
    if (c.waiting && c.reading) {
      read_owner_.erase(c.read_id);
      read_query_.erase(c.read_id);
    }
    c.waiting = c.reading = false;
  }

  void renew(std::size_t endpoint) override {
    abandon(endpoint);
    auto& c = clients_[endpoint];
    c.id = next_client_++;
    c.seq = 0;
    c.hint.reset();
  }

  bool busy(std::size_t endpoint) const override { return clients_[endpoint].waiting; }

  void after(std::uint64_t delay_ms, std::function<void()> fn) override {
    event ev;
    ev.what = event::kind::timer;
    ev.fn = std::move(fn);
    schedule(std::move(ev), delay_ms);
  }

  std::uint64_t max_delay_ms() const override { return max_delay_; }
  void fail(std::string what) override { oracle_.fail(std::move(what)); }
  bool failed() const override { return oracle_.violation().has_value(); }

  void trace(const std::string& line) override {
    if (opts_.trace)
      std::printf("t=%llu.%llu %s\n", static_cast<unsigned long long>(now_ / units_per_tick),
                  static_cast<unsigned long long>(now_ % units_per_tick), line.c_str());
  }

 private:
  double uniform(double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng_);
  }
  bool chance(double p) { return uniform(0.0, 1.0) < p; }
  /// The liveness bound (options::liveness_ticks), doubled in the runs with
  /// slow disks: there every commit waits for syncs of 20-40 ticks, and an
  /// election for two in a row (the candidate's promise to itself, then a
  /// voter's), so the bound allows as many election and commit rounds as a
  /// run with fast disks gets.
  std::uint64_t liveness_ticks() const {
    return slow_disks_.empty() ? opts_.liveness_ticks : 2 * opts_.liveness_ticks;
  }
  /// The read-path scenarios draw from their own stream: a log-workload run
  /// without them (half) is the run it was before they existed, so other
  /// mutants' measured seeds stand.
  bool draw(double p) { return std::uniform_real_distribution<double>(0, 1)(scenario_rng_) < p; }

  void mix(std::uint64_t x) {
    // FNV-1a over 64-bit words: the trace hash proves a seed replays exactly.
    hash_ = (hash_ ^ x) * 0x100000001B3ULL;
  }

  /// The payload as a trace shows it.
  std::string show(const std::string& payload) const {
    return lock_ ? lock_workload::show(payload) : payload;
  }

  /// The time node `id`, as leader, stamps into a command proposed now
  /// (its lease clock; see node_clocks).
  std::uint64_t clock(node_id id) {
    return lock_->clocks().stamp(id, now_, nodes_[id].locks->log_time_ms());
  }

  std::vector<const lock_machine*> live_machines() const {
    std::vector<const lock_machine*> out;
    for (auto& [id, n] : nodes_)
      if (n.core)
        out.push_back(n.locks.get());
    return out;
  }

  /// The state machine's own commands, queued like the replica actor does:
  /// with `elected`, right after the core became leader, before any client
  /// command of its term; else on the housekeeping timer.
  void propose_own(node_id id, bool elected) {
    auto& n = nodes_[id];
    // One batch at a time, as the replica actor: a lagging leader must not
    // queue a tick every housekeeping period until the first one applies.
    if (!elected && n.own_in_flight > 0)
      return;
    auto now = clock(id);
    auto payloads = n.locks->leader_commands(now, elected);
    if (elected) {
      trace("node " + std::to_string(id) + " leads (term " + std::to_string(n.term) +
            ") at clock " + std::to_string(now));
      lock_->on_elected(id, n.term, now, payloads);
    }
    if (payloads.empty())
      return;
    for (auto& p : payloads) {
      ++n.own_seq;
      ++n.own_in_flight;
      command cmd{n.own_client, n.own_seq,
                  std::to_string(n.own_client) + ":" + std::to_string(n.own_seq) + "|" + p};
      oracle_.on_submitted(cmd);
      lock_->on_stamped(cmd.payload, n.term, now, id, n.locks->applied());
      trace("node " + std::to_string(id) + " proposes " + show(cmd.payload));
      n.core->queue(std::move(cmd));
    }
    n.core->flush();
  }

  /// Every leader's housekeeping timer (each node in its own phase).
  void housekeeping() {
    for (node_id id : members_)
      if (auto& n = nodes_[id];
          n.core && n.core->is_leader() && (tick_ + id) % lock_->housekeeping_ticks() == 0) {
        propose_own(id, false);
        flush(id);
      }
  }

  void start(node_id id) {
    auto& n = nodes_[id];
    paxos::config cfg;
    cfg.id = id;
    cfg.members = bootstrap_;
    cfg.alpha = reconf_.alpha();
    cfg.promote_max_lag = 20;
    if (reconf_.enabled()) {
      // As `ballotd --join` learns them from the cluster.
      cfg.peers = members_;
      // A member that never persisted anything never promised nor voted.
      cfg.joining = id > bootstrap_.size() && n.disk.state().holds_nothing();
    }
    cfg.window = window_;
    // Half the runs keep a leader cut off from its quorum for eight windows
    // before it steps down: stale leaders linger, as the safety rules must
    // survive (without a draw, so the rest of a run replays as before).
    if (opts_.seed % 2 == 0)
      cfg.quorum_window = 8 * cfg.election_timeout_max;
    quorum_window_ = cfg.quorum_window_ticks();
    cfg.max_batch = max_batch_;
    cfg.resend_interval = resend_interval_;
    cfg.snapshot_interval = snapshot_interval_;
    cfg.catchup_batch = 16;
    cfg.seed = opts_.seed * 1000003 + std::uint64_t{id} * 101 + n.incarnation++;
    cfg.check_amnesia = check_amnesia_;
    // Past the longest a message can take here (see rejoin's settle time).
    cfg.rejoin_settle_ticks = static_cast<std::uint32_t>(max_delay_ + 1);
    cfg.incarnation = n.incarnation;
    // The oracle sees each vote as it becomes durable.
    n.disk.on_durable([this, id](const paxos::ready& r) {
      for (const auto& [slot, vote] : r.accepted)
        oracle_.on_vote(id, slot, vote.ballot, vote.val);
    });
    n.outlet = std::make_unique<outlet>(*this, id);
    n.pipe = std::make_unique<actors::commit_pipeline>(n.disk, *n.outlet);
    if (lock_) {
      n.locks = lock_->make_machine(id);
      n.was_leader = false;
      n.own_client = (std::uint64_t{1} << 40) + std::uint64_t{id} * 1'000'000 + n.incarnation;
      n.own_seq = 0;
      n.core = std::make_unique<paxos::replica>(cfg, n.disk.state(), *n.locks);
      lock_->clocks().restart(id, now_, n.locks->log_time_ms());
      return;
    }
    if (dedup_.enabled()) {
      cfg.dedup_ttl_ms = dedup_.ttl_ms();
      cfg.dedup_window = dedup_.window();
      cfg.dedup_max_step_ms = dedup_.max_step_ms();
    }
    n.machine = std::make_unique<recording_machine>(oracle_, id);
    n.core = std::make_unique<paxos::replica>(cfg, n.disk.state(), *n.machine);
    if (dedup_.enabled())
      dedup_.restart(id, now_, n.machine->log_time_ms());
  }

  void crash(node_id id, bool disk_faults = true) {
    auto& n = nodes_[id];
    // Written but not synced: the page cache may or may not have flushed a
    // prefix of it; the outputs the pipeline held are lost either way.
    auto unsynced = n.disk.unsynced();
    n.disk.crash(unsynced == 0 ? 0 : below(unsynced + 1));
    n.pipe.reset();
    n.outlet.reset();
    if (disk_faults)
      lose_disk(id);
    n.core.reset();
    n.machine.reset();
    n.locks.reset();
    n.restart_tick = tick_ + 5 + below(60);
    ++crashes_;
    trace("crash " + std::to_string(id));
  }

  /// A disk fault with the crash: the data directory is gone, or recovery
  /// found damage and set aside everything after it. Only while every other
  /// member is whole: two damaged members refuse to repair (by design), and
  /// the run's liveness check would count that as a failure.
  void lose_disk(node_id id) {
    // A member lost with its disk is replaced (reconfig's "replace"), not
    // brought back empty under its id.
    if (!check_amnesia_ || reconf_.enabled() ||
        static_cast<double>(disk_rng_() % 10000) / 10000.0 >= disk_fault_rate_)
      return;
    for (auto& [other, o] : nodes_) {
      if (other == id)
        continue;
      if (!o.disk.whole() || (o.core && !o.core->repair().normal()))
        return;
    }
    ++disk_faults_;
    if (auto cut = nodes_[id].disk.fault(disk_rng_))
      trace("disk damaged " + std::to_string(id) + " from slot " + std::to_string(*cut));
    else
      trace("disk lost " + std::to_string(id));
  }

  std::size_t down() const {
    std::size_t result = 0;
    for (auto id : members_)
      result += nodes_.at(id).core ? 0 : 1;
    return result;
  }

  /// The operator: membership changes asked of the cluster (see reconfig.hpp).
  void drive_operator() {
    // Not while a change waits to take effect: the voters it replaces may
    // be needed to get there.
    bool may_kill =
      !oracle_.change_pending() && std::all_of(members_.begin(), members_.end(), [&](node_id id) {
        auto& n = nodes_[id];
        if (!n.disk.whole())
          return false;
        // One down for a while may not have applied the change's effect
        // (seed 36380: a kill while the others were down left slots that
        // needed it); one dead for good does not count.
        if (!n.core)
          return dead_.count(id) != 0;
        // ...and every running member applied the last change and its effect.
        auto& m = n.core->members();
        return n.core->repair().normal() &&
               m.epochs().rbegin()->first <= n.core->commit_index() + 1 &&
               m.latest() == oracle_.latest_configuration();
      });
    auto a =
      reconf_.next(tick_, oracle_.latest_configuration(), tick_ < opts_.fault_ticks, may_kill);
    if (a.what == reconfigurator::action::kind::kill) {
      // Dead for good, but a voter until its removal takes effect: it counts
      // as down, and nothing restarts it.
      trace("operator: node " + std::to_string(a.victim) + " dies for good");
      if (nodes_[a.victim].core)
        crash(a.victim, false);
      dead_.insert(a.victim);
      return;
    }
    if (a.what != reconfigurator::action::kind::change)
      return;
    // The leader it last heard of, else the next member in turn.
    node_id to = operator_hint_.value_or(0);
    if (std::find(members_.begin(), members_.end(), to) == members_.end() || !nodes_[to].core) {
      operator_turn_ = (operator_turn_ + 1) % members_.size();
      to = members_[operator_turn_];
    }
    operator_hint_.reset();
    auto& n = nodes_[to];
    if (!n.core)
      return;
    // The operator's id for the change is its token, the same on every
    // retry: what keeps a retry whose first try applied from applying again.
    auto change = a.change;
    change.token = a.seq;
    command cmd{paxos::membership_client, a.seq, paxos::encode(change)};
    oracle_.on_submitted(cmd);
    trace("operator asks " + std::to_string(to) + ": " + cmd.payload.str());
    n.core->change_members(change);
    if (a.cut_off_ticks != 0 && change.id == to && n.core->is_leader() && !cut_off_) {
      // Deaf first (its accepts leave, the votes never come back), then
      // cut off both ways: the others elect a leader that finishes it.
      cut_off_ = leader_cut{to, tick_ + 5, tick_ + a.cut_off_ticks};
      // The cut is a fault, also after the others stopped: the run has its
      // liveness ticks from when the cut leader can have noticed. It steps
      // down at the end of the first whole window without a quorum, within
      // two windows of the cut (seed 66890: cut at 365, eight-fold windows
      // of 160 ticks, stepped down at 678, the run ended at 701).
      end_ = std::max(end_, tick_ + 2 * quorum_window_ + liveness_ticks());
      late_cuts_ += tick_ >= opts_.fault_ticks ? 1 : 0;
      trace("operator: cut off leader " + std::to_string(to) + " until " +
            std::to_string(cut_off_->until));
    }
    flush(to);
  }

  void on_operator_reply(const client_reply& r) {
    if (r.status != paxos::reply_status::ok) {
      operator_hint_ = r.leader_hint;
      reconf_.retry_soon(tick_);
      return;
    }
    trace("operator: seq " + std::to_string(r.seq) + " -> " + r.result);
    if (r.result.rfind("ok ", 0) == 0 && !oracle_.chosen(paxos::membership_client, r.seq))
      return oracle_.fail("the operator got " + r.result + " for change " + std::to_string(r.seq) +
                          " but no chosen slot holds it");
    // Every answer to a change is what its first application answered (a
    // lagging learner's refusal never reaches the log).
    if (auto first = oracle_.change_result(r.seq);
        !paxos::is_lag_refusal(r.result) && first != r.result)
      return oracle_.fail("the operator got " + r.result + " for change " + std::to_string(r.seq) +
                          ", first applied as " + first.value_or("nothing"));
    auto out = reconf_.on_result(r.seq, r.result, tick_);
    // (A message to it may have made its entry already: it runs only now.)
    if (out.joined != 0 && !nodes_[out.joined].core &&
        std::find(members_.begin(), members_.end(), out.joined) == members_.end()) {
      members_.push_back(out.joined);
      start(out.joined);
      trace("node " + std::to_string(out.joined) + " joins as a learner");
    }
    // A removed member leaves once it saw its removal take effect (a leader
    // removed drives the slots up to there first), or when it is down.
    if (out.removed != 0)
      leaving_.insert(out.removed);
  }

  /// A removed member leaves the run: no more faults, clients or ticks, and
  /// it is not waited for at the end. A live one still answers messages (a
  /// repairing member may ask it what it holds) but stands for nothing.
  void retire(node_id id) {
    auto it = std::find(members_.begin(), members_.end(), id);
    if (it == members_.end())
      return;
    members_.erase(it);
    retired_.insert(id);
  }

  void inject_faults() {
    for (node_id id : members_) {
      auto& n = nodes_[id];
      if (!n.core && tick_ >= n.restart_tick && dead_.count(id) == 0) {
        start(id);
        trace("restart " + std::to_string(id));
      }
    }
    forge_messages();
    if (chance(crash_rate_) && down() < max_down_ && !members_.empty())
      crash(members_[below(members_.size())]);
    if (partitioned_ && tick_ >= heal_tick_) {
      for (auto& [id, n] : nodes_)
        n.side = 0;
      partitioned_ = false;
      trace("heal partition");
    } else if (!partitioned_ && chance(partition_rate_)) {
      std::string sides;
      for (node_id id : members_) {
        nodes_[id].side = static_cast<int>(below(2));
        sides += " " + std::to_string(id) + ":" + std::to_string(nodes_[id].side);
      }
      for (std::size_t i = 0; sides_ && i < clients_.size(); ++i)  // a lock client's 3 together
        clients_[i].side = lock_ && i % 3 != 0 ? clients_[i - 1].side : draw(0.5);
      partitioned_ = true;
      heal_tick_ = tick_ + 5 + below(80);
      ++partitions_;
      trace("partition" + sides);
    }
  }

  /// Now and then a member (buggy, compromised, or corrupt bytes on its
  /// link) sends every other live member a message the core must refuse
  /// (see forger.hpp). A refused one changes nothing; one taken (only a
  /// mutant takes one) is carried out, and the invariants judge the damage.
  void forge_messages() {
    if (forge_rng_() % 100 >= 2)
      return;
    auto forger = members_[forge_rng_() % members_.size()];
    auto kind = forge_rng_();
    for (node_id id : members_) {
      auto& n = nodes_[id];
      if (id == forger || !n.core)
        continue;
      auto env = forge(kind, forger, *n.core, highest_id());
      if (opts_.trace)
        trace("forged " + std::to_string(env.from) + "->" + std::to_string(id) + " " +
              describe(env.msg));
      auto refused = n.core->rejected().total();
      n.core->step(env);
      ++forged_;
      if (n.core->rejected().total() == refused) {
        ++forged_taken_;
        trace("node " + std::to_string(id) + " took a forged message");
        flush(id);
      }
    }
  }

  /// The faults stop: the network heals and every node comes back, except
  /// that in some runs a minority stays down for good (liveness needs only a
  /// connected majority).
  /// Whether the operator's cut (drive_operator) drops a message.
  bool cut(node_id from, node_id to) {
    if (cut_off_ && tick_ >= cut_off_->until)
      cut_off_.reset();
    return cut_off_ &&
           (to == cut_off_->node || (from == cut_off_->node && tick_ >= cut_off_->deaf_until));
  }

  void heal() {
    cut_off_.reset();
    drop_ = 0;
    duplicate_ = 0;
    partitioned_ = false;
    std::size_t keep_down = below(2) == 0 ? below((opts_.nodes - 1) / 2 + 1) : 0;
    // The voters change: every member comes back.
    if (reconf_.enabled())
      keep_down = 0;
    // A member that repairs (or may: an empty disk) needs every other member
    // to answer it, by design; liveness then needs them all.
    if (check_amnesia_)
      for (auto& [id, n] : nodes_)
        if (!n.disk.whole() || (n.core && !n.core->repair().normal()))
          keep_down = 0;
    for (node_id id : members_) {
      auto& n = nodes_[id];
      n.side = 0;
      if (!n.core && keep_down > 0) {
        --keep_down;
        continue;
      }
      if (!n.core && dead_.count(id) == 0)
        start(id);
    }
    for (std::size_t i = 0; i < members_.size() && keep_down > 0; ++i)
      if (auto id = members_[below(members_.size())]; nodes_[id].core) {
        crash(id, false);
        --keep_down;
      }
    trace("faults stop: network healed, " + std::to_string(down()) + " node(s) stay down");
  }

  void schedule(event ev, std::uint64_t delay) {
    queue_.emplace(std::make_pair(now_ + delay, next_event_++), std::move(ev));
  }

  void send(envelope env) {
    ++messages_;
    if (env.from == env.to) {
      // A leader's own vote, handed back by its driver once durable: a
      // mailbox message, never lost (but gone with a crash).
      schedule(event{event::kind::message, std::move(env), 0, {}, 0, 0, {}}, 1);
      return;
    }
    if (chance(drop_))
      return;
    bool twice = chance(duplicate_);
    event ev{event::kind::message, std::move(env), 0, {}, 0, 0, {}};
    if (twice)
      schedule(ev, 1 + below(max_delay_));
    schedule(std::move(ev), 1 + below(max_delay_));
  }

  /// Carries out a replica's ready through the replica actor's own commit
  /// pipeline (group commit, early phase 2a, answers after the sync), over
  /// the node's simulated disk; the oracle sees each vote as it becomes
  /// durable (see sim_disk).
  void flush(node_id id) {
    auto& n = nodes_[id];
    if (n.core->is_leader() != n.was_leader) {
      n.was_leader = n.core->is_leader();
      trace("node " + std::to_string(id) + (n.was_leader ? " leads" : " no longer leads"));
      leaderships_ += n.was_leader ? 1 : 0;
      n.own_in_flight = 0;
      // Log workload: a client that waited for the election reads at once,
      // while the new leader still re-proposes what it recovered.
      if (!lock_ && sides_ && n.was_leader && tick_ < opts_.fault_ticks && draw(0.5) && read_at(id))
        ++fresh_leader_reads_;
      if (lock_ && n.was_leader) {
        n.term = ++terms_;
        propose_own(id, true);
      }
    }
    auto r = n.core->take_ready();
    for (const auto& c : r.chosen)
      oracle_.on_learned(id, c.slot, c.val);
    n.pipe->commit(std::move(r));
  }

  /// A read is served the moment the core allows it, from node `id`'s state
  /// machine as it is now (the log workload: how many commands it applied);
  /// it leaves with the other outputs.
  std::vector<actors::read_answer> serve(node_id id, const std::vector<paxos::read_result>& rs) {
    auto& n = nodes_[id];
    std::vector<actors::read_answer> reads;
    for (auto& rd : rs) {
      if (read_owner_.count(rd.id) == 0)
        continue;
      std::string answer;
      if (rd.status == paxos::reply_status::ok)
        answer =
          lock_ ? n.locks->query(read_query_[rd.id]) : std::to_string(n.machine->log().size());
      reads.push_back(actors::read_answer{rd.id, rd.status, answer, rd.leader_hint});
    }
    return reads;
  }

  /// The commit pipeline's outputs of node `id` (see outlet).
  void reply_from(node_id id, const client_reply& reply) {
    auto& n = nodes_[id];
    n.own_in_flight -= reply.client == n.own_client && n.own_in_flight > 0 ? 1 : 0;
    expired_answers_ += reply.status == paxos::reply_status::expired ? 1 : 0;
    if (reply.client == paxos::membership_client) {
      if (!chance(drop_))
        after(1 + below(max_delay_), [this, reply] { on_operator_reply(reply); });
      return;
    }
    for (std::size_t i = 0; i < clients_.size(); ++i)
      if (clients_[i].id == reply.client && !chance(drop_))
        schedule(event{event::kind::reply, {}, 0, {}, 0, i, reply}, 1 + below(max_delay_));
  }

  void answer_read(const actors::read_answer& read) {
    auto owner = read_owner_.find(read.id);
    if (owner == read_owner_.end() || chance(drop_))
      return;
    client_reply reply{clients_[owner->second].id, read.id, read.status, read.result,
                       read.leader_hint};
    // read_id marks it a read's answer: read ids and write seqs overlap.
    schedule(event{event::kind::reply, {}, 0, {}, read.id, owner->second, reply},
             1 + below(max_delay_));
  }

  /// The sync completes after a random while, letting other inputs in (a
  /// retry after a full disk: after a few ticks).
  void schedule_sync(node_id id, actors::sync_when when) {
    auto incarnation = nodes_[id].incarnation;
    auto delay = when == actors::sync_when::after_queued_inputs ? below(max_sync_delay_ + 1)
                                                                : 3 * units_per_tick;
    if (slow_disks_.count(id) != 0)
      delay += slow_sync_;
    after(delay, [this, id, incarnation] {
      auto& m = nodes_[id];
      if (!m.core || m.incarnation != incarnation)
        return;  // crashed meanwhile: crash() settled what survived
      m.pipe->sync();
    });
  }

  /// A node's commit pipeline hands its outputs to the simulated network.
  class outlet final : public actors::commit_sink {
   public:
    outlet(world& w, node_id id) : w_(w), id_(id) {}
    void send(envelope& env) override { w_.send(std::move(env)); }
    void reply(client_reply& reply) override { w_.reply_from(id_, reply); }
    std::vector<actors::read_answer> serve(const std::vector<paxos::read_result>& rs) override {
      return w_.serve(id_, rs);
    }
    void answer(actors::read_answer& read) override { w_.answer_read(read); }
    void schedule_sync(actors::sync_when when) override { w_.schedule_sync(id_, when); }
    void disk_full(const std::string& why) override {
      w_.trace("node " + std::to_string(id_) + " disk full: " + why);
    }
    void disk_space_again() override { w_.trace("node " + std::to_string(id_) + " disk space"); }

   private:
    world& w_;
    node_id id_;
  };

  void deliver_due() {
    while (!queue_.empty() && queue_.begin()->first.first <= now_ && !failed()) {
      auto ev = std::move(queue_.begin()->second);
      queue_.erase(queue_.begin());
      switch (ev.what) {
        case event::kind::message: {
          auto& to = nodes_[ev.env.to];
          if (!to.core || to.side != nodes_[ev.env.from].side || cut(ev.env.from, ev.env.to))
            break;
          mix(now_);
          mix(ev.env.from * 31 + ev.env.to);
          mix(ev.env.msg.index());
          if (opts_.trace)
            trace(std::to_string(ev.env.from) + "->" + std::to_string(ev.env.to) + " " +
                  describe(ev.env.msg));
          to.core->step(ev.env);
          flush(ev.env.to);
          break;
        }
        case event::kind::request: {
          auto& to = nodes_[ev.node];
          if (!to.core || (sides_ && partitioned_ && clients_[ev.client].side != to.side))
            break;
          if (ev.read_id != 0 && to.core->is_leader() && !majority_on(nodes_, to.side))
            ++minority_leader_reads_;
          if (ev.read_id != 0) {
            mix(now_ ^ (ev.read_id << 20));
            trace("read " + std::to_string(ev.read_id) + " -> " + std::to_string(ev.node));
            to.core->read(ev.read_id);
          } else {
            mix(now_ ^ (ev.cmd.client << 32) ^ ev.cmd.seq);
            auto cmd = std::move(ev.cmd);
            // The leader stamps its clock into a lock command as it proposes it.
            if (lock_ && to.core->is_leader()) {
              auto stamp = clock(ev.node);
              to.locks->stamp(cmd.payload, stamp);
              oracle_.on_submitted(cmd);
              lock_->on_stamped(cmd.payload, to.term, stamp, ev.node, to.locks->applied());
            } else if (dedup_.enabled() && to.core->is_leader()) {
              stamp_log_command(ev.node, cmd);
            }
            trace("client " + std::to_string(cmd.client) + " -> " + std::to_string(ev.node) +
                  " propose " + show(cmd.payload));
            to.core->propose(std::move(cmd));
          }
          flush(ev.node);
          break;
        }
        case event::kind::reply:
          on_reply(ev.client, ev.reply, ev.read_id != 0);
          break;
        case event::kind::timer:
          mix(now_ ^ 0x5DEECE66DULL);
          ev.fn();
          break;
      }
    }
  }

  void on_reply(std::size_t index, const client_reply& r, bool to_read) {
    auto& c = clients_[index];
    if (!c.waiting || r.client != c.id || to_read != c.reading ||
        r.seq != (c.reading ? c.read_id : c.cmd.seq))
      return;  // a late answer to an earlier attempt
    mix(now_ ^ (r.client << 40) ^ (r.seq << 1) ^ static_cast<std::uint64_t>(r.status));
    c.hint = r.leader_hint;
    if (lock_ && r.status == paxos::reply_status::ok) {
      if (c.reading) {
        read_owner_.erase(c.read_id);
        read_query_.erase(c.read_id);
      } else {
        oracle_.on_acked(c.id, c.seq, r.result);
      }
      c.waiting = c.reading = false;
      lock_->on_reply(index, r.result);
      return;
    }
    if (lock_ && r.status == paxos::reply_status::expired)
      return oracle_.fail("client " + std::to_string(c.id) + " seq " + std::to_string(c.seq) +
                          " answered expired (older than the dedup window)");
    if (dedup_.enabled() && !c.reading && r.status == paxos::reply_status::expired)
      return on_expired(c);
    if (c.reading && r.status == paxos::reply_status::ok) {
      trace("client " + std::to_string(c.id) + " read " + std::to_string(c.read_id) + " sees " +
            r.result + " commands");
      oracle_.on_read(c.id, c.read_floor, std::stoull(r.result));
      c.waiting = c.reading = false;
      read_owner_.erase(c.read_id);
      return;
    }
    if (c.lying) {
      if (r.status == paxos::reply_status::ok)
        return oracle_.fail("client " + std::to_string(c.id) + " got an OK for " +
                            c.cmd.payload.str() + " (seq " + std::to_string(c.cmd.seq) +
                            "), which reused a request id or had seq 0");
      if (r.status != paxos::reply_status::not_leader) {
        trace("client " + std::to_string(c.id) + " refused " + c.cmd.payload.str() + ": " +
              paxos::name_of(r.status));
        // The refusal must say why: a reused id, or no id.
        auto want = c.cmd.seq == 0 ? paxos::reply_status::invalid : paxos::reply_status::id_reused;
        if (r.status != want)
          return oracle_.fail("client " + std::to_string(c.id) + " got " +
                              paxos::name_of(r.status) + " for " + c.cmd.payload.str() + ", not " +
                              paxos::name_of(want));
        c.waiting = c.lying = false;
        return;
      }
    }
    if (r.status == paxos::reply_status::ok) {
      trace("client " + std::to_string(c.id) + " ok seq=" + std::to_string(c.seq) +
            " result=" + r.result);
      oracle_.on_acked(c.id, c.seq, r.result);
      c.waiting = false;
      c.acked_tick = tick_;
      if (dedup_.enabled())
        on_write_ended(c, true);
      return;
    }
    trace("client " + std::to_string(c.id) + " not_leader from a replica, hint " +
          (r.leader_hint ? std::to_string(*r.leader_hint) : std::string("none")));
    // Not the leader: retry soon, at the hinted leader if there is one.
    c.retry_tick = std::min(c.retry_tick, tick_ + 2);
  }

  void submit(client& c) {
    // Like a real client: go where the hint says, else try the next endpoint
    // (round robin reaches a live node within one lap).
    c.target = c.hint && *c.hint != c.target ? *c.hint : next_member(c.target);
    c.hint.reset();
    c.retry_tick = tick_ + c.retry_ticks;
    trace("client " + std::to_string(c.id) + " sends " +
          (c.reading ? "read " + std::to_string(c.read_id) : show(c.cmd.payload)) + " to " +
          std::to_string(c.target));
    auto index = static_cast<std::size_t>(&c - clients_.data());
    schedule(event{event::kind::request, {}, c.target, c.cmd, c.reading ? c.read_id : 0, index, {}},
             1 + below(max_delay_));
  }

  /// Client i starts a linearizable read (of the log workload).
  void begin_read(std::size_t i) {
    auto& c = clients_[i];
    c.reading = c.waiting = true;
    c.read_id = ++next_read_;
    c.read_floor = oracle_.newest_acked_position();
    read_owner_[c.read_id] = i;
  }

  /// A client not writing starts a read at node `id` now (false if none).
  bool read_at(node_id id) {
    for (std::size_t k = 0, first = scenario_rng_() % clients_.size(); k < clients_.size(); ++k) {
      auto i = (first + k) % clients_.size();
      auto& c = clients_[i];
      if (c.waiting && !c.reading)
        continue;
      read_owner_.erase(c.read_id);  // a read waiting elsewhere gives up: no harm
      begin_read(i);
      c.side = nodes_[id].side;
      c.retry_tick = tick_ + c.retry_ticks;
      trace("client " + std::to_string(c.id) + " reads at " + std::to_string(id) + " at once");
      schedule(event{event::kind::request, {}, id, c.cmd, c.read_id, i, {}}, 1);
      return true;
    }
    return false;
  }

  void drive_clients() {
    // A leader cut off from the majority that does not know it yet: a client
    // on its side asks it for a read, now and then through the partition.
    for (node_id id : members_)
      if (auto& n = nodes_[id]; !lock_ && sides_ && partitioned_ && n.core && n.core->is_leader() &&
                                !majority_on(nodes_, n.side) && draw(0.1))
        read_at(id);
    if (lock_) {
      // Endpoints retry unanswered requests (unless their process is paused);
      // then the lock clients act.
      for (std::size_t i = 0; i < clients_.size(); ++i)
        if (auto& c = clients_[i]; c.waiting && tick_ >= c.retry_tick && !lock_->paused(i))
          submit(c);
      lock_->drive(tick_ < opts_.fault_ticks);
      return;
    }
    for (std::size_t i = 0; i < clients_.size(); ++i) {
      auto& c = clients_[i];
      if (c.waiting) {
        if (dedup_.enabled() && !c.reading && now_ > c.first_sent + dedup_.retry_limit_ms()) {
          trace("client " + std::to_string(c.id) + " gives up seq " + std::to_string(c.cmd.seq));
          on_write_ended(c, false);
        } else if (tick_ >= c.retry_tick) {
          submit(c);  // same (client, seq): the replicas apply it once
        }
      } else if (dedup_.enabled() && now_ < c.sleep_until) {
        continue;
      } else if (tick_ < opts_.fault_ticks && chance(0.1)) {
        begin_read(i);
        submit(c);
      } else if (tick_ < opts_.fault_ticks && c.seq > 0 && tick_ > c.acked_tick + 50 &&
                 (!dedup_.enabled() || remembered(c)) && chance(liars_)) {
        // An attack on the request id: the last write's id with another
        // payload, or no id at all (seq 0).
        bool zero = chance(0.3);
        auto seq = zero ? 0 : c.seq;
        c.cmd = command{c.id, seq,
                        (zero ? "Z" : "L") + std::to_string(c.id) + "." + std::to_string(c.seq) +
                          "." + std::to_string(tick_)};
        oracle_.on_submitted_lie(c.cmd);
        c.waiting = c.lying = true;
        c.first_sent = now_;
        submit(c);
      } else if (tick_ < opts_.fault_ticks && chance(0.3)) {
        // As the client library: after writing nothing for a while, a fresh id.
        if (dedup_.enabled() && c.seq > 0 && now_ >= c.idle_since + dedup_.fresh_after_ms())
          renew_log_client(c, "was idle");
        c.cmd = command{c.id, ++c.seq, "c" + std::to_string(c.id) + "." + std::to_string(c.seq)};
        oracle_.on_submitted(c.cmd);
        c.waiting = true;
        c.first_sent = now_;
        submit(c);
      }
    }
  }

  // --- runs that evict idle clients (see dedup_scenario.hpp) ------------------

  /// The leader `id` stamps its lease clock into a client's command.
  void stamp_log_command(node_id id, command& cmd) {
    auto& n = nodes_[id];
    n.machine->stamp(cmd.payload, dedup_.stamp(id, now_, n.machine->log_time_ms()));
    bool lie = !cmd.payload.empty() && (cmd.payload[0] == 'L' || cmd.payload[0] == 'Z');
    if (lie)
      oracle_.on_submitted_lie(cmd);
    else
      oracle_.on_submitted(cmd);
  }

  /// Whether the table still knows the client's last acknowledged write
  /// wherever a lie sent now applies (within its retry limit): a lie under an
  /// id the table forgot, or under a write given up (that may never have
  /// applied), is a new command, not a lie.
  bool remembered(const client& c) const {
    return c.acked_sent && c.acked_seq == c.seq &&
           now_ + dedup_.retry_limit_ms() < *c.acked_sent + dedup_.remembered_ms();
  }

  /// A write answered `expired`: never applied now, its outcome unknown. A
  /// live client must never be refused so; else it goes on with a fresh id.
  void on_expired(client& c) {
    if (!c.lying && c.acked_sent && now_ < *c.acked_sent + dedup_.live_ms())
      return oracle_.fail("client " + std::to_string(c.id) + " seq " + std::to_string(c.cmd.seq) +
                          " answered expired while live: its write first sent at t=" +
                          std::to_string(*c.acked_sent / units_per_tick) +
                          " was acknowledged (ttl " + std::to_string(dedup_.ttl_ms()) + " ms)");
    trace("client " + std::to_string(c.id) + " seq " + std::to_string(c.cmd.seq) + " expired");
    on_write_ended(c, false);
    renew_log_client(c, "was forgotten");
  }

  /// The write in flight is acknowledged (`acked`) or given up.
  void on_write_ended(client& c, bool acked) {
    c.waiting = false;
    c.idle_since = now_;
    if (acked) {
      c.acked_sent = c.first_sent;
      c.acked_seq = c.cmd.seq;
    }
    if (!c.lying && c.cmd.seq > dedup_.window() && dedup_.late_retry())
      late_retry(c.cmd);
    c.lying = false;
    if (acked && dedup_.sleeps())
      c.sleep_until = now_ + dedup_.sleep_ms();
  }

  void renew_log_client(client& c, const char* why) {
    auto old = c.id;
    c.id = next_client_++;
    c.seq = 0;
    c.acked_sent.reset();
    c.hint.reset();
    trace("client " + std::to_string(old) + " " + why + ": now client " + std::to_string(c.id));
  }

  /// `cmd` comes back one to two TTLs later, at whichever node leads then.
  void late_retry(const command& cmd) {
    auto delay = dedup_.late_delay();
    if (now_ + delay > (opts_.fault_ticks + opts_.liveness_ticks / 2) * units_per_tick)
      return;
    ++late_pending_;
    ++late_retries_;
    after(delay, [this, cmd] {
      --late_pending_;
      for (node_id id : members_)
        if (auto& n = nodes_[id]; n.core && n.core->is_leader()) {
          auto copy = cmd;
          stamp_log_command(id, copy);
          trace("late retry of " + copy.payload.str() + " at " + std::to_string(id));
          n.core->propose(std::move(copy));
          flush(id);
          return;
        }
    });
  }

  /// The member after `id` in turn (the first if `id` is none).
  node_id next_member(node_id id) const {
    auto it = std::find(members_.begin(), members_.end(), id);
    if (it == members_.end() || ++it == members_.end())
      return members_.front();
    return *it;
  }

  /// The highest member id anybody may know of: a forged sender is above it.
  node_id highest_id() const {
    return std::max<node_id>(nodes_.rbegin()->first, oracle_.latest_configuration().next_id - 1);
  }

  std::size_t pending() const {
    std::size_t result = 0;
    for (auto& c : clients_)
      result += c.waiting ? 1 : 0;
    return result;
  }

  bool settled() {
    if (lock_ ? !lock_->settled(live_machines())
              : pending() != 0 || reconf_.busy() || !leaving_.empty() || late_pending_ != 0)
      return false;
    std::optional<slot_index> commit;
    for (auto& [id, n] : nodes_) {
      if (!n.core || retired_.count(id) != 0)
        continue;
      if (!commit)
        commit = n.core->commit_index();
      if (n.core->commit_index() != *commit)
        return false;
      // A node that crashed or left may have known slots the others must
      // still learn (from the next leader): every chosen one is waited for,
      // or the clients that gave up would let the run end early.
      if (n.core->commit_index() < oracle_.chosen_prefix())
        return false;
    }
    return true;
  }

  void check_final() {
    if (lock_) {
      std::map<node_id, std::size_t> counts;
      std::map<node_id, slot_index> commits;
      for (auto& [id, n] : nodes_)
        if (n.core) {
          counts[id] = n.locks->applied();
          commits[id] = n.core->commit_index();
          mix(commits[id]);
        }
      oracle_.check_final(counts, commits);
      if (!failed())
        lock_->check_final(live_machines());
      return;
    }
    std::map<node_id, std::vector<std::string>> logs;
    std::map<node_id, slot_index> commits;
    for (auto& [id, n] : nodes_) {
      if (!n.core || retired_.count(id) != 0)
        continue;
      logs[id] = n.machine->log();
      commits[id] = n.core->commit_index();
      mix(commits[id]);
    }
    oracle_.check_final(logs, commits);
  }

  options opts_;
  std::mt19937_64 rng_;
  std::mt19937_64 scenario_rng_;
  /// Clients on both sides of partitions, and (log workload) reads at fresh
  /// and at cut-off leaders: always in the lock workload, half the log runs.
  bool sides_ = false;
  /// Half of the log runs change the membership (see reconfig.hpp).
  reconfigurator reconf_;
  oracle oracle_;
  dedup_scenario dedup_;
  std::size_t late_pending_ = 0, late_retries_ = 0, expired_answers_ = 0;
  /// The lock workload (nullptr in the log workload); outlives the nodes'
  /// state machines, which report to it.
  std::unique_ptr<lock_workload> lock_;
  /// The nodes that run (or are down for a while): removed and dead ones
  /// leave it. `bootstrap_`: the first ones, the configuration of slot 1.
  std::vector<node_id> members_;
  std::vector<node_id> bootstrap_;
  std::optional<node_id> operator_hint_;
  /// A leader cut off as it was asked to remove itself: deaf until
  /// `deaf_until`, then cut off both ways until `until`.
  struct leader_cut {
    node_id node = 0;
    std::uint64_t deaf_until = 0;
    std::uint64_t until = 0;
  };
  std::optional<leader_cut> cut_off_;
  /// The leaders' quorum window in ticks (config::quorum_window).
  std::uint64_t quorum_window_ = 0;
  /// The last tick of the run: the liveness ticks after the last fault.
  std::uint64_t end_ = 0;
  std::set<node_id> dead_;
  std::set<node_id> retired_;
  std::set<node_id> leaving_;
  std::size_t operator_turn_ = 0;
  std::map<node_id, node> nodes_;
  std::vector<client> clients_;
  std::map<std::pair<std::uint64_t, std::uint64_t>, event> queue_;
  std::uint64_t next_event_ = 0;
  std::uint64_t next_read_ = 0;
  std::map<std::uint64_t, std::size_t> read_owner_;
  std::map<std::uint64_t, std::string> read_query_;  ///< lock workload: each read's query
  std::uint64_t now_ = 0;
  std::uint64_t tick_ = 0;
  std::uint64_t hash_ = 0xCBF29CE484222325ULL;
  double drop_ = 0, duplicate_ = 0, crash_rate_ = 0, partition_rate_ = 0;
  bool check_amnesia_ = false;
  std::size_t disk_faults_ = 0;
  double disk_fault_rate_ = 0;
  std::mt19937_64 disk_rng_;
  std::mt19937_64 forge_rng_;
  std::size_t forged_ = 0, forged_taken_ = 0;
  std::uint64_t max_delay_ = 1;
  std::uint64_t max_sync_delay_ = 2;
  /// The nodes whose every sync takes this many units more (see the constructor).
  std::set<node_id> slow_disks_;
  std::uint64_t slow_sync_ = 0;
  double liars_ = 0.0;
  std::uint32_t resend_interval_ = 2;
  std::size_t max_down_ = 1;
  std::size_t window_ = 8;
  std::size_t max_batch_ = 4;
  std::uint64_t snapshot_interval_ = 0;
  bool partitioned_ = false;
  std::uint64_t heal_tick_ = 0;
  std::size_t messages_ = 0, crashes_ = 0, partitions_ = 0, late_cuts_ = 0, leaderships_ = 0;
  std::size_t fresh_leader_reads_ = 0, minority_leader_reads_ = 0;
  std::uint64_t terms_ = 0;
  std::uint64_t next_client_ = 0;
};

}  // namespace

outcome run(const options& opts) {
  return world(opts).run();
}

}  // namespace ballot::sim
