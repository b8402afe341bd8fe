#include "runtime/gateway/bridge.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <stdexcept>
#include <utility>

#include "caf/actor.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/paxos/membership.hpp"
#include "actors/replica/leader_follower.hpp"
#include "actors/replica/type_ids.hpp"
#include "runtime/gateway/bridge_job.hpp"

namespace ballot::gateway {

namespace {

using clock_type = std::chrono::steady_clock;
using sweep_atom = caf::atom_constant<caf::atom("gw_sweep")>;
constexpr sweep_atom sweep_atom_v = sweep_atom{};
using drain_atom = caf::atom_constant<caf::atom("gw_drain")>;
constexpr drain_atom drain_atom_v = drain_atom{};
using batch_atom = caf::atom_constant<caf::atom("gw_batch")>;
constexpr batch_atom batch_atom_v = batch_atom{};

/// Writes to one replica are sent together, up to this many commands or
/// bytes in one request (larger writes, over `options::max_forward_bytes`,
/// always go alone).
constexpr std::size_t max_batch_commands = 256;
constexpr std::size_t max_batch_bytes = std::size_t{1} << 20;

using job = bridge_job;
using job_ptr = bridge_job_ptr;
using status_job_ptr = bridge_status_job_ptr;

struct bridge_state {
  static inline const char* name = "ballot.gateway.bridge";

  replica_finder find;
  options opts;
  /// The replica that last took a request: new requests go straight there
  /// instead of bouncing off a follower first. Unset after a failure.
  std::optional<paxos::node_id> leader_guess;
  /// Names the asks in flight and the parked jobs: one counter for both.
  std::uint64_t next_ticket = 0;
  /// Jobs waiting out the route's pause (an election, a dead hop) before the
  /// bridge asks its own replica again.
  std::map<std::uint64_t, job_ptr> parked;
  /// An ask of a replica waiting for its answer until `until` (the hop's
  /// timeout, within the request's deadline).
  struct in_flight {
    job_ptr j;
    paxos::node_id target = 0;
    clock_type::time_point until;
  };
  /// Only an ask still here is answered: one the sweep expired has left, so
  /// its late answer is dropped, as CAF drops one after a request timeout.
  std::map<std::uint64_t, in_flight> asking;
  /// The times of both kinds above, earliest first: one timer for all of
  /// them (see arm), instead of a CAF timeout per request, which CAF 0.17
  /// neither cancels on the answer nor keeps off the bridge's mailbox.
  std::set<std::pair<clock_type::time_point, std::uint64_t>> timeline;
  /// When the sweep message in flight is due, if one is.
  std::optional<clock_type::time_point> armed;
  /// Bytes of large writes this bridge has forwarded, or handed to its own
  /// replica while that leads, and not yet answered.
  std::size_t forwarded_bytes = 0;
  /// Large writes waiting for that budget, oldest first, with the leader
  /// their replica named (or none: a write for this node's own replica).
  /// Their bytes are already within the gateway's in-flight budget, so this
  /// queue is bounded by it; each still answers by its deadline.
  struct waiting_write {
    job_ptr j;
    paxos::node_id target;
    std::optional<paxos::node_id> hint;
    bool own = false;
  };
  std::deque<waiting_write> waiting_forward;
  /// Writes asked since the last batch went out, by the replica asked (the
  /// tickets of their asks): one request per replica and batch, not one per
  /// write, so a follower's forwarded writes cross the peer link, the
  /// leader's link actor and its replica's mailbox once per batch.
  struct outgoing {
    caf::actor dest;
    std::vector<std::uint64_t> tickets;
  };
  std::map<paxos::node_id, outgoing> outbox;
  /// A batch_atom is on its way: it comes after every job already in the
  /// mailbox, so the writes that arrived together leave together.
  bool batch_due = false;
};

using bridge_actor = caf::stateful_actor<bridge_state>*;

void finish(job& j, bridge_reply reply) {
  if (j.budget != nullptr) {
    *j.budget -= j.forwarded;
    j.budget = nullptr;
  }
  if (!j.done)
    return;
  auto done = std::move(j.done);
  j.done = nullptr;
  done(std::move(reply));
}

void give_up(job& j, const options& opts) {
  bridge_reply reply;
  reply.st = bridge_reply::status::unavailable;
  reply.message =
    j.last_error + " (gave up after " + std::to_string(opts.request_timeout.count()) + " ms)";
  finish(j, std::move(reply));
}

void ask(bridge_actor self, const job_ptr& j, paxos::node_id target);

/// Makes sure a sweep comes by the earliest time on the timeline: a new
/// timer only when that time is before the one already set.
void arm(bridge_actor self, clock_type::time_point now) {
  auto& st = self->state;
  if (st.timeline.empty())
    return;
  auto first = st.timeline.begin()->first;
  if (st.armed && *st.armed <= first)
    return;
  st.armed = first;
  auto due = first.time_since_epoch().count();
  self->delayed_send(self, std::max(first - now, clock_type::duration{0}), sweep_atom_v, due);
}

/// Asks where the route says, or parks the job for its pause, or gives up.
void go(bridge_actor self, const job_ptr& j) {
  auto& st = self->state;
  auto now = clock_type::now();
  auto next = j->route->next(now);
  switch (next.what) {
    case routing::leader_follower::verdict::give_up:
      give_up(*j, st.opts);
      return;
    case routing::leader_follower::verdict::try_now:
      ask(self, j, static_cast<paxos::node_id>(next.member));
      return;
    case routing::leader_follower::verdict::pause:
      break;
  }
  auto ticket = ++st.next_ticket;
  st.parked.emplace(ticket, j);
  st.timeline.emplace(next.at, ticket);
  arm(self, now);
}

/// The ask of `target` failed: the route moves on (after its pause).
void failed(bridge_actor self, const job_ptr& j, std::string why) {
  self->state.leader_guess.reset();
  j->last_error = std::move(why);
  j->route->failed(clock_type::now());
  go(self, j);
}

/// Takes `j`'s bytes out of the forwarding budget, if they fit (one write
/// always fits an empty budget).
bool take_forward_budget(bridge_state& st, job& j) {
  auto size = j.cmd.payload.size();
  if (st.forwarded_bytes > 0 && st.forwarded_bytes + size > st.opts.max_forward_in_flight_bytes)
    return false;
  st.forwarded_bytes += size;
  j.forwarded = size;
  j.budget = &st.forwarded_bytes;
  return true;
}

void forward(bridge_actor self, const job_ptr& j, paxos::node_id target,
             std::optional<paxos::node_id> hint);

/// Queues a large write for the budget; it is answered by its deadline even
/// if no large write finishes before.
void wait_for_budget(bridge_actor self, bridge_state::waiting_write w) {
  auto& j = *w.j;
  j.last_error = "the write waited for this node's budget for large writes in flight (" +
                 std::to_string(self->state.opts.max_forward_in_flight_bytes) + " bytes)";
  auto due = j.deadline - clock_type::now();
  self->state.waiting_forward.push_back(std::move(w));
  self->delayed_send(self, due, drain_atom_v);
}

/// Forwards the waiting large writes the budget has room for, in order, and
/// answers those whose deadline passed while they waited. Called after each
/// message the bridge handles: only a finished job frees budget.
void drain_waiting(bridge_actor self) {
  auto& st = self->state;
  auto now = clock_type::now();
  while (!st.waiting_forward.empty()) {
    auto& w = st.waiting_forward.front();
    if (!w.j->done) {
      st.waiting_forward.pop_front();
    } else if (now >= w.j->deadline) {
      give_up(*w.j, st.opts);
      st.waiting_forward.pop_front();
    } else if (take_forward_budget(st, *w.j)) {
      auto next = std::move(w);
      st.waiting_forward.pop_front();
      if (next.own)
        go(self, next.j);
      else
        forward(self, next.j, next.target, next.hint);
    } else {
      return;
    }
  }
}

/// Answers every waiting write whose deadline passed, wherever it waits: the
/// queue's order is that of the writes' not_leader answers, not of their
/// deadlines (one whose first asks failed joins behind later ones), and the
/// write at the front holds the others back from forwarding only.
void answer_overdue(bridge_state& st) {
  auto now = clock_type::now();
  auto& q = st.waiting_forward;
  auto overdue = [&](bridge_state::waiting_write& w) {
    if (!w.j->done)
      return true;
    if (now < w.j->deadline)
      return false;
    give_up(*w.j, st.opts);
    return true;
  };
  q.erase(std::remove_if(q.begin(), q.end(), overdue), q.end());
}

void on_answer(bridge_actor self, const job_ptr& j, paxos::node_id target,
               paxos::reply_status status, std::string& result,
               std::optional<paxos::node_id> hint) {
  auto& st = self->state;
  switch (status) {
    case paxos::reply_status::ok: {
      st.leader_guess = target;
      bridge_reply reply;
      reply.result = std::move(result);
      finish(*j, std::move(reply));
      return;
    }
    case paxos::reply_status::expired: {
      bridge_reply reply;
      reply.st = bridge_reply::status::expired;
      reply.message =
        "the write expired: its client has more writes in flight than the "
        "replicas' deduplication window, or was idle long enough to be forgotten "
        "(it may have applied; new writes need a fresh client id)";
      finish(*j, std::move(reply));
      return;
    }
    case paxos::reply_status::overloaded:
    case paxos::reply_status::quota_exceeded:
    case paxos::reply_status::id_reused:
    case paxos::reply_status::invalid: {
      bridge_reply reply;
      reply.st = status == paxos::reply_status::overloaded ? bridge_reply::status::overloaded
                 : status == paxos::reply_status::quota_exceeded
                   ? bridge_reply::status::quota_exceeded
                 : status == paxos::reply_status::id_reused ? bridge_reply::status::id_reused
                                                            : bridge_reply::status::invalid;
      reply.result = std::move(result);
      // The replica may say why (a full disk); otherwise the queue is full.
      reply.message =
        status == paxos::reply_status::overloaded
          ? (reply.result.empty() ? "the leader's queue of proposals is full" : reply.result)
        : status == paxos::reply_status::invalid
          ? "the request id's seq is 0 or the command is over the size limit"
          : std::string{};
      finish(*j, std::move(reply));
      return;
    }
    case paxos::reply_status::not_leader:
      break;
  }
  // A large write is forwarded on the peer links only within a small budget,
  // and never when the client can be told where the leader is: there it would
  // queue votes and heartbeats behind its bytes. Past the budget it waits its
  // turn (its bytes are held by the gateway's budget already): answering
  // notLeader without an endpoint would only bring the same bytes back.
  auto size = j->cmd.payload.size();
  bool redirect = false;
  if (j->is_write && size > st.opts.max_forward_bytes && hint && *hint != target &&
      j->budget == nullptr && st.opts.forward && !j->local_only) {
    redirect = !st.opts.endpoint_of(*hint).empty();
    if (!redirect && !take_forward_budget(st, *j)) {
      wait_for_budget(self, {j, target, hint});
      return;
    }
  }
  if (!st.opts.forward || redirect || j->local_only) {
    bridge_reply reply;
    reply.st = bridge_reply::status::not_leader;
    reply.leader_hint = hint;
    finish(*j, std::move(reply));
    return;
  }
  forward(self, j, target, hint);
}

void forward(bridge_actor self, const job_ptr& j, paxos::node_id target,
             std::optional<paxos::node_id> hint) {
  auto& st = self->state;
  st.leader_guess = hint;
  auto hops = j->route->hops();
  std::optional<routing::leader_follower::member_id> to;
  if (hint)
    to = *hint;
  j->route->not_leader(to, clock_type::now());
  if (j->route->hops() == hops)
    j->last_error = hint ? "replica " + std::to_string(target) + " names leader " +
                             std::to_string(*hint) + ", which does not take requests"
                         : "no leader elected";
  go(self, j);
}

/// The ask under `ticket`, taken off the books, or nothing when the sweep
/// ended it already.
std::optional<bridge_state::in_flight> answered(bridge_actor self, std::uint64_t ticket) {
  auto& st = self->state;
  auto it = st.asking.find(ticket);
  if (it == st.asking.end())
    return std::nullopt;
  auto a = std::move(it->second);
  st.asking.erase(it);
  st.timeline.erase({a.until, ticket});
  return a;
}

/// A write that may share a request with others: not a membership change
/// (the leader orders those on their own) and not a large write (those keep
/// the forwarding budget's turns, one request each).
bool batchable(const bridge_state& st, const paxos::command& cmd) {
  return cmd.client != paxos::membership_client && cmd.payload.size() <= st.opts.max_forward_bytes;
}

/// Ends the asks of `tickets` still open with an error: each job's route
/// moves on.
auto fail_asks(bridge_actor self, std::vector<std::uint64_t> tickets) {
  return [self, tickets = std::move(tickets)](caf::error& err) {
    for (auto t : tickets)
      if (auto a = answered(self, t))
        failed(self, a->j,
               "replica " + std::to_string(a->target) +
                 " did not answer: " + self->system().render(err));
    drain_waiting(self);
  };
}

/// Asks `dest` one thing for the job of `ticket`: its answer, if the ask is
/// still open, goes to on_answer.
template <class Reply, class Atom, class Arg>
void request_one(bridge_actor self, const caf::actor& dest, std::uint64_t ticket, Atom atom,
                 Arg arg) {
  self->request(dest, caf::infinite, atom, std::move(arg))
    .then(
      [self, ticket](Reply& r) {
        if (auto a = answered(self, ticket))
          on_answer(self, a->j, a->target, r.status, r.result, r.leader_hint);
        drain_waiting(self);
      },
      fail_asks(self, {ticket}));
}

void ask(bridge_actor self, const job_ptr& j, paxos::node_id target) {
  auto& st = self->state;
  auto now = clock_type::now();
  if (now >= j->deadline) {
    give_up(*j, st.opts);
    return;
  }
  auto dest = st.find(target);
  if (!dest) {
    failed(self, j, "replica " + std::to_string(target) + " is unknown or unreachable");
    return;
  }
  auto hop = j->hop.count() > 0 ? j->hop : st.opts.hop_timeout;
  auto until = now + std::min<clock_type::duration>(hop, j->deadline - now);
  auto ticket = ++st.next_ticket;
  st.asking.emplace(ticket, bridge_state::in_flight{j, target, until});
  st.timeline.emplace(until, ticket);
  arm(self, now);
  // No CAF timeout: the sweep ends the ask at `until`. The handlers hold the
  // ticket only, so an answer that never comes keeps no job alive.
  if (j->is_write && batchable(st, j->cmd)) {
    auto& out = st.outbox[target];
    out.dest = dest;
    out.tickets.push_back(ticket);
    if (!st.batch_due) {
      st.batch_due = true;
      self->send(self, batch_atom_v);
    }
  } else if (j->is_write) {
    request_one<paxos::client_reply>(self, dest, ticket, actors::propose_atom_v, j->cmd);
  } else {
    request_one<actors::read_reply>(self, dest, ticket, actors::read_atom_v, j->query);
  }
}

/// Sends one replica the writes of `tickets` still asked (the sweep may
/// have ended some): alone as a propose, or together as one batch whose
/// answers come back in the same order.
void send_batch(bridge_actor self, const caf::actor& dest, std::vector<std::uint64_t> tickets) {
  auto& st = self->state;
  std::vector<paxos::command> cmds;
  cmds.reserve(tickets.size());
  auto live = tickets.begin();
  for (auto t : tickets)
    if (auto a = st.asking.find(t); a != st.asking.end()) {
      cmds.push_back(a->second.j->cmd);
      *live++ = t;
    }
  tickets.erase(live, tickets.end());
  if (tickets.empty())
    return;
  if (tickets.size() == 1) {
    request_one<paxos::client_reply>(self, dest, tickets.front(), actors::propose_atom_v,
                                     std::move(cmds.front()));
    return;
  }
  self->request(dest, caf::infinite, actors::propose_batch_atom_v, std::move(cmds))
    .then(
      [self, tickets](std::vector<paxos::client_reply>& rs) {
        for (std::size_t i = 0; i < tickets.size(); ++i) {
          auto a = answered(self, tickets[i]);
          if (!a)
            continue;
          if (i < rs.size())
            on_answer(self, a->j, a->target, rs[i].status, rs[i].result, rs[i].leader_hint);
          else
            failed(self, a->j,
                   "replica " + std::to_string(a->target) + " answered " +
                     std::to_string(rs.size()) + " of a batch of " +
                     std::to_string(tickets.size()) + " writes");
        }
        drain_waiting(self);
      },
      fail_asks(self, tickets));
}

/// Sends every replica its writes asked since the last batch, at most
/// max_batch_commands and max_batch_bytes per request.
void send_batches(bridge_actor self) {
  auto& st = self->state;
  st.batch_due = false;
  auto outbox = std::move(st.outbox);
  st.outbox.clear();
  for (auto& [target, out] : outbox) {
    std::vector<std::uint64_t> part;
    std::size_t bytes = 0;
    for (auto t : out.tickets) {
      auto a = st.asking.find(t);
      auto size = a == st.asking.end() ? 0 : a->second.j->cmd.payload.size();
      if (!part.empty() && (part.size() == max_batch_commands || bytes + size > max_batch_bytes)) {
        send_batch(self, out.dest, std::move(part));
        part.clear();
        bytes = 0;
      }
      part.push_back(t);
      bytes += size;
    }
    send_batch(self, out.dest, std::move(part));
  }
}

/// Ends every ask past its hop timeout as CAF's request timeout did, and
/// takes every parked job whose pause is over back to its route.
void sweep(bridge_actor self, clock_type::time_point::rep due) {
  auto& st = self->state;
  if (st.armed && st.armed->time_since_epoch().count() == due)
    st.armed.reset();
  auto now = clock_type::now();
  while (!st.timeline.empty() && st.timeline.begin()->first <= now) {
    auto ticket = st.timeline.begin()->second;
    st.timeline.erase(st.timeline.begin());
    if (auto a = st.asking.find(ticket); a != st.asking.end()) {
      auto ended = std::move(a->second);
      st.asking.erase(a);
      failed(self, ended.j,
             "replica " + std::to_string(ended.target) + " did not answer: " +
               self->system().render(caf::make_error(caf::sec::request_timeout)));
    } else if (auto p = st.parked.find(ticket); p != st.parked.end()) {
      auto j = std::move(p->second);
      st.parked.erase(p);
      go(self, j);
    }
  }
  arm(self, now);
}

/// Collects the members' answers to one status probe.
struct status_collector {
  std::vector<member_view> views;
  std::size_t pending = 0;
  bridge::status_handler done;

  void one_done() {
    if (--pending == 0 && done)
      done(std::move(views));
  }
};

void probe(bridge_actor self, const status_job_ptr& sj) {
  auto& st = self->state;
  auto c = std::make_shared<status_collector>();
  c->done = std::move(sj->done);
  std::vector<caf::actor> dests;
  std::map<paxos::node_id, member_roster::entry> roles;
  if (st.opts.roster)
    roles = st.opts.roster->get();
  std::vector<paxos::node_id> ids = st.opts.members;
  if (!roles.empty()) {
    ids.clear();
    for (auto& [id, e] : roles)
      ids.push_back(id);
  }
  for (auto id : ids) {
    member_view view;
    view.id = id;
    view.learner = roles.count(id) != 0 && roles.at(id).learner;
    c->views.push_back(view);
    dests.push_back(st.find(id));
  }
  // One extra count for this loop, so that no answer completes it early.
  c->pending = 1;
  for (std::size_t i = 0; i < dests.size(); ++i) {
    if (!dests[i])
      continue;
    ++c->pending;
    // Urgent: a status must not wait behind a mailbox of large writes.
    self
      ->request<caf::message_priority::high>(dests[i], st.opts.status_timeout,
                                             actors::status_atom_v)
      .then(
        [c, i](actors::replica_status& s) {
          auto& view = c->views[i];
          view.up = true;
          view.is_leader = s.is_leader;
          view.leader_hint = s.leader_hint;
          view.commit_index = s.commit_index;
          c->one_done();
        },
        [c](caf::error&) { c->one_done(); });
  }
  c->one_done();
}

/// A new request: its route starts at the leader last seen (or this
/// node's replica), and it is asked there.
void start(bridge_actor self, const job_ptr& j) {
  auto& st = self->state;
  bool too_big = j->is_write && j->cmd.payload.size() > st.opts.max_forward_bytes;
  bool direct = st.opts.forward && !too_big && !j->local_only;
  routing::follower_config cfg;
  cfg.round_pause = st.opts.retry_delay;
  j->route.emplace(cfg, std::vector<routing::leader_follower::member_id>{st.opts.self},
                   direct ? st.leader_guess.value_or(st.opts.self) : st.opts.self, j->deadline);
  // While this node leads, its own clients' large writes take turns
  // with those the followers forward, under the same budget: otherwise
  // its clients fill the proposer's queue while a follower's wait 4 MiB
  // at a time (at 128 clients of 1 MB puts: p50 0.3 s here, 4.5 s there).
  if (too_big && st.leader_guess == st.opts.self && !j->local_only &&
      !take_forward_budget(st, *j)) {
    wait_for_budget(self, {j, st.opts.self, std::nullopt, true});
    return;
  }
  go(self, j);
}

caf::behavior bridge_actor_impl(bridge_actor self, replica_finder find, options opts) {
  auto& st = self->state;
  st.find = std::move(find);
  st.opts = std::move(opts);
  if (st.opts.members.empty())
    st.opts.members = {st.opts.self};
  return {
    [self](job_ptr& j) {
      start(self, j);
      drain_waiting(self);
    },
    [self](std::vector<job_ptr>& js) {
      for (auto& j : js)
        start(self, j);
      drain_waiting(self);
    },
    [self](sweep_atom, clock_type::time_point::rep due) {
      sweep(self, due);
      drain_waiting(self);
    },
    // Due at a waiting write's deadline.
    [self](drain_atom) {
      answer_overdue(self->state);
      drain_waiting(self);
    },
    [self](batch_atom) { send_batches(self); },
    [self](status_job_ptr& sj) { probe(self, sj); },
  };
}

}  // namespace

replica_finder find_in(actors::peer_map replicas) {
  return [replicas = std::move(replicas)](paxos::node_id id) {
    auto it = replicas.find(id);
    return it == replicas.end() ? caf::actor{} : it->second;
  };
}

bridge::bridge(caf::actor_system& sys, replica_finder find, const options& opts)
    : request_timeout_(opts.request_timeout) {
  if (!find)
    throw std::invalid_argument("gateway bridge: the replica finder is empty");
  actor_ = std::make_unique<caf::actor>(sys.spawn(bridge_actor_impl, std::move(find), opts));
}

bridge::~bridge() {
  caf::anon_send_exit(*actor_, caf::exit_reason::user_shutdown);
}

}  // namespace ballot::gateway
