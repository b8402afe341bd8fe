// The lock-service workload. What is checked, and where:
//
//  1. exclusion: after every command a replica applies, no lock of its state
//     has two holders if one of them is exclusive (check_state);
//  2. fencing tokens strictly increase per lock name over the one history,
//     and every holder a replica or a lock_info answer shows carries the
//     token of a grant to its own session (first_apply, check_state);
//  3. the downstream store: an access with a token older than the highest it
//     has seen is refused; every access it accepts carries a token that was
//     granted to the caller's session for that lock (exclusive for writes),
//     accepted tokens never decrease, and every accepted write was based on
//     the store's current value, so no update is lost (store_access);
//  4. expired sessions hold nothing: after every command no holder, waiter
//     or ephemeral key belongs to a session that is not live, and no live
//     session's deadline is behind the log's time (check_state);
//  5. every watch stream equals the whole history filtered by its prefix,
//     revision by revision, never going back (on_watch);
//  6. replicas agree: every command's payload and result per position (the
//     oracle), the key events and revision per position, and the state
//     bytes of every snapshot taken or installed at the same position;
//  sessions: no session expires before a deadline it acknowledged to its
//     client; a session whose client kept it alive every ttl/3 and had every
//     keep-alive acknowledged within ttl/3 never expires (with clock skew at
//     most S and ttl > 2*ttl/3 + tick + S that is a theorem: see on_expired;
//     the clients keep their sessions alive on the production clients' core,
//     lock::session_keeper, whose interval is ttl/4); no session expires while
//     its client's keeper calls it healthy (not in jeopardy);
//     no session of a running client expires by a command that a new leader
//     stamped within the grace of its election (unless that leader's
//     leader_change was never chosen: then it is counted, not failed);
//  liveness after healing: every waiting acquire of a kept-alive session is
//     granted, every session of a dead or hung client expires and every
//     watcher catches up (settled / stuck).
#include "tests/sim/lock_workload.hpp"

#include <algorithm>
#include <type_traits>
#include <utility>
#include <variant>

#include "actors/lock/acquire_waiter.hpp"
#include "actors/lock/lock_codec.hpp"
#include "actors/lock/session_keeper.hpp"

namespace ballot::sim {

namespace {

/// The keeper's time for the simulation's true time in ms.
lock::session_keeper::time_point keeper_time(std::uint64_t ms) {
  return lock::session_keeper::time_point{} + std::chrono::milliseconds(ms);
}

/// The production clients' timing for a TTL; one keep-alive at a time, like
/// a blocking KeepAlive call (the host retries it until it is answered).
lock::keeper_config keeper_timing(lock::time_ms ttl) {
  auto t = lock::keeper_config::defaults_for(std::chrono::milliseconds(ttl));
  t.max_in_flight = 1;
#ifdef BALLOT_MUTANT_KEEPER_NO_MARGIN
  t.jeopardy_margin = std::chrono::milliseconds(1);
#endif
  return t;
}

/// The keeper's keep-alive interval of `c`'s session, in ms.
template <class Client>
std::uint64_t interval_of(const Client& c) {
  return static_cast<std::uint64_t>(c.keeper->config().interval.count());
}

}  // namespace

namespace {

using lock::lock_mode;
using lock::result_code;
using lock::session_id;
using lock::time_ms;

/// A replica tick is ten milliseconds of simulated time.
constexpr std::uint64_t tick_ms = 10;

/// Simulated milliseconds as the time of the client-side cores.
lock::acquire_waiter::time_point sim_time(std::uint64_t ms) {
  return lock::acquire_waiter::time_point{} + std::chrono::milliseconds(ms);
}

const char* mode_name(lock_mode m) {
  return m == lock_mode::exclusive ? "excl" : "shared";
}

}  // namespace

// --- bookkeeping types -------------------------------------------------------

struct lock_workload::session_info {
  std::size_t client = 0;
  std::uint64_t incarnation = 0;
  /// The latest deadline the service acknowledged to the client.
  time_ms acked_deadline = 0;
};

struct lock_workload::term_info {
  node_id leader = 0;
  /// The leader's clock when it won the election.
  std::uint64_t clock = 0;
  bool proposed_grace = false;
  bool grace_applied = false;
  /// Whether a command of this term was applied yet, and the sessions live
  /// just before the first one: those the grace is for.
  bool started = false;
  std::set<session_id> graced;
};

struct lock_workload::client {
  std::size_t index = 0;
  std::size_t ka = 0, op = 0, wt = 0;  ///< endpoints: keep-alive, operations, watch
  std::uint64_t incarnation = 0;
  bool crashed = false;
  std::uint64_t restart_at = 0;
  bool hung = false;                        ///< stopped for good (keeps nothing alive)
  std::uint64_t paused_until = 0;           ///< a paused process (a long GC pause)
  bool retired = false;                     ///< wound down after healing
  std::deque<std::function<void()>> inbox;  ///< answers that arrived while paused

  session_id session = 0;
  time_ms ttl = 0;
  std::uint64_t open_sent = 0;
  std::uint64_t last_ka_send = 0;  ///< first send of the latest keep-alive (or the open)
  bool ka_out = false;
  /// When keep-alives go out and what the client may believe of its
  /// session: the production clients' core, on the true clock.
  std::optional<lock::session_keeper> keeper;
  std::uint64_t ka_ticket = 0;
  /// Every keep-alive so far went out on time and was acknowledged within
  /// the keeper's interval.
  bool strict = false;
  /// A wait that disappeared (neither granted nor cancelled): a bug unless
  /// the session turns out to be gone.
  std::optional<std::uint64_t> vanished_at;
  std::string vanished_name;

  enum class phase {
    none,
    opening,
    acquiring,
    waiting,  ///< queued: the waiter looks (lock_info) and withdraws (cancel_wait)
    holding,  ///< granted; about to touch the store
    store_read,
    write_ready,
    store_write,
    releasing,
    putting,
    deleting,
    closing,
  } st = phase::none;
  std::string name;
  lock_mode mode = lock_mode::exclusive;
  std::uint64_t token = 0;
  session_id grant_session = 0;
  std::uint64_t when = 0;
  /// The core of a waiting acquire, the one the gateway and lock_client use.
  std::optional<lock::acquire_waiter> waiter;
  lock::waiter_request asked = lock::waiter_request::none;
  std::uint64_t base = 0;
  std::vector<std::string> keys;
  std::uint64_t key_seq = 0;
  std::string pending_key;

  std::string prefix;
  std::uint64_t rev = 0;
  std::uint64_t next_watch = 0;
  std::uint64_t watch_period = 50;
};

// --- setup -------------------------------------------------------------------

lock_workload::lock_workload(lock_host& host, oracle& o, std::size_t clients, std::size_t nodes)
    : host_(host), oracle_(o) {
  // The product's default is 100 ms (ten ticks).
  house_ticks_ = 3 + host_.below(8);
  grace_ = 100 + host_.below(701);
  ttl_lo_ = 200 + 100 * host_.below(4);
  ttl_hi_ = 2 * ttl_lo_;
  names_ = 1 + host_.below(3);
  max_lock_delay_ = host_.below(2) == 0 ? 0 : 50 + host_.below(151);
  pause_rate_ = host_.below(4001);
  hang_rate_ = host_.below(501);
  crash_rate_ = host_.below(801);
  // Lease clocks: each reading counts at most two ticks (the product's
  // bound, 100 ms, is a tenth of its shortest TTL from ballotctl, 1 s; this
  // is a tenth of the shortest here). With drift <= 5 % that keeps
  // (2 ttl/3 + tick) * 1.05 + one jump's step below every ttl >= 200.
  clocks_ = std::make_unique<node_clocks>(host_, nodes, ttl_hi_, 2 * tick_ms);
  lease_ = std::make_unique<lease_oracle>(host_, *clocks_, grace_);
  clients_.resize(clients);
  for (std::size_t i = 0; i < clients; ++i) {
    auto& c = clients_[i];
    c.index = i;
    c.ka = 3 * i;
    c.op = 3 * i + 1;
    c.wt = 3 * i + 2;
    restart(c);
  }
  // Drawn last, so the draws above stay what they were for every seed.
  coalesce_ = host_.below(2) == 1;
  if (coalesce_)
    host_.trace("lock clients hand their keep-alives to a coalescing gateway");
}

lock_workload::~lock_workload() = default;

lock_stats lock_workload::stats() const {
  auto out = stats_;
  out.clock_steps = clocks_->steps();
  out.clock_jumps = clocks_->jumps();
  out.lease_checks = lease_->checked();
  out.lock_delays = lease_->delays();
  return out;
}

std::size_t lock_workload::endpoints() const {
  return clients_.size() * 3 + (coalesce_ ? gateway_endpoints : 0);
}

std::unique_ptr<lock_machine> lock_workload::make_machine(node_id node) {
  return std::make_unique<lock_machine>(*this, oracle_, node, grace_);
}

void lock_workload::trace(const client& c, const std::string& what) {
  host_.trace("lock client " + std::to_string(c.index + 1) + " " + what);
}

// --- the driver's view of leadership -------------------------------------------

void lock_workload::on_elected(node_id node, std::uint64_t term, std::uint64_t clock_ms,
                               const std::vector<std::string>& payloads) {
  auto t = std::make_unique<term_info>();
  t->leader = node;
  t->clock = clock_ms;
  for (auto& p : payloads) {
    lock::command cmd;
    std::string error;
    if (lock::decode(p, cmd, error) && std::holds_alternative<lock::leader_change>(cmd))
      t->proposed_grace = true;
  }
  terms_[term] = std::move(t);
}

void lock_workload::on_stamped(const std::string& payload, std::uint64_t term,
                               std::uint64_t clock_ms, node_id node, std::size_t applied) {
  lease_->on_stamped(payload, node, applied);
  // The same bytes twice (same command, same clock) keep the first term:
  // the earlier election gives the smaller window, so no false alarm.
  stamped_.emplace(payload, std::make_pair(term, clock_ms));
}

// --- what replicas apply -------------------------------------------------------

void lock_workload::on_applied(node_id node, std::size_t index, const std::string& payload,
                               const std::string& result, const service::change* ch,
                               const service::service_machine& sm) {
  if (host_.failed())
    return;
  if (ch != nullptr && ch->reset)
    return host_.fail("node " + std::to_string(node) + " command #" + std::to_string(index) +
                      ": the key history could not reach back one command");
  lease_->on_applied(node, index);
  if (index == applied_ + 1) {
    first_apply(index, payload, result, ch, sm);
  } else if (index <= applied_ && ch != nullptr) {
    for (auto& e : ch->events)
      if (e.revision == 0 || e.revision > events_.size() ||
          !(events_[e.revision - 1] == e.to_event()))
        return host_.fail("node " + std::to_string(node) + " command #" + std::to_string(index) +
                          " produced another event at revision " + std::to_string(e.revision) +
                          " than the history");
  }
  if (!host_.failed())
    check_state(node, index, sm);
}

void lock_workload::first_apply(std::size_t index, const std::string& payload,
                                const std::string& result, const service::change* ch,
                                const service::service_machine& sm) {
  applied_ = index;
  auto at = "command #" + std::to_string(index) + " (" + show(payload) + ")";
  if (ch != nullptr)
    for (auto& e : ch->events) {
      if (e.revision != events_.size() + 1)
        return host_.fail(at + " produced revision " + std::to_string(e.revision) +
                          " after revision " + std::to_string(events_.size()));
      events_.push_back(e.to_event());
    }
  revisions_.push_back(events_.size());
  lock::command cmd;
  std::string error;
  if (!lock::decode(lock_payload(payload), cmd, error))
    return host_.fail(at + " is not a lock command: " + error);
  lease_->on_first_apply(index, payload, cmd, result, ch, sm);
  if (host_.failed())
    return;
  if (auto s = stamped_.find(payload); s != stamped_.end()) {
    auto& t = *terms_.at(s->second.first);
    if (std::holds_alternative<lock::leader_change>(cmd)) {
      t.grace_applied = true;
      ++stats_.leader_changes;
    }
    if (!t.started) {
      // The sessions live before the term's first command: live after it,
      // or expired by it, but not opened by it.
      t.started = true;
      session_id opened = 0;
      lock::result r;
      if (std::holds_alternative<lock::open_session>(cmd) && lock::decode(result, r, error))
        opened = r.session;
      for (auto& [id, info] : sm.locks().sessions().sessions())
        if (id != opened)
          t.graced.insert(id);
      if (ch != nullptr)
        t.graced.insert(ch->expired.begin(), ch->expired.end());
    }
  }
  if (ch == nullptr)
    return;
  // 2. Tokens strictly increase per lock name over the whole history.
  for (auto& g : ch->grants) {
    auto& last = last_token_[g.name];
    if (g.token <= last)
      return host_.fail(at + " granted " + g.name + " to session " + std::to_string(g.session) +
                        " with token " + std::to_string(g.token) + ", not above token " +
                        std::to_string(last) + " granted before");
    last = g.token;
    grants_[{g.name, g.token}] = {g.session, g.mode};
    ++stats_.grants;
  }
  for (auto s : ch->expired)
    on_expired(s, sm.locks().now(), index, payload);
}

void lock_workload::on_expired(session_id s, time_ms at, std::size_t index,
                               const std::string& payload) {
  ++stats_.expiries;
  expired_at_[s] = at;
  auto where = "session " + std::to_string(s) + " expired at log time " + std::to_string(at) +
               " by command #" + std::to_string(index) + " (" + show(payload) + ")";
  // Deadlines never move back: an acknowledged deadline is a promise.
  if (auto info = sessions_.find(s); info != sessions_.end() && info->second->acked_deadline >= at)
    return host_.fail(where + ", before the deadline " +
                      std::to_string(info->second->acked_deadline) +
                      " the service acknowledged to its client");
  auto* c = owner(s);
  if (c == nullptr)
    return;
  // A client that sent a keep-alive at least every ttl/3 (+ one tick) and got
  // each acknowledged within ttl/3 cannot lose its session: let k be the last
  // keep-alive before this expiry in the log, sent at s_k; its deadline is at
  // least s_k + ttl (stamps are true time plus a skew >= 0). The next one,
  // sent by s_k + ttl/3 + tick, applies after this command, so this command
  // was first applied before s_k + ttl/3 + tick + ttl/3 and stamped at most S
  // later: not after the deadline.
  if (strict(*c))
    return host_.fail(where + ", yet its client kept it alive every " +
                      std::to_string(interval_of(*c)) +
                      " ms and every keep-alive was acknowledged " + "within that");
  // The keeper's promise, the one production clients act on: a session it
  // calls healthy is at least its jeopardy margin away from any expiry
  // (the margin, a quarter of the TTL, covers the lease clocks' drift and
  // steps).
  if (c->keeper && c->keeper->health(keeper_time(host_.now_ms())) == lock::session_health::healthy)
    return host_.fail(where +
                      ", while its client's session keeper called it healthy (the newest "
                      "confirmed keep-alive was sent at " +
                      std::to_string((c->keeper->confirmed_sent_at() - keeper_time(0)) /
                                     std::chrono::milliseconds(1)) +
                      ", TTL " + std::to_string(c->ttl) + " ms)");
  // The grace of a new leader: a session of a running client must not expire
  // by a command the new leader stamped within grace_ms of its election.
  auto stamp = stamped_.find(payload);
  if (stamp == stamped_.end() || !healthy(*c))
    return;
  auto& t = *terms_.at(stamp->second.first);
  if (stamp->second.second > t.clock + grace_ || t.graced.count(s) == 0)
    return;  // outside the window, or opened during the term
  if (t.proposed_grace && !t.grace_applied) {
    // The leader proposed its leader_change but was deposed before it was
    // chosen, while later commands of its term were (a successor recovered
    // them): no grace applied. Counted, not failed (see README).
    ++stats_.lost_grace;
    return;
  }
  host_.fail(where + ", stamped by leader " + std::to_string(t.leader) + " at " +
             std::to_string(stamp->second.second) + ", within the grace of " +
             std::to_string(grace_) + " ms of its election at " + std::to_string(t.clock) +
             (t.proposed_grace ? std::string{} : " (it proposed no leader_change)") +
             ", while client " + std::to_string(c->index + 1) + " kept it alive");
}

void lock_workload::check_state(node_id node, std::size_t index,
                                const service::service_machine& sm) {
  auto where = [&] {
    return "node " + std::to_string(node) + " after command #" + std::to_string(index) + ": ";
  };
  auto& svc = sm.locks();
  auto& live = svc.sessions().sessions();
  if (index > 0 && index <= revisions_.size() && svc.keys().revision() != revisions_[index - 1])
    return host_.fail(where() + "key revision " + std::to_string(svc.keys().revision()) +
                      " where the history has " + std::to_string(revisions_[index - 1]));
  for (auto& [name, l] : svc.locks().locks()) {
    std::size_t exclusive = 0;
    for (auto& h : l.holders) {
      exclusive += h.mode == lock_mode::exclusive ? 1 : 0;
      if (live.count(h.session) == 0)
        return host_.fail(where() + "session " + std::to_string(h.session) +
                          " is not live but holds " + name);
      auto g = grants_.find({name, h.token});
      if (g == grants_.end() || g->second.first != h.session)
        return host_.fail(where() + "session " + std::to_string(h.session) + " holds " + name +
                          " with token " + std::to_string(h.token) +
                          ", which was never granted to it");
    }
    // 1. Never two exclusive holders, or an exclusive and a shared one.
    if (exclusive > 0 && l.holders.size() > 1) {
      std::string who;
      for (auto& h : l.holders)
        who += " s" + std::to_string(h.session) + "(" + mode_name(h.mode) + ",token " +
               std::to_string(h.token) + ")";
      return host_.fail(where() + name + " has holders" + who);
    }
    for (auto& w : l.waiters)
      if (live.count(w.session) == 0)
        return host_.fail(where() + "session " + std::to_string(w.session) +
                          " is not live but waits for " + name);
  }
  // 4. Expired sessions hold nothing, and nothing past its deadline is live.
  for (auto s : svc.keys().sessions())
    if (live.count(s) == 0)
      return host_.fail(where() + "session " + std::to_string(s) +
                        " is not live but owns an ephemeral key");
  for (auto& [id, s] : live)
    if (s.deadline < svc.now())
      return host_.fail(where() + "session " + std::to_string(id) + " is live with deadline " +
                        std::to_string(s.deadline) + " behind the log time " +
                        std::to_string(svc.now()));
}

void lock_workload::on_snapshot(std::size_t index, const std::string& service_snapshot) {
  auto [it, fresh] = snapshots_.emplace(index, service_snapshot);
  if (!fresh && it->second != service_snapshot)
    host_.fail("two replicas' snapshots after command #" + std::to_string(index) + " differ");
}

void lock_workload::on_restored(node_id node, std::size_t index,
                                const std::string& service_snapshot,
                                const service::service_machine& sm) {
  if (index > applied_)
    return host_.fail("node " + std::to_string(node) + " restored a snapshot after command #" +
                      std::to_string(index) + ", beyond the history");
  on_snapshot(index, service_snapshot);
  lease_->on_restored(node, index);
  if (!host_.failed())
    check_state(node, index, sm);
}

// --- clients -------------------------------------------------------------------

lock_workload::client* lock_workload::owner(session_id s) {
  for (auto& c : clients_)
    if (!c.crashed && c.session == s)
      return &c;
  return nullptr;
}

bool lock_workload::healthy(const client& c) const {
  return !c.crashed && !c.hung && host_.now_ms() >= c.paused_until && c.session != 0 &&
         c.st != client::phase::closing;
}

bool lock_workload::strict(const client& c) const {
  if (!healthy(c) || !c.strict)
    return false;
  auto now = host_.now_ms();
  auto period = interval_of(c);
  if (c.ka_out && now - c.last_ka_send > period)
    return false;
  return now - c.last_ka_send <= period + tick_ms;
}

bool lock_workload::paused(std::size_t endpoint) const {
  if (endpoint >= clients_.size() * 3)
    return false;  // a gateway's: it never pauses
  auto& c = clients_[endpoint / 3];
  return c.crashed || c.hung || host_.now_ms() < c.paused_until;
}

void lock_workload::restart(client& c) {
  // A fresh process: nothing survives but the position in clients_.
  client fresh;
  fresh.index = c.index;
  fresh.ka = c.ka;
  fresh.op = c.op;
  fresh.wt = c.wt;
  fresh.incarnation = c.incarnation + 1;
  auto pick = host_.below(10);
  fresh.prefix = pick < 4 ? "" : pick < 7 ? "k/a" : "k/b/";
  fresh.watch_period = 30 + 10 * host_.below(12);
  fresh.next_watch = host_.now_ms() + host_.below(fresh.watch_period);
  c = std::move(fresh);
}

void lock_workload::send(client& c, std::size_t endpoint, const std::string& payload) {
  trace(c, "sends " + show(payload));
  host_.start_command(endpoint, payload);
}

void lock_workload::drive(bool faults) {
  faults_ = faults;
  auto now = host_.now_ms();
  for (auto& c : clients_) {
    if (host_.failed())
      return;
    if (c.crashed) {
      if (faults && now >= c.restart_at) {
        restart(c);
        trace(c, "restarts as a new process");
      }
      continue;
    }
    if (c.hung || now < c.paused_until)
      continue;
    if (!c.inbox.empty()) {
      // Back from a pause: the critical section carries on before the process
      // reads the answers that came meanwhile (say, that its session is gone).
      trace(c, "resumes");
      if (c.st == client::phase::holding || c.st == client::phase::write_ready) {
        c.when = now;
        step(c);
      }
      auto inbox = std::move(c.inbox);
      c.inbox.clear();
      for (auto& f : inbox)
        if (!host_.failed())
          f();
    }
    if (faults)
      maybe_fault(c);
    if (c.crashed || c.hung || now < c.paused_until)
      continue;
    keep_alive(c);
    step(c);
    watch(c);
  }
  if (coalesce_ && !host_.failed())
    flush_keep_alives();
}

void lock_workload::maybe_fault(client& c) {
  auto roll = [&](std::uint64_t per_million) { return host_.below(1'000'000) < per_million; };
  if (roll(crash_rate_)) {
    host_.renew(c.ka);
    host_.renew(c.op);
    host_.renew(c.wt);
    auto restart_at = host_.now_ms() + 50 + host_.below(500);
    ++stats_.crashes;
    trace(c, "crashes (forgets everything)");
    c.crashed = true;
    c.restart_at = restart_at;
    c.session = 0;
    c.inbox.clear();
  } else if (roll(hang_rate_)) {
    ++stats_.hangs;
    trace(c, "hangs for good");
    c.hung = true;
    c.strict = false;
  } else if (roll(pause_rate_)) {
    auto d = 1 + host_.below(2 * ttl_hi_);
    ++stats_.pauses;
    trace(c, "pauses for " + std::to_string(d) + " ms");
    c.paused_until = host_.now_ms() + d;
    c.strict = false;
  }
}

void lock_workload::keep_alive(client& c) {
  if (c.session == 0 || c.st == client::phase::closing)
    return;
  auto now = host_.now_ms();
  // One keep-alive at a time, like a blocking KeepAlive call: an unanswered
  // one is retried (a new leader re-stamps it), not piled up behind.
  if (c.ka_out) {
    if (now - c.last_ka_send > interval_of(c))
      c.strict = false;
    return;
  }
  auto ticket = c.keeper->send_due(keeper_time(now));
  if (!ticket)
    return;
  c.ka_ticket = *ticket;
  c.last_ka_send = now;
  c.ka_out = true;
  if (!coalesce_)
    return send(c, c.ka, lock::encode(lock::command{lock::keep_alive{0, c.session}}));
  trace(c, "hands a keep-alive of session " + std::to_string(c.session) + " to the gateway");
  ka_pending_.push_back({c.index, c.incarnation, c.session, c.ka_ticket});
}

void lock_workload::flush_keep_alives() {
  for (std::size_t g = 0; g < gateway_endpoints && !ka_pending_.empty(); ++g) {
    auto endpoint = clients_.size() * 3 + g;
    if (host_.busy(endpoint))
      continue;
    lock::keep_alive_many batch;
    for (auto& h : ka_pending_)
      batch.sessions.push_back(lock::keep_alive{0, h.session});
    ++stats_.ka_batches;
    stats_.ka_multi_batches += batch.sessions.size() > 1 ? 1 : 0;
    stats_.ka_batched += batch.sessions.size();
    ka_in_flight_[g] = std::move(ka_pending_);
    ka_pending_.clear();
    auto payload = lock::encode(lock::command{std::move(batch)});
    host_.trace("lock gateway " + std::to_string(g + 1) + " sends " + show(payload));
    host_.start_command(endpoint, payload);
  }
}

void lock_workload::on_batch_reply(std::size_t gateway, const std::string& bytes) {
  lock::result r;
  std::string error;
  if (!lock::decode(bytes, r, error))
    return host_.fail("undecodable lock result: " + error);
  auto handed = std::move(ka_in_flight_[gateway]);
  ka_in_flight_[gateway].clear();
  if (r.code != result_code::ok || r.kept.size() != handed.size())
    return host_.fail("keep_alive_many of " + std::to_string(handed.size()) +
                      " sessions answered " + lock::to_string(r.code) + " with " +
                      std::to_string(r.kept.size()) + " outcomes");
  for (std::size_t i = 0; i < handed.size() && !host_.failed(); ++i) {
    auto& k = r.kept[i];
    auto& h = handed[i];
    if (k.session != h.session)
      return host_.fail("keep_alive_many answered session " + std::to_string(k.session) +
                        " in the place of " + std::to_string(h.session));
    auto& c = clients_[h.client];
    // The gateway answers whoever handed it: not a restarted process, nor a
    // keep-alive its client gave up (a lost or closed session).
    if (c.incarnation != h.incarnation || c.session != h.session || !c.ka_out ||
        c.ka_ticket != h.ticket)
      continue;
    lock::result one;
    one.code = k.code;
    one.session = k.session;
    one.deadline = k.deadline;
    one.message = k.message;
    on_reply(c.ka, lock::encode(one));
  }
}

void lock_workload::step(client& c) {
  using phase = client::phase;
  auto now = host_.now_ms();
  switch (c.st) {
    case phase::none: {
      if (c.retired)
        return;
      if (c.session == 0) {
        if (!faults_) {
          c.retired = true;
          trace(c, "is done");
          return;
        }
        if (host_.below(100) < 30) {
          c.ttl = ttl_lo_ + host_.below(ttl_hi_ - ttl_lo_ + 1);
          c.st = phase::opening;
          c.open_sent = now;
          send(c, c.op, lock::encode(lock::command{lock::open_session{0, c.ttl}}));
        }
        return;
      }
      if (!faults_ || host_.below(100) < 3) {
        c.st = phase::closing;
        send(c, c.op, lock::encode(lock::command{lock::close_session{0, c.session}}));
        return;
      }
      if (host_.below(100) >= 30)
        return;
      auto r = host_.below(100);
      if (r < 60) {
        c.name = "L" + std::to_string(host_.below(names_));
        c.mode = host_.below(100) < 70 ? lock_mode::exclusive : lock_mode::shared;
        bool wait = host_.below(100) < 60;
        time_ms delay =
          max_lock_delay_ > 0 && host_.below(2) == 0 ? host_.below(max_lock_delay_ + 1) : 0;
        c.grant_session = c.session;
        c.st = phase::acquiring;
        c.waiter.reset();
        if (wait) {
          // Random timings, so that runs explore looks and withdraws racing grants.
          lock::waiter_config cfg;
          cfg.wait = std::chrono::milliseconds(200 + host_.below(800));
          cfg.first_look = std::chrono::milliseconds(tick_ms * (1 + host_.below(8)));
          cfg.max_look = std::max(cfg.first_look, std::chrono::milliseconds(80));
          c.waiter.emplace(cfg, sim_time(now));
        }
        send(c, c.op,
             lock::encode(lock::command{lock::acquire{0, c.session, c.name, c.mode, wait, delay}}));
      } else if (r < 85) {
        auto pick = host_.below(10);
        c.pending_key = std::string(pick < 5   ? "k/a/"
                                    : pick < 7 ? "k/ab"
                                               : "k/b/") +
                        std::to_string(c.index + 1) + "." + std::to_string(c.incarnation) + "." +
                        std::to_string(++c.key_seq);
        bool ephemeral = host_.below(100) < 60;
        c.st = phase::putting;
        send(c, c.op,
             lock::encode(lock::command{lock::put_key{0, c.pending_key, "v" + std::to_string(now),
                                                      ephemeral ? c.session : 0}}));
      } else if (!c.keys.empty()) {
        auto i = host_.below(c.keys.size());
        auto key = c.keys[i];
        c.keys.erase(c.keys.begin() + static_cast<std::ptrdiff_t>(i));
        c.st = phase::deleting;
        send(c, c.op, lock::encode(lock::command{lock::delete_key{0, key}}));
      }
      return;
    }
    case phase::waiting:
      // After healing every wait must end granted: the liveness check.
      if (!faults_)
        c.waiter->wait_forever();
      if (auto req = c.waiter->due(sim_time(now)); req != lock::waiter_request::none)
        c.asked = req;  // none: a request is in flight, or nothing is due yet
      else
        return;
      if (c.asked == lock::waiter_request::withdraw)
        send(c, c.op, lock::encode(lock::command{lock::cancel_wait{0, c.session, c.name}}));
      else if (c.asked == lock::waiter_request::look)
        host_.start_read(c.op, lock::encode(lock::query{lock::lock_info{c.name}}));
      return;
    case phase::holding:
      if (now >= c.when)
        store_access(c, false);
      return;
    case phase::write_ready:
      if (now >= c.when)
        store_access(c, true);
      return;
    default:
      return;  // an answer is on its way
  }
}

void lock_workload::watch(client& c) {
  if (host_.busy(c.wt) || host_.now_ms() < c.next_watch)
    return;
  c.next_watch = host_.now_ms() + c.watch_period;
  host_.start_read(c.wt, lock::encode(lock::query{lock::events_since{c.prefix, c.rev}}));
}

void lock_workload::on_reply(std::size_t endpoint, const std::string& result) {
  if (endpoint >= clients_.size() * 3)
    return on_batch_reply(endpoint - clients_.size() * 3, result);
  auto idx = endpoint / 3;
  auto which = endpoint % 3;
  auto& c = clients_[idx];
  if (c.crashed || c.hung)
    return;  // nobody reads it
  if (host_.now_ms() < c.paused_until) {
    c.inbox.push_back([this, idx, which, result, inc = c.incarnation] {
      if (clients_[idx].incarnation == inc && !clients_[idx].crashed)
        handle(idx, which, result);
    });
    return;
  }
  handle(idx, which, result);
}

void lock_workload::handle(std::size_t client_index, std::size_t which, const std::string& bytes) {
  auto& c = clients_[client_index];
  if (which == 0)
    on_keep_alive(c, bytes);
  else if (which == 1)
    on_op(c, bytes);
  else
    on_watch(c, bytes);
}

namespace {

bool decode_or_fail(const std::string& bytes, lock::result& r, lock_host& host) {
  std::string error;
  if (lock::decode(bytes, r, error))
    return true;
  host.fail("undecodable lock result: " + error);
  return false;
}

}  // namespace

void lock_workload::on_keep_alive(client& c, const std::string& bytes) {
  lock::result r;
  if (c.session == 0 || !decode_or_fail(bytes, r, host_))
    return;
  bool was_strict = strict(c);
  auto now = host_.now_ms();
  c.ka_out = false;
  if (r.code == result_code::ok) {
    c.keeper->confirmed(c.ka_ticket, keeper_time(now));
    if (now - c.last_ka_send > interval_of(c))
      c.strict = false;
    auto& info = sessions_[c.session];
    if (info)
      info->acked_deadline = std::max(info->acked_deadline, r.deadline);
    if (auto e = expired_at_.find(c.session); e != expired_at_.end() && r.deadline >= e->second)
      return host_.fail("a keep-alive of session " + std::to_string(c.session) +
                        " acknowledged deadline " + std::to_string(r.deadline) +
                        " but the session expired at log time " + std::to_string(e->second));
    if (c.vanished_at && c.last_ka_send > *c.vanished_at)
      return host_.fail("the waiting acquire of " + c.vanished_name + " by session " +
                        std::to_string(c.session) + " (client " + std::to_string(c.index + 1) +
                        ") vanished, neither granted nor cancelled, while the session lived");
    return;
  }
  if (r.code != result_code::no_session)
    return host_.fail("keep_alive answered " + std::string(lock::to_string(r.code)));
  c.keeper->gone(keeper_time(now));
  if (c.st == client::phase::closing)
    return;
  if (was_strict)
    return host_.fail("session " + std::to_string(c.session) + " of client " +
                      std::to_string(c.index + 1) + " is gone although its client kept it alive " +
                      "every " + std::to_string(interval_of(c)) + " ms and every keep-alive was " +
                      "acknowledged within that");
  session_lost(c);
}

void lock_workload::session_lost(client& c) {
  using phase = client::phase;
  trace(c, "lost session " + std::to_string(c.session));
  c.vanished_at.reset();
  c.session = 0;
  c.ka_out = false;
  c.strict = false;
  host_.abandon(c.ka);
  switch (c.st) {
    case phase::holding:
    case phase::store_read:
    case phase::write_ready:
    case phase::store_write:
      // The critical section runs on with its token, as a real one would
      // before it notices: the fence has to stop it.
      break;
    default:
      host_.abandon(c.op);
      c.st = phase::none;
  }
}

void lock_workload::got_lock(client& c, std::uint64_t token) {
  auto g = grants_.find({c.name, token});
  if (g == grants_.end() || g->second.first != c.grant_session || g->second.second != c.mode)
    return host_.fail("client " + std::to_string(c.index + 1) + " was told it holds " + c.name +
                      " (" + mode_name(c.mode) + ") with token " + std::to_string(token) +
                      ", which was never granted to session " + std::to_string(c.grant_session) +
                      " in that mode");
  trace(c, "holds " + c.name + " " + mode_name(c.mode) + " token " + std::to_string(token));
  c.token = token;
  c.st = client::phase::holding;
  c.when = host_.now_ms() + tick_ms * host_.below(6);
}

void lock_workload::on_op(client& c, const std::string& bytes) {
  using phase = client::phase;
  if (c.st == phase::waiting)
    return on_wait_reply(c, bytes);
  lock::result r;
  if (!decode_or_fail(bytes, r, host_))
    return;
  auto now = host_.now_ms();
  auto unexpected = [&] {
    host_.fail("client " + std::to_string(c.index + 1) + " got " + lock::to_string(r.code) +
               " in an unexpected place (" + r.message + ")");
  };
  switch (c.st) {
    case phase::opening: {
      if (r.code != result_code::ok)
        return unexpected();
      c.session = r.session;
      auto& info = sessions_[c.session];
      info = std::make_unique<session_info>();
      info->client = c.index;
      info->incarnation = c.incarnation;
      info->acked_deadline = r.deadline;
      ++stats_.sessions;
      if (auto e = expired_at_.find(c.session); e != expired_at_.end() && r.deadline >= e->second)
        return host_.fail("session " + std::to_string(c.session) + " opened with deadline " +
                          std::to_string(r.deadline) + " expired at log time " +
                          std::to_string(e->second));
      c.keeper.emplace(keeper_timing(c.ttl), keeper_time(c.open_sent));
      c.strict = now - c.open_sent <= interval_of(c);
      c.last_ka_send = c.open_sent;
      c.ka_out = false;
      c.st = phase::none;
      trace(c, "opened session " + std::to_string(c.session));
      return;
    }
    case phase::acquiring:
      switch (r.code) {
        case result_code::ok:
        case result_code::already_held:
          return got_lock(c, r.token);
        case result_code::queued:
        case result_code::already_waiting:
          if (!c.waiter)
            return unexpected();
          c.st = phase::waiting;
          c.waiter->acquired(r.code, r.token, sim_time(now));
          return;
        case result_code::busy:
          c.st = phase::none;
          return;
        case result_code::no_session:
          return session_lost(c);
        default:
          return unexpected();
      }
    case phase::releasing:
      if (r.code == result_code::ok)
        c.st = phase::none;
      else if (r.code == result_code::no_session)
        session_lost(c);
      else if (r.code == result_code::not_held)
        host_.fail("session " + std::to_string(c.grant_session) + " released " + c.name +
                   " (token " + std::to_string(c.token) +
                   ") and heard not_held: a live session lost a lock it never gave back");
      else
        unexpected();
      return;
    case phase::putting:
      if (r.code == result_code::ok) {
        c.keys.push_back(c.pending_key);
        c.st = phase::none;
      } else if (r.code == result_code::no_session) {
        session_lost(c);
      } else {
        unexpected();
      }
      return;
    case phase::deleting:
      if (r.code != result_code::ok && r.code != result_code::not_found)
        return unexpected();
      c.st = phase::none;
      return;
    case phase::closing:
      if (r.code != result_code::ok && r.code != result_code::no_session)
        return unexpected();
      trace(c, "closed session " + std::to_string(c.session));
      c.session = 0;
      c.ka_out = false;
      c.vanished_at.reset();
      host_.abandon(c.ka);
      c.st = phase::none;
      return;
    default:
      return;
  }
}

void lock_workload::on_wait_reply(client& c, const std::string& bytes) {
  lock::result r;
  if (!decode_or_fail(bytes, r, host_))
    return;
  auto now = sim_time(host_.now_ms());
  auto& w = *c.waiter;
  if (c.asked == lock::waiter_request::withdraw) {
    w.withdrawn(r.code, now);
  } else {
    for (auto& h : r.holders) {
      auto g = grants_.find({c.name, h.token});
      if (g == grants_.end() || g->second.first != h.session)
        return host_.fail("lock_info of " + c.name + " shows session " + std::to_string(h.session) +
                          " holding it with token " + std::to_string(h.token) +
                          ", which was never granted to it");
    }
    w.looked(lock::standing_in(r, c.grant_session), now);
  }
  c.asked = lock::waiter_request::none;
  switch (w.outcome()) {
    case lock::wait_outcome::pending:
      return;  // the next look or the withdraw comes with the next step
    case lock::wait_outcome::granted:
      ++stats_.waits_granted;
      stats_.late_grants += w.withdraw_sent() ? 1 : 0;
      return got_lock(c, w.token());
    case lock::wait_outcome::timed_out:
      ++stats_.waits_withdrawn;
      c.st = client::phase::none;
      return;
    case lock::wait_outcome::session_lost:
      return session_lost(c);
    case lock::wait_outcome::dropped:
      // Neither holder nor waiter: the session must be gone; the next keep-alive tells.
      trace(c, "no longer waits for " + c.name);
      c.vanished_at = host_.now_ms();
      c.vanished_name = c.name;
      c.st = client::phase::none;
      return;
    default:
      return host_.fail("the wait of session " + std::to_string(c.grant_session) + " for " +
                        c.name + " ended " + lock::to_string(w.outcome()) + " (" +
                        lock::to_string(w.refusal()) + "): cancel_wait answered not_waiting, " +
                        "yet the session still waits, or an answer came out of place");
  }
}

void lock_workload::store_access(client& c, bool write) {
  c.st = write ? client::phase::store_write : client::phase::store_read;
  auto idx = c.index;
  auto inc = c.incarnation;
  auto name = c.name;
  auto token = c.token;
  auto session = c.grant_session;
  auto base = c.base;
  trace(c, std::string(write ? "writes " : "reads ") + name + " with token " +
             std::to_string(token) + (write ? " value " + std::to_string(base + 1) : ""));
  store_in_flight_ += 1;
  auto delay = [this] { return 1 + host_.below(std::max<std::uint64_t>(1, host_.max_delay_ms())); };
  host_.after(delay(), [=] {
    auto& e = store_[name];
    auto reply = [&](bool accepted, std::uint64_t value) {
      host_.after(delay(), [=] {
        store_in_flight_ -= 1;
        on_store_reply(idx, inc, write, accepted, value);
      });
    };
    // The Chubby sequencer check: refuse a token older than one seen before.
    bool fence_ok = token >= e.highest;
#ifdef BALLOT_MUTANT_LOCK_NO_FENCE
    fence_ok = true;
#endif
    if (!fence_ok) {
      ++stats_.fenced;
      host_.trace("store refuses " + name + " token " + std::to_string(token) + " (seen " +
                  std::to_string(e.highest) + ")");
      return reply(false, 0);
    }
    auto g = grants_.find({name, token});
    if (g == grants_.end() || g->second.first != session ||
        (write && g->second.second != lock_mode::exclusive))
      return host_.fail("the store accepted " + name + " token " + std::to_string(token) +
                        " from session " + std::to_string(session) +
                        ", not an exclusive grant of that lock to that session");
    if (expired_at_.count(session) != 0)
      ++stats_.stale_holders;
    if (write) {
      // No lost update: the value it read is still the store's value.
      if (base != e.value)
        return host_.fail("lost update on " + name + ": session " + std::to_string(session) +
                          " wrote with token " + std::to_string(token) + " based on value " +
                          std::to_string(base) + " but the store holds " + std::to_string(e.value) +
                          " (written under token " + std::to_string(e.last_accepted) + ")");
      if (token < last_token_[name])
        ++stats_.late_writes;
    }
    if (token < e.last_accepted)
      return host_.fail("the store accepted " + name + " token " + std::to_string(token) +
                        " after token " + std::to_string(e.last_accepted));
    if (write) {
      e.value = base + 1;
      ++e.writes;
      ++stats_.writes;
    }
    e.highest = std::max(e.highest, token);
    e.last_accepted = token;
    reply(true, e.value);
  });
}

void lock_workload::on_store_reply(std::size_t client_index, std::uint64_t incarnation, bool write,
                                   bool accepted, std::uint64_t value) {
  auto& c = clients_[client_index];
  if (c.incarnation != incarnation || c.crashed || c.hung)
    return;
  if (host_.now_ms() < c.paused_until) {
    c.inbox.push_back([=] { on_store_reply(client_index, incarnation, write, accepted, value); });
    return;
  }
  using phase = client::phase;
  if (accepted && !write && c.mode == lock_mode::exclusive) {
    c.base = value;
    c.st = phase::write_ready;
    c.when = host_.now_ms() + tick_ms * host_.below(3);
    // Delayed arbitrarily between reading and writing: its session may
    // expire meanwhile, and the fence must then refuse the write.
    if (faults_ && host_.below(100) < 15) {
      auto d = 1 + host_.below(2 * ttl_hi_);
      ++stats_.pauses;
      trace(c, "pauses in its critical section for " + std::to_string(d) + " ms");
      c.paused_until = host_.now_ms() + d;
      c.strict = false;
    }
    return;
  }
  if (!accepted)
    trace(c, "was fenced off " + c.name);
  if (c.session != 0 && c.session == c.grant_session) {
    c.st = phase::releasing;
    send(c, c.op, lock::encode(lock::command{lock::release{0, c.session, c.name}}));
  } else {
    c.st = phase::none;  // its session is gone, and the lock with it
  }
}

void lock_workload::on_watch(client& c, const std::string& bytes) {
  lock::result r;
  if (!decode_or_fail(bytes, r, host_))
    return;
  auto what = "watch of '" + c.prefix + "' by client " + std::to_string(c.index + 1);
  if (r.code != result_code::ok)
    return host_.fail(what + " answered " + lock::to_string(r.code));
  if (r.revision < c.rev)
    return host_.fail(what + " went back from revision " + std::to_string(c.rev) + " to " +
                      std::to_string(r.revision));
  if (r.revision > events_.size())
    return host_.fail(what + " reached revision " + std::to_string(r.revision) +
                      " beyond the history's " + std::to_string(events_.size()));
  // 5. Exactly the history after its revision, filtered by its prefix.
  std::size_t n = 0;
  for (auto rev = c.rev + 1; rev <= r.revision; ++rev) {
    auto& e = events_[rev - 1];
    if (e.key.compare(0, c.prefix.size(), c.prefix) != 0)
      continue;
    if (n >= r.events.size() || !(r.events[n] == e))
      return host_.fail(what + " from revision " + std::to_string(c.rev) + " to " +
                        std::to_string(r.revision) + " missed or misordered revision " +
                        std::to_string(rev) + " (" + e.key + ")");
    ++n;
  }
  if (n != r.events.size())
    return host_.fail(what + " delivered " + std::to_string(r.events.size() - n) +
                      " event(s) the history does not have there");
  stats_.watch_events += n;
  c.rev = r.revision;
}

// --- the end of a run ------------------------------------------------------------

bool lock_workload::settled(const std::vector<const lock_machine*>& live) const {
  if (store_in_flight_ != 0)
    return false;
  for (auto& c : clients_) {
    if (c.crashed || c.hung)
      continue;
    if (!c.retired || c.rev != events_.size())
      return false;
  }
  for (auto* m : live) {
    auto& svc = m->service().locks();
    if (m->applied() != applied_ || !svc.sessions().sessions().empty() ||
        !svc.locks().locks().empty() || !svc.keys().sessions().empty())
      return false;
  }
  return true;
}

std::string lock_workload::stuck(const std::vector<const lock_machine*>& live) const {
  using phase = client::phase;
  for (auto& c : clients_) {
    if (c.crashed || c.hung || c.retired)
      continue;
    auto who =
      "client " + std::to_string(c.index + 1) + " (session " + std::to_string(c.session) + ")";
    if (c.st == phase::waiting)
      return who + " still waits for " + c.name + " while keeping its session alive";
    return who + " has not finished (phase " + std::to_string(static_cast<int>(c.st)) + ")";
  }
  for (auto& c : clients_)
    if (!c.crashed && !c.hung && c.rev != events_.size())
      return "the watch of client " + std::to_string(c.index + 1) + " is at revision " +
             std::to_string(c.rev) + " of " + std::to_string(events_.size());
  for (auto* m : live) {
    auto& svc = m->service().locks();
    if (!svc.sessions().sessions().empty())
      return "session " + std::to_string(svc.sessions().sessions().begin()->first) +
             " never expired or closed (log time " + std::to_string(svc.now()) + ", deadline " +
             std::to_string(svc.sessions().sessions().begin()->second.deadline) + ")";
    if (!svc.locks().locks().empty())
      return "lock " + svc.locks().locks().begin()->first + " is still held or delayed";
  }
  if (store_in_flight_ != 0)
    return "store messages in flight";
  return "replicas did not converge";
}

void lock_workload::check_final(const std::vector<const lock_machine*>& live) {
  std::optional<std::string> first;
  for (auto* m : live) {
    auto snap = m->service().snapshot();
    if (!first)
      first = snap;
    else if (snap != *first)
      return host_.fail("after healing, two replicas' lock service states differ");
  }
  for (auto& [name, e] : store_)
    if (e.value != e.writes)
      return host_.fail("the store's " + name + " holds " + std::to_string(e.value) + " after " +
                        std::to_string(e.writes) + " accepted writes");
}

}  // namespace ballot::sim
