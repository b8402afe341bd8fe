#pragma once

#include <cstdint>
#include <functional>
#include <map>

#include "caf/fwd.hpp"

#include "actors/replica/peer_map.hpp"
#include "runtime/ballotd/options.hpp"

namespace ballot::ballotd {

/// Spawns the actor that keeps this node connected to its peers: it asks the
/// middleman for each peer's published replica, monitors the proxy, and on
/// failure or disconnect retries with exponential backoff (100 ms doubling to
/// 2 s). Every change is pushed to `local` as a fresh peer map, so the
/// replica only ever talks to peers that are reachable now. Failure detection
/// proper is the protocol's (heartbeats and election timeouts): a frozen
/// peer keeps a live connection, but stops answering.
/// `on_change` also gets every new map (from the connector's thread).
caf::actor spawn_peer_connector(caf::actor_system& sys, const caf::actor& local,
                                std::uint32_t self_id,
                                const std::map<std::uint32_t, endpoint>& peers,
                                std::function<void(const actors::peer_map&)> on_change);

}  // namespace ballot::ballotd
