#pragma once

#include <atomic>
#include <memory>

#include "caf/fwd.hpp"

#include "actors/replica/peer_outlet.hpp"

/// The replica's way out to the peer port (actors/replica/peer_outlet.hpp):
/// frames a consensus message on the replica's own thread and hands it to
/// the transport, which writes a small one at once (direct writes) or
/// queues it for its thread. What the member's link actor did for these
/// messages, minus the CAF job. An install_snapshot still goes to the link,
/// which sends a snapshot in chunks.
namespace ballot::peer {

class transport;

class transport_outlet final : public actors::peer_outlet {
 public:
  /// `sys` serializes the messages (CAF's binary serializer).
  explicit transport_outlet(caf::actor_system& sys) : sys_(sys) {}

  /// From now on messages go to `net`; until then `send` takes none. Once.
  void attach(std::shared_ptr<transport> net);

  bool send(paxos::node_id to, paxos::node_id from, const paxos::message& msg) override;

 private:
  caf::actor_system& sys_;
  std::shared_ptr<transport> net_;
  std::atomic<bool> attached_{false};
};

}  // namespace ballot::peer
