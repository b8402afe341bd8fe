#pragma once

#include <string>

#include "actors/paxos/messages.hpp"

namespace ballot::sim {

/// One-line text of a message, for traces of replayed seeds.
std::string describe(const paxos::message& msg);

}  // namespace ballot::sim
