#include "actors/paxos/input_check.hpp"

#include <algorithm>
#include <numeric>
#include <type_traits>

namespace ballot::paxos {

const char* name_of(input_fault f) {
  switch (f) {
    case input_fault::bad_sender:
      return "bad_sender";
    case input_fault::round_too_high:
      return "round_too_high";
    case input_fault::bad_ballot_node:
      return "bad_ballot_node";
    case input_fault::slot_zero:
      return "slot_zero";
    case input_fault::slot_too_high:
      return "slot_too_high";
    case input_fault::slot_far_ahead:
      return "slot_far_ahead";
    case input_fault::inconsistent:
      return "inconsistent";
  }
  return "unknown";
}

std::uint64_t rejected_input::total() const {
  return std::accumulate(counts.begin(), counts.end(), std::uint64_t{0});
}

void rejected_input::note(input_fault f, node_id from) {
  ++counts[static_cast<std::size_t>(f)];
  last = f;
  last_from = from;
}

std::uint64_t next_round(std::uint64_t known, const config& cfg) {
  return known >= cfg.max_round ? cfg.max_round : known + 1;
}

namespace {

std::uint64_t add_saturating(std::uint64_t a, std::uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/// The checks of one message, with what they compare against.
class checker {
 public:
  checker(node_id from, const config& cfg, const input_view& view)
      : from_(from), cfg_(cfg), view_(view) {}

  bool member(node_id n) const {
    auto& ids = view_.known ? *view_.known : cfg_.members;
    return std::find(ids.begin(), ids.end(), n) != ids.end();
  }

  /// A ballot's node: a member, or one that was a member (its votes stay in
  /// acceptors' logs after it left).
  bool ever_member(node_id n) const { return member(n) || (n != 0 && n <= view_.max_id); }

  /// A round may not pass the ceiling, nor jump more than `round_lead` past
  /// the highest this replica knows. A member partitioned alone for a long
  /// time legitimately runs far ahead (one round per election timeout), so
  /// the lead is wide; what it stops is one message setting the round to
  /// 2^64 - 1, after which `round + 1` wraps and no candidate can win.
  bool round_ok(const ballot_number& b) const {
#ifdef BALLOT_MUTANT_NO_ROUND_BOUND
    (void)b;
    return true;
#else
    auto limit = std::min(cfg_.max_round, add_saturating(view_.known_round, cfg_.round_lead));
    return b.round <= limit;
#endif
  }

  /// A ballot of the protocol: round in bounds, node `owner` (the proposer
  /// whose ballot it must be: the sender of a prepare, accept or heartbeat,
  /// this replica for answers to its own prepares and accepts).
  std::optional<input_fault> ballot(const ballot_number& b, node_id owner) const {
    if (b.node != owner)
      return input_fault::bad_ballot_node;
    if (!round_ok(b))
      return input_fault::round_too_high;
    return std::nullopt;
  }

  /// A ballot some member made (a promise reported, a vote): any member.
  std::optional<input_fault> any_ballot(const ballot_number& b) const {
    if (!ever_member(b.node))
      return input_fault::bad_ballot_node;
    return ballot(b, b.node);
  }

  /// A slot (1..): never 0, never above the ceiling.
  std::optional<input_fault> slot(slot_index s) const {
    if (s == 0)
      return input_fault::slot_zero;
    return index(s);
  }

  /// A commit index or similar (0 = none) below the ceiling, so `+ 1` and
  /// the range loops over it stay finite.
  std::optional<input_fault> index(slot_index s) const {
    if (s > cfg_.max_slot)
      return input_fault::slot_too_high;
    return std::nullopt;
  }

  /// A slot this replica may vote or learn for: near its own log.
  std::optional<input_fault> near(slot_index s, slot_index base) const {
    if (auto f = slot(s))
      return f;
    if (s > add_saturating(base, cfg_.slot_lead))
      return input_fault::slot_far_ahead;
    return std::nullopt;
  }

  std::optional<input_fault> operator()(const prepare& m) const {
    if (auto f = ballot(m.ballot, from_))
      return f;
    return slot(m.first_open);
  }

  std::optional<input_fault> operator()(const promise& m) const {
    if (auto f = ballot(m.ballot, view_.self))
      return f;
    if (auto f = index(m.committed); f || (f = index(m.compacted)))
      return f;
    // Its votes are past what it applied, and it voted only `slot_lead` past
    // its commit index: one reaching further would make the new leader fill
    // every slot up to it with no-ops.
    auto base = std::max(view_.commit, m.committed);
    slot_index previous = 0;
    for (const auto& e : m.entries) {
      if (auto f = near(e.slot, base); f || (f = any_ballot(e.ballot)))
        return f;
      if (e.slot <= previous || m.ballot < e.ballot)
        return input_fault::inconsistent;
      previous = e.slot;
    }
    return std::nullopt;
  }

  std::optional<input_fault> operator()(const accept& m) const {
    if (auto f = ballot(m.ballot, from_); f || (f = index(m.commit)))
      return f;
    return near(m.slot, view_.commit);
  }

  std::optional<input_fault> operator()(const accepted& m) const {
    if (auto f = ballot(m.ballot, view_.self))
      return f;
    return slot(m.slot);
  }

  std::optional<input_fault> operator()(const reject& m) const {
    if (auto f = ballot(m.ballot, view_.self))
      return f;
    return any_ballot(m.promised);
  }

  std::optional<input_fault> operator()(const heartbeat& m) const {
    if (auto f = ballot(m.ballot, from_))
      return f;
    // Not bounded by this replica's log: a follower that was down for long
    // must still hear its leader (else it would stand for election).
    return index(m.commit);
  }

  std::optional<input_fault> operator()(const heartbeat_ack& m) const {
    return ballot(m.ballot, view_.self);
  }

  std::optional<input_fault> operator()(const catchup_request& m) const {
    // Slot 0 would ask for the whole snapshot; a slot past this log is
    // answered with nothing anyway (no loop), so only the ceiling matters.
    return slot(m.from);
  }

  std::optional<input_fault> operator()(const catchup_reply& m) const {
    // Chosen values in slot order, contiguous, from where this replica asked
    // (at most its commit index + 1, which only grows).
    for (std::size_t i = 0; i < m.entries.size(); ++i) {
      auto s = m.entries[i].slot;
      if (auto f = i == 0 ? near(s, view_.commit) : slot(s))
        return f;
      if (i > 0 && m.entries[i].slot != m.entries[i - 1].slot + 1)
        return input_fault::inconsistent;
    }
    return std::nullopt;
  }

  std::optional<input_fault> operator()(const install_snapshot& m) const {
    // A replica that was down for long legitimately receives a snapshot far
    // ahead of it: only the ceiling applies.
    return slot(m.snap.last);
  }

  std::optional<input_fault> operator()(const state_query&) const {
    return std::nullopt;
  }

  std::optional<input_fault> operator()(const state_report& m) const {
    if (!m.promised.is_zero())
      if (auto f = any_ballot(m.promised))
        return f;
    if (auto f = index(m.highest))
      return f;
    return index(m.commit);
  }

 private:
  node_id from_;
  const config& cfg_;
  const input_view& view_;
};

}  // namespace

std::optional<input_fault> check_input(const envelope& env, const config& cfg,
                                       const input_view& view) {
  checker c{env.from, cfg, view};
  // The only messages a replica gets from itself through its driver are its
  // own vote and its own promise, handed back once durable; anything else
  // "from" itself, or from a non-member, is forged.
  // A member that left may ask for catch-up: that is how it learns it left.
  bool former = std::holds_alternative<catchup_request>(env.msg) && c.ever_member(env.from);
  bool own = std::holds_alternative<accepted>(env.msg) || std::holds_alternative<promise>(env.msg);
  if ((!c.member(env.from) && !former) || (env.from == view.self && !own))
    return input_fault::bad_sender;
  return std::visit(c, env.msg);
}

}  // namespace ballot::paxos
