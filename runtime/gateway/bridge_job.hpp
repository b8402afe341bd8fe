#pragma once

// Internal to the bridge: the requests its handle (bridge_requests.cpp)
// hands to its actor (bridge.cpp).
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caf/allowed_unsafe_message_type.hpp"

#include "actors/paxos/types.hpp"
#include "actors/replica/leader_follower.hpp"
#include "runtime/gateway/bridge.hpp"

namespace ballot::gateway {

/// One write or read on its way through the cluster.
struct bridge_job {
  bool is_write = true;
  paxos::command cmd;
  std::string query;
  std::chrono::steady_clock::time_point deadline;
  bridge::reply_handler done;
  /// Where the next ask goes and when (see routing::leader_follower): its
  /// only member is the bridge's own replica, so every failure, and every
  /// hint not followed (3 in a row at most: hints can be stale while a
  /// leadership changes hands), waits `retry_delay` and starts over there.
  std::optional<routing::leader_follower> route;
  /// How long one ask may wait; 0: `options::hop_timeout`.
  std::chrono::milliseconds hop{0};
  /// Asked of the local replica only: its not_leader goes back to the
  /// caller instead of being forwarded (a backup's answer is the whole state,
  /// which must not cross the peer links ahead of votes and heartbeats).
  bool local_only = false;
  /// Why the last ask did not succeed, for the final `unavailable` message.
  std::string last_error = "no leader elected";
  /// A large write forwarded on the peer links holds this many bytes of the
  /// bridge's forwarding budget (`*budget`) until it finishes.
  std::size_t forwarded = 0;
  std::size_t* budget = nullptr;
};

using bridge_job_ptr = std::shared_ptr<bridge_job>;

/// One status probe of every member.
struct bridge_status_job {
  bridge::status_handler done;
};

using bridge_status_job_ptr = std::shared_ptr<bridge_status_job>;

}  // namespace ballot::gateway

// The gateway hands jobs to the bridge actor in the same process only; they
// carry callbacks, so they can never be serialized (nor need to be).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ballot::gateway::bridge_job_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<ballot::gateway::bridge_job_ptr>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ballot::gateway::bridge_status_job_ptr)
