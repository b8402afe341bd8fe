#pragma once

#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "actors/paxos/dedup_image.hpp"
#include "actors/paxos/machine_image.hpp"
#include "actors/paxos/shared_payload.hpp"

/// Vocabulary of the Multi-Paxos core. Plain values only: no CAF, no I/O.
namespace ballot::paxos {

using node_id = std::uint32_t;

/// Log positions start at 1; 0 means "none".
using slot_index = std::uint64_t;

/// A ballot is (round, node): unique per node because a node never reuses a
/// round (its own persisted promise is always at least its last ballot).
struct ballot_number {
  std::uint64_t round = 0;
  node_id node = 0;

  bool is_zero() const { return round == 0 && node == 0; }

  friend bool operator<(const ballot_number& a, const ballot_number& b) {
    return std::tie(a.round, a.node) < std::tie(b.round, b.node);
  }
  friend bool operator==(const ballot_number& a, const ballot_number& b) {
    return a.round == b.round && a.node == b.node;
  }
  friend bool operator!=(const ballot_number& a, const ballot_number& b) { return !(a == b); }
  friend bool operator>(const ballot_number& a, const ballot_number& b) { return b < a; }
  friend bool operator<=(const ballot_number& a, const ballot_number& b) { return !(b < a); }
  friend bool operator>=(const ballot_number& a, const ballot_number& b) { return !(a < b); }
};

/// One client command. (client, seq) identifies it across retries, which is
/// what lets a replica apply a retried command exactly once.
struct command {
  std::uint64_t client = 0;
  std::uint64_t seq = 0;
  /// Shared, not copied, as the command travels (shared_payload.hpp).
  shared_payload payload;
  /// `state_machine::fingerprint(payload)`, set by the leader that orders the
  /// command, or 0 for "not known" (the learner computes it then). Carried in
  /// the log so that no other replica reads a megabyte payload once more
  /// only to hash it: that pass was a tenth of the cluster's CPU under 1 MB
  /// puts. Not part of a command's identity (==).
  std::uint64_t fingerprint = 0;

  friend bool operator==(const command& a, const command& b) {
    return a.client == b.client && a.seq == b.seq && a.payload == b.payload;
  }
  friend bool operator!=(const command& a, const command& b) { return !(a == b); }
};

/// The value of one slot: a batch of commands. An empty batch is a no-op,
/// which a new leader uses to fill gaps in the log.
struct value {
  std::vector<command> commands;

  bool is_noop() const { return commands.empty(); }

  friend bool operator==(const value& a, const value& b) { return a.commands == b.commands; }
  friend bool operator!=(const value& a, const value& b) { return !(a == b); }
};

/// The bytes a value costs in memory, on the wire and in the log (its
/// payloads; the framing is small). Every byte budget counts with this.
inline std::size_t payload_bytes(const value& val) {
  std::size_t n = 0;
  for (const auto& c : val.commands)
    n += c.payload.size();
  return n;
}

/// The applied state after slot `last`: the user state machine's snapshot
/// and the dedup table. Everything up to `last` can then leave the log.
struct snapshot {
  slot_index last = 0;
  /// The state machine's snapshot; encoded lazily when it was taken with
  /// `state_machine::freeze` (see machine_image).
  machine_image machine;
  /// The dedup table; made lazily when the learner took the snapshot.
  dedup_image clients;
  /// The membership epochs at `last` (`membership::encode`); empty in a
  /// snapshot from before membership was replicated: the bootstrap one.
  std::string members;

  friend bool operator==(const snapshot& a, const snapshot& b) {
    return a.last == b.last && a.machine == b.machine && a.clients == b.clients &&
           a.members == b.members;
  }
};

/// A vote of an acceptor: it accepted `val` at `ballot` for some slot.
struct accepted_value {
  ballot_number ballot;
  paxos::value val;
};

}  // namespace ballot::paxos
