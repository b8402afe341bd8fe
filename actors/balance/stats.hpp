#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "actors/balance/policies/policy.hpp"

/// A snapshot of a balancer for people, tests and benchmarks.
namespace ballot::balance {

struct backend_stats {
  backend_id id = 0;
  std::string name;
  std::uint32_t weight = 1;
  /// The weight the policy sees now (scaled for slow start; see balancer_core).
  std::uint32_t effective_weight = 1;
  std::uint32_t max_outstanding = 0;  ///< 0 = no limit
  std::uint32_t outstanding = 0;
  bool up = true;           ///< false: down (its worker died), waiting to come back
  bool ejected = false;     ///< ejected as an outlier until ejected_until_ms
  bool draining = false;    ///< removed, finishing its outstanding requests
  bool slow_start = false;  ///< ramping its weight up
  std::int64_t ejected_until_ms = -1;
  std::uint32_t ejections = 0;
  std::uint32_t consecutive_failures = 0;
  std::uint64_t served = 0;    ///< attempts answered with a reply
  std::uint64_t failures = 0;  ///< attempts that failed or timed out
};

struct core_stats {
  std::vector<backend_stats> backends;  ///< by id
  std::uint64_t queued = 0;
  std::uint64_t in_flight = 0;  ///< requests with an attempt outstanding
  std::uint64_t retries_in_flight = 0;
  // Counters since the start.
  std::uint64_t submitted = 0;
  std::uint64_t succeeded = 0;
  std::uint64_t retries = 0;  ///< attempts after the first
  std::uint64_t overloaded = 0;
  std::uint64_t no_backends = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t worker_errors = 0;
  std::uint64_t worker_down = 0;
  std::uint64_t budget_exhausted = 0;
};

}  // namespace ballot::balance
