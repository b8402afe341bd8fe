#pragma once

#include <optional>
#include <string>

#include "actors/paxos/ready.hpp"

namespace ballot::actors {

/// Answer to `(read_atom, query)`: the state machine's answer to the query,
/// given at a moment when the replica was the confirmed leader and had
/// applied every write acknowledged before the read arrived (linearizable).
struct read_reply {
  paxos::reply_status status = paxos::reply_status::ok;
  std::string result;
  /// Where to retry when status is not_leader.
  std::optional<paxos::node_id> leader_hint;
};

}  // namespace ballot::actors
