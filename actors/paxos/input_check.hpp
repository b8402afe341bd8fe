#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "actors/paxos/config.hpp"
#include "actors/paxos/messages.hpp"

/// Sanity checks on what a replica receives from the network: defence in
/// depth behind the authenticated peer links, against a buggy or compromised
/// member and against corrupt bytes. A message that fails is dropped whole
/// and counted; dropping a message is always safe in Paxos (the network may
/// lose any), so a check can only cost liveness, and the bounds are far from
/// anything legitimate (see config: max_round, round_lead, max_slot,
/// slot_lead, and README "What the core refuses from the network").
namespace ballot::paxos {

/// Why a message was dropped unread.
enum class input_fault : std::uint8_t {
  bad_sender,       ///< `from` is not a member, or is this replica
  round_too_high,   ///< a round above the ceiling, or too far past what this replica knows
  bad_ballot_node,  ///< a ballot that names a non-member, or not whom it must name
  slot_zero,        ///< slot 0 where slots start at 1
  slot_too_high,    ///< a slot (or commit index) above the ceiling
  /// A slot further past this replica's commit index than `slot_lead`: a
  /// forged one, or a voter that lags and catches up before it votes again.
  slot_far_ahead,
  inconsistent,  ///< entries out of order, or a vote above the promise that carries it
};
inline constexpr std::size_t input_fault_count = 7;

/// The reason's name ("bad_sender", ...), for logs.
const char* name_of(input_fault f);

/// Dropped messages by reason, for logs and metrics.
struct rejected_input {
  std::array<std::uint64_t, input_fault_count> counts{};
  /// The sender and reason of the last drop.
  node_id last_from = 0;
  std::optional<input_fault> last;

  std::uint64_t count(input_fault f) const { return counts[static_cast<std::size_t>(f)]; }
  std::uint64_t total() const;
  void note(input_fault f, node_id from);
};

/// What a message is compared with: this replica's own state.
struct input_view {
  node_id self = 0;
  /// The highest round this replica knows (its promise, its ballots, every
  /// round it accepted from the network).
  std::uint64_t known_round = 0;
  slot_index commit = 0;
  /// Whom messages may come from (every member this replica knows of); the
  /// bootstrap members when null.
  const std::vector<node_id>* known = nullptr;
  /// The highest member id ever given out, as far as this replica knows: a
  /// ballot may name a member that has left since (0: the bootstrap ones).
  node_id max_id = 0;
};

/// nullopt if `env` may be handled, else why it must be dropped.
std::optional<input_fault> check_input(const envelope& env, const config& cfg,
                                       const input_view& view);

/// The round of a new candidacy after `known`: one more, but never above the
/// ceiling (where it saturates), so it can never wrap to a round every
/// acceptor refuses.
std::uint64_t next_round(std::uint64_t known, const config& cfg);

}  // namespace ballot::paxos
