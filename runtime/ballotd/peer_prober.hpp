#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "caf/fwd.hpp"

namespace ballot::ballotd {

class replica_directory;

/// Where probe outcomes go: `rtt` when the peer's replica answered, nullopt
/// when it is unreachable or did not answer within the probe timeout. Called
/// on the prober's (CAF) thread; must not block.
using peer_report =
  std::function<void(std::uint32_t peer, std::optional<std::chrono::steady_clock::duration> rtt)>;

/// Spawns the actor that asks each peer's replica for its status every
/// `interval` (urgent, so it does not queue behind client writes) and reports
/// whether and how fast it answered. It reaches peers through the directory,
/// whatever carries the messages (the peer transport's member links, which
/// fail a request at once while their member is not connected), so a frozen
/// peer shows as down although its connection stays open.
caf::actor spawn_peer_prober(caf::actor_system& sys, std::shared_ptr<replica_directory> dir,
                             std::vector<std::uint32_t> peers, peer_report report,
                             std::chrono::milliseconds interval = std::chrono::seconds(1));

}  // namespace ballot::ballotd
