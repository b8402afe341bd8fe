#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "actors/balance/core_config.hpp"

/// Outlier ejection arithmetic (Envoy's consecutive-errors detector).
namespace ballot::balance {

/// How long the `nth` ejection (1-based) of one backend lasts: grows
/// linearly with each ejection, capped at `max`.
inline millis ejection_duration(millis base, millis max, std::uint32_t nth) {
  auto grown = base * static_cast<millis::rep>(std::max<std::uint32_t>(nth, 1));
  return std::min(grown, max);
}

/// How many of `live` backends may be ejected at once:
/// floor(percent% of live). With the default 50%, a lone backend is never
/// ejected: ejecting it would only turn slow answers into no answers.
inline std::size_t max_ejected(std::size_t live, double percent) {
  if (percent <= 0 || live == 0)
    return 0;
  auto n = static_cast<std::size_t>(std::floor(static_cast<double>(live) * percent / 100.0 + 1e-9));
  return std::min(n, live);
}

}  // namespace ballot::balance
