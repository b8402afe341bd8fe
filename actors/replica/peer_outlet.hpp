#pragma once

#include "actors/paxos/messages.hpp"

/// A way out for the consensus messages a replica sends to other members,
/// past their link actors: a process whose peer port can frame and send a
/// message from any thread (runtime/peer/transport_outlet.hpp) hands the
/// replica one. Each message to a link actor is a CAF job, and under the
/// hand-off scheduler phase 2a to two members is two jobs, one of which wakes
/// another worker, while the replica is about to block in its fdatasync.
namespace ballot::actors {

class peer_outlet {
 public:
  virtual ~peer_outlet() = default;

  /// Sends `msg` from `from` to member `to` now, from the calling thread, in
  /// the order of the calls (it may be dropped, as the network drops it);
  /// false when it does not take this message, which then goes through the
  /// member's link actor (an install_snapshot, or before the port is up).
  virtual bool send(paxos::node_id to, paxos::node_id from, const paxos::message& msg) = 0;
};

}  // namespace ballot::actors
