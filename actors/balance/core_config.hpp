#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

/// Settings of a balancer core (pure: durations are plain numbers of
/// milliseconds the driver measures on its own clock).
namespace ballot::balance {

using millis = std::chrono::milliseconds;

/// Identifies one request for the lifetime of the core (chosen by the driver).
using request_id = std::uint64_t;

struct core_config {
  // -- back-pressure
  /// Requests one backend may have outstanding at once (0 = no limit). A
  /// backend can override it (`backend_options::max_outstanding`).
  std::uint32_t max_outstanding_per_backend = 64;
  /// Requests that may wait when every backend is at its limit; the next one
  /// is refused at once with `errc::overloaded`. 0 disables queueing.
  std::uint32_t max_queue = 1024;

  // -- time limits
  /// Whole life of a request from submission: queueing, every attempt.
  millis request_timeout{5000};
  /// One attempt on one backend (capped by what is left of request_timeout).
  /// A timed-out attempt counts as an error of its backend.
  millis attempt_timeout{1000};

  // -- retries (idempotent requests only)
  /// Attempts per request, the first included (1 = never retry).
  std::uint32_t max_attempts = 3;
  /// Envoy's retry budget: retries in flight <= max(min_retry_concurrency,
  /// retry_budget_percent% of the requests open in the balancer).
  double retry_budget_percent = 20.0;
  std::uint32_t min_retry_concurrency = 3;

  // -- outlier ejection
  /// Consecutive errors or timeouts that eject a backend (0 = never eject).
  std::uint32_t consecutive_failures = 5;
  /// The n-th ejection of a backend lasts n * base_ejection, at most max_ejection.
  millis base_ejection{1000};
  millis max_ejection{30000};
  /// At most floor(max_ejection_percent% of the live backends) ejected at once.
  double max_ejection_percent = 50.0;

  // -- slow start
  /// A backend added at run time, back from down or back from ejection
  /// ramps its weight linearly from slow_start_min_percent% to 100% over
  /// this window (0 = off). Hashing policies (ring hash, Maglev) never slow
  /// start: changing weights there would move keys around.
  millis slow_start_window{3000};
  double slow_start_min_percent = 10.0;
};

struct backend_options {
  /// For people: error messages and stats name backends by it.
  std::string name;
  /// Relative share of requests (>= 1; 0 is taken as 1).
  std::uint32_t weight = 1;
  /// Overrides core_config::max_outstanding_per_backend (0 = no limit).
  std::optional<std::uint32_t> max_outstanding;
};

}  // namespace ballot::balance
