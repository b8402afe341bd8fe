#pragma once

#include <cstdint>
#include <variant>
#include <vector>

#include "actors/balance/core_config.hpp"
#include "actors/balance/errors.hpp"
#include "actors/balance/policies/policy.hpp"

/// What a balancer core asks its driver to do (`balancer_core::take_actions`).
namespace ballot::balance {

/// Send request `request` to `backend`. If no answer arrived by `timeout_at`,
/// the driver reports `balancer_core::timed_out(request, attempt, now)`.
struct dispatch {
  request_id request = 0;
  backend_id backend = 0;
  /// 1 for the first attempt, 2 for the first retry, ...
  std::uint32_t attempt = 1;
  millis timeout_at{0};
};

/// Answer the caller of `request`: with the reply of `backend` if `ok`, else
/// with `error`. The core forgets the request.
struct complete {
  request_id request = 0;
  bool ok = true;
  failure error;  ///< meaningful only when !ok
  /// The backend that served it (for a success) or the last one tried (0 if none).
  backend_id backend = 0;
  std::uint32_t attempts = 0;
};

/// The request waits in the queue: report `balancer_core::deadline_expired`
/// at `at` unless it completed before.
struct arm_deadline {
  request_id request = 0;
  millis at{0};
};

/// Call `balancer_core::tick` at `at` (an ejection ends or a slow-start ramp
/// moves on). A later wake may be asked for before an earlier one fired;
/// extra ticks are harmless.
struct wake {
  millis at{0};
};

using action = std::variant<dispatch, complete, arm_deadline, wake>;

}  // namespace ballot::balance
