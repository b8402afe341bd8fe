#pragma once

#include <optional>

#include "actors/paxos/types.hpp"

namespace ballot::actors {

/// Answer to `(status_atom)`: what a replica believes about the group. Meant
/// for tests, examples and operators; clients need only `client_reply`.
struct replica_status {
  paxos::node_id id = 0;
  bool is_leader = false;
  /// The leader this replica last heard from (itself when leading).
  std::optional<paxos::node_id> leader_hint;
  /// Every slot up to this one is chosen and applied here.
  paxos::slot_index commit_index = 0;
};

}  // namespace ballot::actors
