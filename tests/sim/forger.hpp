#pragma once

#include <cstddef>
#include <cstdint>

#include "actors/paxos/replica.hpp"

namespace ballot::sim {

/// Kinds of forged messages the simulator injects (see `forge`).
inline constexpr std::uint64_t forged_kinds = 13;

/// A message that a buggy or compromised member `forger`, or corrupt bytes,
/// could put on the wire to `victim`, and that every replica must refuse
/// (actors/paxos/input_check.hpp): a prepare, accept or heartbeat at an
/// extreme round, slots far past the log or above the ceiling, slot 0, a
/// promise with a far vote, a sender that is not a member or is the victim
/// itself. `kind` picks one (modulo `forged_kinds`); members are 1..members.
paxos::envelope forge(std::uint64_t kind, paxos::node_id forger, const paxos::replica& victim,
                      std::size_t members);

}  // namespace ballot::sim
