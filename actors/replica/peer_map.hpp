#pragma once

#include <map>

#include "caf/fwd.hpp"

#include "actors/paxos/types.hpp"

namespace ballot::actors {

/// The members of a group, by Paxos node id. Every replica actor gets the
/// whole map once all of them exist (see `introduce`); an entry for the
/// replica itself is ignored.
using peer_map = std::map<paxos::node_id, caf::actor>;

}  // namespace ballot::actors
