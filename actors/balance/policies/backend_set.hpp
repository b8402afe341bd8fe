#pragma once

#include <vector>

#include "actors/balance/policies/policy.hpp"

namespace ballot::balance {

/// The canonical form of a backend set that every policy works on: sorted by
/// id, one entry per id (the first one given wins), weights at least 1.
/// Sorting makes a policy's behaviour independent of the order the balancer
/// happens to list its backends in, so two balancers (or one after a restart)
/// that see the same set behave the same.
std::vector<backend> normalize(const std::vector<backend>& backends);

}  // namespace ballot::balance
