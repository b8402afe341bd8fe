#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "actors/paxos/types.hpp"
#include "runtime/gateway/bridge.hpp"

namespace ballot::gateway {

/// What one status probe of every member says about the cluster, as the
/// node `self` reports it to clients (`Ballot.status`) and operators
/// (`/status`, `/health`). Pure.
struct status_summary {
  /// 0 when no leader is known.
  paxos::node_id leader = 0;
  /// The leader's commit index when it answered, else this node's.
  std::uint64_t commit_index = 0;
  /// This node's own commit index (0 if its replica did not answer).
  std::uint64_t self_commit_index = 0;
  /// The leader answered the probe (its commit index is known).
  bool leader_answered = false;
  /// Members that answered.
  std::size_t up = 0;
  /// Voters (members that are not learners), and those of them that answered.
  std::size_t voters = 0;
  std::size_t voters_up = 0;
};

/// The leader is the member that answered and says it leads (the one with
/// the highest commit index if several still do), else the leader `self`
/// last heard from.
status_summary summarize(const std::vector<member_view>& views, paxos::node_id self);

/// Whether the node can serve: 200 only when it knows a leader that answers,
/// a majority of voters answer, and its commit index is within `max_lag`
/// slots of the leader's. `reason` says why not (or "ok").
struct health_verdict {
  bool ok = false;
  std::string reason;
};
health_verdict judge_health(const std::vector<member_view>& views, paxos::node_id self,
                            std::uint64_t max_lag);

}  // namespace ballot::gateway
