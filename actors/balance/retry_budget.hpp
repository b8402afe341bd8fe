#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

/// Envoy's retry budget: retries are a share of the traffic, so a sick
/// cluster is not buried under its own retries.
namespace ballot::balance {

/// Retries that may be in flight at once while `active` requests are open:
/// max(min_concurrency, floor(percent% of active)).
inline std::size_t retry_limit(std::size_t active, double percent, std::uint32_t min_concurrency) {
  auto share =
    percent <= 0
      ? std::size_t{0}
      : static_cast<std::size_t>(std::floor(static_cast<double>(active) * percent / 100.0 + 1e-9));
  return std::max<std::size_t>(min_concurrency, share);
}

}  // namespace ballot::balance
