#pragma once

#include <optional>
#include <variant>
#include <vector>

#include "actors/paxos/types.hpp"

/// Node-to-node messages of the Multi-Paxos core. Phase 1 (prepare/promise)
/// runs once per leadership and covers every slot from `first_open` on.
namespace ballot::paxos {

/// Phase 1a: "promise me ballot, and tell me what you accepted at or after first_open".
struct prepare {
  ballot_number ballot;
  slot_index first_open = 1;
};

/// One slot reported in a promise. `chosen` says the acceptor already knows
/// the slot is decided, so the new leader need not run phase 2 for it again.
struct promise_entry {
  slot_index slot = 0;
  ballot_number ballot;
  paxos::value val;
  bool chosen = false;
};

/// Phase 1b. `compacted`: the acceptor dropped its votes up to this slot
/// (they are in its snapshot); a candidate whose first open slot is not
/// after it must first fetch the snapshot.
///
/// `committed`: every slot up to here is chosen and applied at the acceptor,
/// and `entries` leave those slots out (so a promise never carries the whole
/// log). A candidate whose first open slot is not after it must first catch
/// up from that acceptor, like after a compaction.
struct promise {
  ballot_number ballot;
  std::vector<promise_entry> entries;
  slot_index compacted = 0;
  slot_index committed = 0;
};

/// Phase 2a, with the leader's commit index piggybacked so followers learn
/// without waiting for a heartbeat.
struct accept {
  ballot_number ballot;
  slot_index slot = 0;
  paxos::value val;
  slot_index commit = 0;
};

/// Phase 2b.
struct accepted {
  ballot_number ballot;
  slot_index slot = 0;
};

/// Answer to a prepare or accept below the acceptor's promise; tells the
/// sender which ballot it must beat.
struct reject {
  ballot_number ballot;    ///< the ballot that was refused
  ballot_number promised;  ///< the acceptor's current promise
};

/// Leader heartbeat: "I lead at ballot, every slot up to commit is chosen".
/// `read_round` numbers the leader's confirmation rounds for linearizable reads.
/// A voter acks a heartbeat whose `read_round` is not 0: the periodic ones
/// carry the current round, or `contact_round` while no read ever asked for
/// one (the leader counts the acks, see quorum_contact); the one that
/// announces a commit carries 0 and is not acked.
struct heartbeat {
  /// Asks for an ack that confirms no read round (it is above any round).
  static constexpr std::uint64_t contact_round = ~std::uint64_t{0};
  ballot_number ballot;
  slot_index commit = 0;
  std::uint64_t read_round = 0;
};

/// A follower's answer to a heartbeat: "at the time of round `read_round` I
/// had promised nothing above `ballot`", which lets the leader serve reads.
struct heartbeat_ack {
  ballot_number ballot;
  std::uint64_t read_round = 0;
  /// The sender's commit index: how far behind it is (learners ack every
  /// heartbeat with it, so the leader knows whether one may be promoted).
  slot_index commit = 0;
};

/// A replica that misses chosen values asks for them from `from` on.
struct catchup_request {
  slot_index from = 1;
};

struct chosen_entry {
  slot_index slot = 0;
  paxos::value val;
};

/// Chosen values, in slot order.
struct catchup_reply {
  std::vector<chosen_entry> entries;
};

/// The answer to a catch-up request from before the sender's snapshot.
struct install_snapshot {
  paxos::snapshot snap;
};

/// A replica that lost state or starts with none asks every other member what
/// it holds (see `rejoin`); `nonce` ties the answers to this incarnation.
struct state_query {
  std::uint64_t nonce = 0;
};

/// The answer: what the sender holds right now.
struct state_report {
  std::uint64_t nonce = 0;
  ballot_number promised;
  /// The highest slot it holds a vote or a chosen value for, or has assigned
  /// as a leader.
  slot_index highest = 0;
  slot_index commit = 0;
  /// false: the sender is itself repairing or fresh, so it cannot vouch.
  bool intact = true;
  /// It persisted something, ever (so the cluster is not new).
  bool has_state = false;
};

using message =
  std::variant<prepare, promise, accept, accepted, reject, heartbeat, heartbeat_ack,
               catchup_request, catchup_reply, install_snapshot, state_query, state_report>;

struct envelope {
  node_id from = 0;
  node_id to = 0;
  paxos::message msg;
};

}  // namespace ballot::paxos
