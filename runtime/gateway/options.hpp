#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actors/paxos/types.hpp"
#include "runtime/gateway/change_feed.hpp"

namespace ballot::gateway {

/// How a node's client gateway listens, forwards and limits.
struct options {
  /// Where clients connect. Port 0 picks a free port (see `server::port`).
  std::string host = "127.0.0.1";
  std::uint16_t port = 7400;

  /// The id of the replica this gateway fronts; writes and reads go to it
  /// first (a follower answers not_leader with a hint, and the gateway
  /// forwards to the hinted leader's replica actor).
  paxos::node_id self = 1;
  /// What the `self` replica applies (its service machine's observer feeds
  /// it): waiting acquires and watches follow it. `start` makes an empty one
  /// if unset; then waits only end by their timers and watches poll.
  std::shared_ptr<change_feed> feed;
  /// How long a watch waits for the feed before it asks the cluster anyway.
  std::chrono::milliseconds watch_poll{1000};
  /// Every member, `self` included; `status` probes each one. Empty: {self}.
  std::vector<paxos::node_id> members;
  /// Client endpoints ("host:port") of members, as far as this node knows
  /// them: they fill in leader hints and the status listing.
  std::map<paxos::node_id, std::string> client_endpoints;
  /// Forward to the leader (true) or answer notLeader with a hint (false).
  bool forward = true;

  /// Longest a client call waits for the cluster, retries and forwarding
  /// included; then it gets `unavailable`.
  std::chrono::milliseconds request_timeout{2000};
  /// Longest one ask of one replica actor waits. CAF never fails a request to
  /// a dead or frozen peer by itself: this is what moves on from one.
  std::chrono::milliseconds hop_timeout{1000};
  /// Pause between asks while no leader is known (an election is running).
  std::chrono::milliseconds retry_delay{20};
  /// How long `status` waits for each member's answer before calling it down.
  std::chrono::milliseconds status_timeout{300};
  /// On stop: how long in-flight calls may still finish.
  std::chrono::milliseconds drain_timeout{2000};

  /// A connection that sends a bigger message is closed (Cap'n Proto's
  /// traversal limit, checked before the message is read into memory).
  std::size_t max_message_bytes = 16u << 20;
  /// Deepest pointer nesting accepted in a message.
  int max_nesting_depth = 32;
  /// Larger keys (and list prefixes) or values are answered badRequest.
  std::size_t max_key_bytes = 4096;
  std::size_t max_value_bytes = 1u << 20;
  /// Most entries one list returns (a larger or zero limit is capped to it).
  std::uint32_t max_list_entries = 10000;
  /// A list page ends (truncated) before its keys and values pass this many
  /// bytes (at least one entry): a listing with values stays a bounded message.
  std::size_t max_list_bytes = 4u << 20;
  /// More connections than this are closed at once.
  std::size_t max_connections = 1024;
  /// Bytes of calls one connection may have in flight before the gateway stops
  /// reading from it (back-pressure instead of unbounded memory).
  std::size_t max_in_flight_bytes_per_connection = 64u << 20;
};

}  // namespace ballot::gateway
