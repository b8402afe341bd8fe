#pragma once

#include <deque>
#include <map>
#include <set>
#include <vector>

#include "actors/paxos/config.hpp"
#include "actors/paxos/messages.hpp"

namespace ballot::paxos {

/// The proposer role of one replica: follower, candidate running phase 1, or
/// leader running pipelined, batched phase 2. It decides what to propose and
/// when a slot is chosen; it never touches the acceptor's or learner's state
/// (the replica wires them together).
class proposer {
 public:
  enum class role { follower, candidate, leader };

  /// What a new leader must do for one slot that its phase-1 quorum reported.
  struct recovered_slot {
    slot_index slot = 0;
    paxos::value val;
    bool chosen = false;  ///< already decided: learn it, do not propose it
  };

  explicit proposer(const config& cfg);

  role current_role() const { return role_; }
  const ballot_number& ballot() const { return ballot_; }
  /// Slots in phase 2 whose outcome is not known yet.
  std::size_t in_flight() const { return inflight_.size(); }
  std::size_t queued() const { return pending_.size() + pending_large_.size(); }
  /// Whether this candidacy or leadership counted another member's promise.
  bool promised_by_others() const;
  /// The slot the next new command goes to (leader).
  slot_index next_slot() const { return next_slot_; }
  /// The first slot phase 1 covers (candidate and leader).
  slot_index first_open() const { return first_open_; }

  /// Becomes a candidate at `b`: phase 1 for every slot from `first_open` on,
  /// answered by a quorum of `voters` (the voters of slot `first_open`).
  /// `keep_queue`: a leader re-running phase 1 for a new set of voters keeps
  /// the commands waiting for a slot.
  /// (No voters: the bootstrap members of the config.)
  prepare start(ballot_number b, slot_index first_open, std::vector<node_id> voters = {},
                bool keep_queue = false);

  /// The voters whose quorums this candidacy or leadership uses: it
  /// proposes only in slots that these voters govern.
  const std::vector<node_id>& voters() const { return voters_; }
  bool is_voter(node_id n) const;

  /// The last slot this leader may propose in now: within alpha of its
  /// commit index and governed by its voters (see RECONFIGURATION.md).
  void set_limit(slot_index last) { limit_ = last; }

  /// A recovered value for a slot past the limit: proposed by `fill` once the
  /// limit reaches it.
  void hold(slot_index slot, paxos::value val);

  /// Records a promise for the current ballot. True exactly once: when the
  /// promises reach a quorum and the caller should call `recovery` and `lead`.
  bool on_promise(node_id from, const promise& p);

  /// For every slot from first_open to the highest one any promise reported:
  /// a value already known chosen, else the value of the highest-ballot vote
  /// (Paxos' rule, which keeps any chosen value), else a no-op to fill the gap.
  std::vector<recovered_slot> recovery() const;

  /// Becomes leader; new commands go to slots from `next_slot` on.
  void lead(slot_index next_slot);

  /// Puts `val` into phase 2 at `slot`; returns the accept to broadcast.
  accept propose_at(slot_index slot, paxos::value val, slot_index commit);

  /// Queues a client command (the leader batches queued commands into slots).
  /// False, and nothing queued, when the queue is at `max_pending` commands
  /// or `max_pending_bytes` (one command is always taken into an empty queue).
  bool enqueue(command cmd);

  /// Logical time in ticks, for re-send pacing; the replica advances it.
  void advance(std::uint64_t now) { now_ = now; }

  /// Moves queued commands into new slots while the window has room.
  std::vector<accept> fill(slot_index commit);

  /// No-op slots up to `upto` (within the limit and window): they carry a
  /// membership change that waits for slot c + alpha to take effect.
  std::vector<accept> fill_noops(slot_index commit, slot_index upto);

  /// Counts a vote. Returns the slot's value once a quorum has accepted it.
  std::optional<chosen_entry> on_accepted(node_id from, const accepted& a);

  /// Forgets a slot that became known as chosen another way (e.g. catch-up).
  void forget(slot_index slot);

  /// Phase-1 or phase-2 messages that have not been answered yet, per member,
  /// for the periodic re-send that makes progress despite lost messages. A
  /// phase 2a goes again to a member only `resend_interval` ticks after it
  /// last went there, and at most `resend_bytes` of them per member per call:
  /// a large accept still on its way is not multiplied.
  std::vector<std::pair<node_id, message>> unanswered(slot_index commit);

  /// Payload bytes of the commands waiting for a slot, and of the slots in phase 2.
  std::size_t queued_bytes() const { return pending_bytes_; }
  std::size_t in_flight_bytes() const { return inflight_bytes_; }

  /// Gives up candidacy or leadership (a higher ballot was seen).
  void step_down();

 private:
  config cfg_;
  role role_ = role::follower;
  ballot_number ballot_;
  slot_index first_open_ = 1;
  std::map<node_id, promise> promises_;
  struct slot_state {
    paxos::value val;
    std::set<node_id> votes;
    std::size_t bytes = 0;
    /// When the accept last went to each member (ticks).
    std::map<node_id, std::uint64_t> sent;
  };
  void erase_inflight(std::map<slot_index, slot_state>::iterator it);

  std::map<slot_index, slot_state> inflight_;
  std::vector<node_id> voters_;
  /// Unbounded until the replica sets it (a proposer driven alone, in tests).
  slot_index limit_ = ~slot_index{0};
  std::map<slot_index, paxos::value> held_;
  std::size_t inflight_bytes_ = 0;
  /// Commands waiting for a slot: small ones, and those over
  /// `small_command_bytes`, which go after the small ones.
  std::deque<command> pending_;
  std::deque<command> pending_large_;
  std::size_t pending_bytes_ = 0;
  slot_index next_slot_ = 1;
  std::uint64_t now_ = 0;
  /// When the current prepare last went out (ticks).
  std::uint64_t prepare_sent_ = 0;
};

}  // namespace ballot::paxos
