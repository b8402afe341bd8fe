#include "actors/paxos/replica.hpp"

#include <algorithm>
#include <limits>
#include <type_traits>

namespace ballot::paxos {

namespace {

rejoin::mode start_mode(const config& cfg, const durable_state& disk) {
#ifdef BALLOT_MUTANT_REJOIN_WITHOUT_REPAIR
  return rejoin::mode::normal;
#endif
  if (disk.damaged)
    return rejoin::mode::repairing;
  // A joining learner never voted nor promised: nothing to forget.
  if (cfg.joining)
    return rejoin::mode::normal;
  if (cfg.check_amnesia && disk.holds_nothing())
    return rejoin::mode::fresh;
  return rejoin::mode::normal;
}

}  // namespace

replica::replica(const config& cfg, const durable_state& disk, state_machine& sm)
    : cfg_(cfg),
      acceptor_(disk),
      learner_(disk, sm, cfg.dedup_window, cfg.dedup_ttl_ms, cfg.dedup_max_step_ms,
               membership(cfg.alpha, cfg.bootstrap())),
      proposer_(cfg),
      timer_(cfg.election_timeout_min, cfg.election_timeout_max, cfg.seed * 7919 + cfg.id,
             cfg.election_backoff),
      reads_(cfg.quorum()),
      rejoin_(start_mode(cfg, disk), cfg.id, members().at(commit_index() + 1).voters(),
              members().at(commit_index() + 1).quorum(), cfg.incarnation, cfg.rejoin_settle_ticks),
      max_round_(acceptor_.promised().round) {
  // nop
}

void replica::tick() {
  ++ticks_;
  proposer_.advance(ticks_);
  if (!rejoin_.normal()) {
    apply_repair(rejoin_.on_tick(ticks_));
    if (ticks_ % cfg_.heartbeat_interval == 0)
      advance_repair();
  }
#ifndef BALLOT_MUTANT_NO_CHECK_QUORUM
  if (is_leader() && contact_.tick())
    step_down();  // as a follower it asks what it missed (below)
#endif
  switch (role()) {
    case proposer::role::follower:
      if (!timer_.tick() || removed())
        break;
      // A replica that may have forgotten a promise does not stand.
      if (voter() && rejoin_.may_promise()) {
        start_election();
        timer_.back_off();
      }
      // A learner that hears no leader asks the members in turn: the leader
      // may be one its log does not name yet. So does a voter once the
      // membership changed: it may have been removed without learning it
      // (nobody sends to it any more), and catching up tells it.
      if (!voter() || members().epochs().rbegin()->first > 1) {
        ask_for_catchup();
        timer_.reset();
      }
      break;
    case proposer::role::candidate:
      if (timer_.tick()) {
        // A candidacy that won no quorum for a whole timeout asks a peer
        // what it missed: it may have been removed by a change it never
        // applied (the members drop its messages and never tell it).
        start_election();
        timer_.back_off();
        ask_for_catchup();
        break;
      }
      [[fallthrough]];
    case proposer::role::leader:
      if (++heartbeat_elapsed_ < cfg_.heartbeat_interval)
        break;
      heartbeat_elapsed_ = 0;
      if (is_leader()) {
        auto round = reads_.current_round();
        send_all(heartbeat{proposer_.ballot(), commit_index(),
                           round != 0 ? round : heartbeat::contact_round});
        announced_commit_ = commit_index();
      }
      for (auto& [to, msg] : proposer_.unanswered(commit_index()))
        send(to, std::move(msg));
      break;
  }
  finish_step();
}

void replica::ask_for_catchup() {
  auto known = members().everyone();
  known.insert(known.end(), cfg_.peers.begin(), cfg_.peers.end());
  known.erase(std::remove(known.begin(), known.end(), id()), known.end());
  if (!known.empty())
    request_catchup(known[catchup_turn_++ % known.size()], true);
}

void replica::step(const envelope& msg) {
  auto known = members().everyone();
  known.insert(known.end(), cfg_.peers.begin(), cfg_.peers.end());
  node_id max_id = members().latest().next_id - 1;
  for (auto p : cfg_.peers)
    max_id = std::max(max_id, p);
  if (auto fault = check_input(msg, cfg_, {id(), max_round_, commit_index(), &known, max_id})) {
    rejected_.note(*fault, msg.from);
    return;
  }
  handle(msg.from, msg.msg);
  finish_step();
}

void replica::propose(command cmd) {
  queue(std::move(cmd));
  finish_step();
}

void replica::flush() {
  finish_step();
}

void replica::queue(command cmd) {
  auto refuse = [&](reply_status st) {
    out_.replies.push_back({cmd.client, cmd.seq, st, {}, leader_});
  };
#ifndef BALLOT_MUTANT_ACCEPT_SEQ_ZERO
  if (cmd.seq == 0 || cmd.payload.size() > cfg_.max_command_bytes)
    return refuse(reply_status::invalid);
#endif
  if (!is_leader())
    return refuse(reply_status::not_leader);
  // Membership commands come only through change_members (checked there).
  if (cmd.client == membership_client && !std::exchange(membership_command_, false))
    return refuse(reply_status::invalid);
  // A retry of a command that already applied gets the recorded result, not
  // a new slot; the same request id for another command gets nothing.
  auto fp = learner_.fingerprint(cmd.payload);
  const std::string* result = nullptr;
  switch (learner_.lookup(cmd.client, cmd.seq, fp, &result)) {
    case learner::seen::applied:
      out_.replies.push_back({cmd.client, cmd.seq, reply_status::ok, *result, leader_});
      return;
    case learner::seen::reused:
      return refuse(reply_status::id_reused);
    case learner::seen::expired:
      return refuse(reply_status::expired);
    case learner::seen::no:
      break;
  }
  // A retry of a command this leader is still ordering needs no second slot.
  auto [it, fresh] = awaiting_.emplace(std::make_pair(cmd.client, cmd.seq), fp);
  if (!fresh) {
#ifndef BALLOT_MUTANT_REUSED_ID_ACKED
    if (it->second != fp)
      refuse(reply_status::id_reused);
#endif
    return;
  }
  // The learners take it from the log instead of hashing the payload again
  // (whatever a forwarding member put there is overwritten).
  cmd.fingerprint = fp;
  if (!proposer_.enqueue(std::move(cmd))) {
    out_.replies.push_back(
      {it->first.first, it->first.second, reply_status::overloaded, {}, leader_});
    awaiting_.erase(it);
  }
}

bool replica::knows(const command& cmd) const {
  if (awaiting_.count({cmd.client, cmd.seq}) > 0)
    return true;
  const std::string* result = nullptr;
  return learner_.lookup(cmd.client, cmd.seq, learner_.fingerprint(cmd.payload), &result) !=
         learner::seen::no;
}

void replica::read(std::uint64_t id) {
  if (!is_leader()) {
    out_.reads.push_back({id, reply_status::not_leader, leader_});
    return;
  }
#ifdef BALLOT_MUTANT_READ_WITHOUT_QUORUM
  out_.reads.push_back({id, reply_status::ok, leader_});
  return;
#endif
#ifdef BALLOT_MUTANT_READ_BEFORE_RECOVERY
  reads_.add(id, commit_index());
#else
  reads_.add(id, std::max(commit_index(), read_floor_));
#endif
  finish_step();
}

ready replica::take_ready() {
  return std::exchange(out_, ready{});
}

void replica::handle(node_id from, const message& msg) {
  std::visit(
    [&](const auto& m) {
      using t = std::decay_t<decltype(m)>;
      if constexpr (std::is_same_v<t, prepare>)
        on_prepare(from, m);
      else if constexpr (std::is_same_v<t, promise>)
        on_promise(from, m);
      else if constexpr (std::is_same_v<t, accept>)
        on_accept(from, m);
      else if constexpr (std::is_same_v<t, accepted>)
        on_accepted(from, m);
      else if constexpr (std::is_same_v<t, reject>)
        on_reject(m);
      else if constexpr (std::is_same_v<t, heartbeat>)
        on_heartbeat(from, m);
      else if constexpr (std::is_same_v<t, heartbeat_ack>)
        on_heartbeat_ack(from, m);
      else if constexpr (std::is_same_v<t, catchup_request>)
        on_catchup_request(from, m);
      else if constexpr (std::is_same_v<t, catchup_reply>)
        on_catchup_reply(from, m);
      else if constexpr (std::is_same_v<t, install_snapshot>)
        on_install_snapshot(from, m);
      else if constexpr (std::is_same_v<t, state_query>)
        on_state_query(from, m);
      else
        on_state_report(from, m);
    },
    msg);
}

void replica::on_prepare(node_id from, const prepare& p) {
  observe(p.ballot);
  if (removed())
    return;
  // No promise (not even a reject, which would report a promise it may have
  // forgotten) until the repair is done.
  if (!rejoin_.may_promise())
    return;
  // Slots this replica applied are left out (the acceptor lists votes from
  // the slot after them): a candidate that lacks them catches up instead of
  // receiving every vote in one message.
  auto from_slot = p;
  from_slot.first_open = std::max(p.first_open, commit_index() + 1);
  auto reply = acceptor_.on_prepare(from_slot, out_);
  if (auto* pr = std::get_if<promise>(&reply)) {
    pr->committed = commit_index();
    // Mark what this replica knows is decided, so the new leader learns it
    // instead of running phase 2 for it again.
    for (auto& e : pr->entries) {
      if (auto* v = learner_.chosen(e.slot)) {
        e.val = *v;
        e.chosen = true;
      }
    }
    if (from != id()) {
      // Give the candidate a chance before competing with it.
      leader_.reset();
      timer_.reset();
    }
  }
  send(from, std::move(reply));
}

void replica::on_promise(node_id from, const promise& p) {
  auto applied = std::max(p.committed, p.compacted);
  // This acceptor applied (or compacted, which it applied first) slots this
  // candidate does not know, and left their votes out of its promise, so
  // they would look empty. Catch up from it first (a snapshot if it
  // compacted them); the next election starts after it.
#ifndef BALLOT_MUTANT_IGNORE_COMMITTED
  if (applied >= proposer_.first_open() && role() == proposer::role::candidate &&
      p.ballot == proposer_.ballot()) {
    request_catchup(from, true);
    return;
  }
#endif
  // A promise that outlived its candidacy (a reject came first) still shows
  // this replica behind: a removed member that never learned it stood again
  // and again, deposing leaders that know it as a peer (seed 178668).
  if (applied > commit_index())
    request_catchup(from, false);
  if (proposer_.on_promise(from, p))
    become_leader();
}

void replica::on_accept(node_id from, const accept& a) {
  observe(a.ballot);
  if (!rejoin_.may_accept() || removed())
    return;
  auto reply = acceptor_.on_accept(a, out_);
  bool ok = std::holds_alternative<accepted>(reply);
  send(from, std::move(reply));
  if (ok)
    follow(from, a.ballot, a.commit);
}

void replica::on_accepted(node_id from, const accepted& a) {
  if (is_leader() && a.ballot == proposer_.ballot() && proposer_.is_voter(from))
    contact_.heard(from);
  if (auto chosen = proposer_.on_accepted(from, a))
    learn(chosen->slot, chosen->val);
}

void replica::on_reject(const reject& r) {
  observe(r.promised);
}

void replica::on_heartbeat(node_id from, const heartbeat& h) {
  observe(h.ballot);
  if (h.ballot < acceptor_.promised()) {
    // Tell a deposed leader that it is deposed.
    send(from, reject{h.ballot, acceptor_.promised()});
    return;
  }
  follow(from, h.ballot, h.commit);
  // The periodic heartbeats are acked (the leader counts the acks to know it
  // still leads a quorum, and a read round waits for them), not the one that
  // announces a commit: at one client that would be an ack per put.
  if (from != id() && rejoin_.may_accept() && (h.read_round != 0 || !voter()))
    send(from, heartbeat_ack{h.ballot, h.read_round, commit_index()});
}

void replica::on_heartbeat_ack(node_id from, const heartbeat_ack& a) {
  if (is_leader() && a.ballot == proposer_.ballot()) {
    auto& seen = progress_[from];
    seen = std::max(seen, a.commit);
  }
  // Learners ack too; only the voters make a quorum.
  if (is_leader() && a.ballot == proposer_.ballot() && proposer_.is_voter(from)) {
    contact_.heard(from);
    reads_.on_ack(from, a.read_round);
  }
}

void replica::on_catchup_request(node_id from, const catchup_request& r) {
  auto& seen = progress_[from];
  seen = std::max(seen, r.from - 1);
  if (r.from <= learner_.compacted()) {
    auto sent = snapshots_sent_.find(from);
    bool again = sent != snapshots_sent_.end() && r.from <= sent->second.last;
    // The wait grows with the snapshot's size (it must cross the link and
    // be installed before the member can ask for more), and each resend to
    // a member that has not moved past the last one waits twice as long (up
    // to 32 times): sending a large state again meanwhile only doubles the
    // member's work and the link's.
    if (again &&
        ticks_ - sent->second.tick < (sent->second.wait << std::min(sent->second.resends, 5u)))
      return;  // one is on its way
    if (auto snap = learner_.make_snapshot()) {
      std::uint64_t wait = cfg_.snapshot_resend_ticks;
      if (cfg_.snapshot_bytes_per_tick > 0)
        wait += snap->machine.size_hint() / cfg_.snapshot_bytes_per_tick;
      snapshots_sent_[from] =
        snapshot_sent{snap->last, ticks_, wait, again ? sent->second.resends + 1 : 0};
      // A frozen image is encoded where the message is serialized (a
      // member's link), not on this thread.
      send(from, install_snapshot{std::move(*snap)});
    }
    return;
  }
  auto entries = learner_.chosen_from(r.from, cfg_.catchup_batch, cfg_.catchup_bytes);
  if (!entries.empty())
    send(from, catchup_reply{std::move(entries)});
}

void replica::on_catchup_reply(node_id from, const catchup_reply& r) {
  // A fresh replica persists nothing before it knows whether it is new: a
  // crash would otherwise leave a disk that looks intact.
  if (rejoin_.current() == rejoin::mode::fresh)
    return;
  for (const auto& e : r.entries)
    learn(e.slot, e.val);
  if (!r.entries.empty() && (commit_index() < leader_commit_ ||
                             (rejoin_.catching_up() && commit_index() < rejoin_.target())))
    request_catchup(from, true);
}

void replica::on_install_snapshot(node_id from, const install_snapshot& m) {
  if (rejoin_.current() == rejoin::mode::fresh)
    return;
  std::vector<learner::applied> done;
  if (!learner_.install(m.snap, done))
    return;
  compact_to(m.snap, true);
  reply_applied(done);
  if (commit_index() < leader_commit_)
    request_catchup(from, true);
}

slot_index replica::next_snapshot_slot() const {
  // Every replica snapshots each `snapshot_interval` slots, but each at its
  // own third of the interval (by id): taking a snapshot pauses a replica for
  // tens of milliseconds, and when all paused at the same slot the cluster
  // stalled with them (bench/README "The real cluster"). Staggered, two of
  // three still make a quorum while one pauses. Absolute slots, so a replica
  // keeps its phase after a restart or an installed snapshot.
  auto interval = cfg_.snapshot_interval;
  auto offset = (id() % 3) * interval / 3;
  return ((learner_.compacted() + offset) / interval + 1) * interval - offset;
}

void replica::maybe_compact() {
  if (!snapshots_supported_ || commit_index() == learner_.compacted())
    return;
  bool by_count = cfg_.snapshot_interval != 0 && commit_index() >= next_snapshot_slot();
  bool by_bytes = cfg_.snapshot_bytes != 0 && learner_.applied_bytes() >= cfg_.snapshot_bytes;
  if (!by_count && !by_bytes)
    return;
  std::map<slot_index, value> retired;
  auto snap = learner_.compact(retired);
  if (!snap) {
    snapshots_supported_ = false;
    return;
  }
  compact_to(std::move(*snap), false, std::move(retired));
}

void replica::compact_to(paxos::snapshot snap, bool installed,
                         std::map<slot_index, value> retired) {
  durable_state state;
  // Freed with the state: by a background checkpoint, on its thread.
  state.retired =
    std::make_shared<std::pair<std::map<slot_index, value>, std::map<slot_index, accepted_value>>>(
      std::move(retired), acceptor_.compact(snap.last));
  state.promised = acceptor_.promised();
  state.accepted = acceptor_.votes();
  for (auto& e : learner_.chosen_from(snap.last + 1, std::numeric_limits<std::size_t>::max()))
    state.chosen.emplace(e.slot, std::move(e.val));
  auto last = snap.last;
  state.snap = std::move(snap);  // a state of hundreds of MiB: not copied
  state.damaged = rejoin_.current() == rejoin::mode::repairing;
  out_.compacted = std::move(state);
  out_.compacted_locally = !installed;
  // A snapshot taken here may reach the disk after the records that follow
  // it (see ready::compacted_locally): until it does, the log is what holds
  // the slots it covers, so this step's records for them stay. An installed
  // snapshot is durable before anything after it, so they may go.
  if (!installed)
    return;
  auto covered = [&](slot_index s) { return s <= last; };
  auto& acc = out_.accepted;
  acc.erase(std::remove_if(acc.begin(), acc.end(), [&](auto& v) { return covered(v.first); }),
            acc.end());
  auto& ch = out_.chosen;
  ch.erase(std::remove_if(ch.begin(), ch.end(), [&](auto& c) { return covered(c.slot); }),
           ch.end());
  out_.chosen_votes.erase(out_.chosen_votes.begin(), out_.chosen_votes.upper_bound(last));
}

void replica::send(node_id to, message msg) {
  if (std::holds_alternative<accept>(msg))
    sent_accepts_ = true;
    // Its own vote and promise go through the driver, back once durable: a
    // leader counts its vote only once on disk (phase 2a leaves before, see
    // `ready::early_messages`), and a lone voter leads only once its ballot is
    // (else a restart could rerun it, with other values, at its learners).
#ifndef BALLOT_MUTANT_EARLY_SELF_VOTE
  if (to == id() && !std::holds_alternative<accepted>(msg) && !std::holds_alternative<promise>(msg))
#else
  if (to == id())  // counts its own vote before the driver made it durable
#endif
    inbox_.push_back(std::move(msg));
  else
    out_.messages.push_back(envelope{id(), to, std::move(msg)});
}

void replica::send_all(const message& msg, bool self_too) {
  for (auto m : members().everyone())
    if (self_too || m != id())
      send(m, msg);
}

slot_index replica::proposal_limit() const {
  auto next = commit_index() + 1;
  auto voters = members().at(next).voters();
  auto mine = proposer_.voters();
  std::sort(voters.begin(), voters.end());
  std::sort(mine.begin(), mine.end());
#ifdef BALLOT_MUTANT_KEEP_PHASE1_VOTERS
  // Keeps leading with the quorums its phase 1 used, whatever the voters.
  (void)voters;
  (void)mine;
  auto limit = std::numeric_limits<slot_index>::max();
#else
  if (voters != mine)
    return commit_index();
  auto limit = members().same_voters_until(next);
#endif
#ifndef BALLOT_MUTANT_NO_ALPHA_BOUND
  limit = std::min(limit, commit_index() + members().alpha());
#endif
  return limit;
}

void replica::finish_step() {
  do {
    while (!inbox_.empty()) {
      auto msg = std::move(inbox_.front());
      inbox_.pop_front();
      handle(id(), msg);
    }
    if (removed() && role() != proposer::role::follower) {
      step_down();
    } else if (is_leader() && proposal_limit() == commit_index()) {
      // The next slot has other voters than this leadership's phase 1
      // asked: run it again with them.
      start_election(true);
    }
    proposer_.set_limit(is_leader() ? proposal_limit() : 0);
    for (auto& a : proposer_.fill(commit_index()))
      send_all(a);
    // A change takes effect alpha slots after its own: no-ops get there
    // without waiting for client traffic.
    if (auto pending = members().epochs().rbegin()->first;
        is_leader() && pending > commit_index() + 1)
      for (auto& a : proposer_.fill_noops(commit_index(), pending - 1))
        send_all(a);
  } while (!inbox_.empty());
  // Followers learn the commit index from the next accept; only when no
  // accept went out does a commit advance need a message of its own.
  if (is_leader() && commit_index() > announced_commit_ && !sent_accepts_)
    send_all(heartbeat{proposer_.ballot(), commit_index()}, false);
  if (is_leader())
    announced_commit_ = std::max(announced_commit_, commit_index());
  sent_accepts_ = false;
  advance_reads();
  if (rejoin_.on_commit(commit_index()))
    out_.damaged = false;  // repaired: everything it may have voted for is learned
  maybe_compact();
}

void replica::on_state_query(node_id from, const state_query& q) {
  if (from != id())
    send(from, report(q.nonce));
}

state_report replica::report(std::uint64_t nonce) const {
  state_report r;
  r.nonce = nonce;
  r.promised = acceptor_.promised();
  r.commit = commit_index();
  r.highest = std::max(commit_index(), learner_.last_known());
  if (!acceptor_.votes().empty())
    r.highest = std::max(r.highest, acceptor_.votes().rbegin()->first);
  // Slots this leader assigned may have votes it has not counted yet.
  if (is_leader())
    r.highest = std::max(r.highest, proposer_.next_slot() - 1);
  r.intact = rejoin_.normal();
  // A promise to its own ballot alone is a lonely candidacy (a node started
  // before its peers), not state of the cluster; a candidacy or leadership
  // that counts another member's promise is.
  auto& p = acceptor_.promised();
  r.has_state = rejoin_.current() == rejoin::mode::repairing || (!p.is_zero() && p.node != id()) ||
                !acceptor_.votes().empty() || commit_index() > 0 || learner_.compacted() > 0 ||
                is_leader() ||
                (role() == proposer::role::candidate && proposer_.promised_by_others());
  return r;
}

void replica::on_state_report(node_id from, const state_report& r) {
  apply_repair(rejoin_.on_report(from, r));
}

void replica::apply_repair(const rejoin::decision& d) {
  if (d.began_repair)
    out_.damaged = true;
  if (d.restore) {
    // Every promise this replica could have given is at or below the
    // highest one its peers hold now.
    acceptor_.restore_promise(*d.restore, out_);
    max_round_ = std::max(max_round_, d.restore->round);
    advance_repair();
  }
}

void replica::advance_repair() {
  for (auto m : rejoin_.unanswered())
    send(m, state_query{rejoin_.nonce()});
  if (rejoin_.catching_up() && commit_index() < rejoin_.target() && rejoin_.best_source()) {
    // Whoever leads (if known) has everything; else the best reporter.
    // (Not by raising leader_commit_: that says which of its own votes are
    // chosen, and the target is only where the peers' logs end.)
    request_catchup(leader_ && *leader_ != id() ? *leader_ : *rejoin_.best_source(), true);
  }
}

void replica::advance_reads() {
  if (!is_leader())
    return;
  if (auto round = reads_.start_round()) {
    send_all(heartbeat{proposer_.ballot(), commit_index(), round}, false);
    reads_.on_ack(id(), round);
  }
  for (auto read_id : reads_.take_ready(commit_index()))
    out_.reads.push_back({read_id, reply_status::ok, leader_});
}

void replica::observe(const ballot_number& b) {
  max_round_ = std::max(max_round_, b.round);
  if (role() != proposer::role::follower && b > proposer_.ballot())
    step_down();
}

void replica::start_election(bool keep_queue) {
  if (keep_queue) {
    // Reads were confirmed by the old voters: their clients retry.
    for (auto read_id : reads_.take_all())
      out_.reads.push_back({read_id, reply_status::not_leader, leader_});
    leader_.reset();
    timer_.reset();
  } else {
    step_down();
  }
  // Saturates at the ceiling instead of wrapping to round 0, which every
  // acceptor would refuse for good.
  max_round_ = next_round(max_round_, cfg_);
  ballot_number b{max_round_, id()};
  heartbeat_elapsed_ = 0;
  // Phase 1 asks the voters of the first open slot: the leader proposes
  // only in the slots they govern (proposal_limit).
  auto first_open = commit_index() + 1;
  auto voters = members().at(first_open).voters();
  auto p = proposer_.start(b, first_open, voters, keep_queue);
  for (auto m : voters)
    send(m, p);
}

void replica::become_leader() {
  auto recovered = proposer_.recovery();
  slot_index next = std::max(commit_index(), learner_.last_known()) + 1;
  if (!recovered.empty())
    next = std::max(next, recovered.back().slot + 1);
  proposer_.lead(next);
  auto quorum = quorum_of(proposer_.voters().size());
  reads_.set_quorum(quorum);
  contact_.start(id(), quorum, cfg_.quorum_window_ticks());
  read_floor_ = next - 1;
  leader_ = id();
  timer_.settle();
  leader_commit_ = 0;
  announced_commit_ = 0;
  heartbeat_elapsed_ = 0;
  for (auto& r : recovered) {
    if (auto* known = learner_.chosen(r.slot); known || r.chosen)
      learn(r.slot, known ? *known : r.val);
    else if (r.slot > commit_index())
      proposer_.hold(r.slot, std::move(r.val));  // proposed within the limit (finish_step)
  }
  // Announce the leadership at once so followers stop their election timers.
  send_all(heartbeat{proposer_.ballot(), commit_index()});
}

void replica::step_down() {
  bool was_active = role() != proposer::role::follower;
  proposer_.step_down();
  if (was_active)
    leader_.reset();
  // The client may retry anywhere: its (client, seq) makes the retry safe.
  for (auto& [key, fp] : awaiting_)
    out_.replies.push_back({key.first, key.second, reply_status::not_leader, {}, leader_});
  awaiting_.clear();
  for (auto read_id : reads_.take_all())
    out_.reads.push_back({read_id, reply_status::not_leader, leader_});
  timer_.reset();
}

void replica::follow(node_id leader, const ballot_number& b, slot_index commit) {
  if (leader == id() || rejoin_.current() == rejoin::mode::fresh)
    return;
  timer_.settle();
  timer_.reset();
  if (leader_ != leader)
    leader_commit_ = 0;
  leader_ = leader;
  leader_commit_ = std::max(leader_commit_, commit);
  // A vote cast at the leader's own ballot is for the value the leader
  // proposed there, and a slot at or below its commit index is chosen.
  std::vector<chosen_entry> known;
  const auto& votes = acceptor_.votes();
  for (auto it = votes.lower_bound(commit_index() + 1);
       it != votes.end() && it->first <= leader_commit_; ++it)
    if (it->second.ballot == b && !learner_.chosen(it->first))
      known.push_back({it->first, it->second.val});
  for (auto& e : known)
    learn(e.slot, e.val);
  if (commit_index() < leader_commit_)
    request_catchup(leader, false);
}

void replica::request_catchup(node_id from, bool force) {
  // Without `force`, at most one request per heartbeat interval: heartbeats
  // and accepts would otherwise each trigger one.
  if (!force && last_catchup_tick_ && ticks_ - *last_catchup_tick_ < cfg_.heartbeat_interval)
    return;
  last_catchup_tick_ = ticks_;
  send(from, catchup_request{commit_index() + 1});
}

void replica::learn(slot_index slot, const value& val) {
  std::vector<learner::applied> done;
  if (!learner_.learn(slot, val, out_, done))
    return;
  // Chosen as this acceptor voted: the log need not write the value again.
  if (auto* vote = acceptor_.vote(slot); vote && vote->val == val)
    out_.chosen_votes[slot] = vote->ballot;
  proposer_.forget(slot);
  reply_applied(done);
}

void replica::reply_applied(std::vector<learner::applied>& done) {
  for (auto& a : done) {
    if (awaiting_.erase({a.client, a.seq}) == 0)
      continue;
    auto st = a.expired   ? reply_status::expired
              : a.reused  ? reply_status::id_reused
              : a.invalid ? reply_status::invalid
                          : reply_status::ok;
    out_.replies.push_back({a.client, a.seq, st, std::move(a.result), leader_});
  }
}

void replica::change_members(const member_change& change) {
  // The token names the change on every try, so it is the request id too:
  // a random 64-bit one never meets another change's (a leader-made id
  // could: two leaders that knew the same commit index made the same).
  auto seq = change.token;
  auto refuse = [&](reply_status st, std::string why) {
    out_.replies.push_back({membership_client, seq, st, std::move(why), leader_});
    finish_step();
  };
  if (seq == 0)
    return refuse(reply_status::invalid, "refused: a membership change needs a token");
  if (!is_leader())
    return refuse(reply_status::not_leader, {});
  if (change.what == member_change::kind::add_learner &&
      (!valid_address(change.peer) || !valid_address(change.client)))
    return refuse(reply_status::invalid, "refused: an address must be host:port");
#ifndef BALLOT_MUTANT_PROMOTE_WITHOUT_CATCHUP
  // Promoting a learner that lags makes it a voter that cannot vote until it
  // caught up: one more failure would then stop the cluster.
  if (change.what == member_change::kind::promote) {
    // Only a learner's lag matters: a retried promote of a member that is a
    // voter already (the first answer lost) goes on to the log, which answers
    // it as the first try was answered (its token) instead of "behind" for
    // ever (a voter's progress is not tracked from heartbeat acks as a
    // learner's is).
    auto behind = lag(change.id);
    auto* target = members().latest().find(change.id);
    if (target != nullptr && target->role == member_role::learner &&
        (!behind || *behind > cfg_.promote_max_lag))
      return refuse(reply_status::ok, "refused: member " + std::to_string(change.id) + " is " +
                                        (behind ? std::to_string(*behind) + " slots" : "too far") +
                                        " behind (at most " + std::to_string(cfg_.promote_max_lag) +
                                        ")");
  }
#endif
  membership_command_ = true;
  queue(command{membership_client, seq, encode(change)});
  membership_command_ = false;
  finish_step();
}

member_report replica::report_members(const std::map<node_id, std::string>& known_peers) const {
  member_report r;
  r.alpha = cfg_.alpha;
  r.commit = commit_index();
  r.leader = leader_hint().value_or(0);
  r.bootstrap = cfg_.bootstrap();
  r.current = members().latest();
  for (auto& m : r.current.members)
    if (auto behind = lag(m.id))
      r.lag[m.id] = *behind;
  for (auto* c : {&r.bootstrap, &r.current})
    for (auto& m : c->members)
      if (auto it = known_peers.find(m.id); m.peer.empty() && it != known_peers.end())
        m.peer = it->second;
  return r;
}

std::optional<slot_index> replica::lag(node_id member) const {
  if (!is_leader())
    return std::nullopt;
  if (member == id())
    return 0;
  auto it = progress_.find(member);
  if (it == progress_.end())
    return std::nullopt;
  return commit_index() > it->second ? commit_index() - it->second : 0;
}

}  // namespace ballot::paxos
