#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "actors/balance/core_config.hpp"

/// Slow start: a backend that joins (or returns) takes a growing share.
namespace ballot::balance {

/// Policy weights are the configured weights times this factor, so that a
/// weight of 1 can still start at 10% (1 of 10). Scaling every weight by the
/// same factor changes no policy's proportions.
constexpr std::uint32_t slow_start_scale = 10;

/// The weight a backend of `full` (already scaled) weight gets `elapsed` into
/// a slow start of `window`: linear from `min_percent`% to 100%, at least 1.
inline std::uint32_t slow_start_weight(std::uint32_t full, millis elapsed, millis window,
                                       double min_percent) {
  if (window.count() <= 0 || elapsed >= window)
    return full;
  double start = std::clamp(min_percent, 0.0, 100.0) / 100.0;
  double progress = elapsed.count() <= 0
                      ? 0.0
                      : static_cast<double>(elapsed.count()) / static_cast<double>(window.count());
  double share = start + (1.0 - start) * progress;
  auto w = static_cast<std::uint32_t>(std::lround(static_cast<double>(full) * share));
  return std::clamp<std::uint32_t>(w, 1, full);
}

/// When to look again at a ramp that began at `since`: in steps of a
/// twentieth of the window (at least 1 ms), and exactly at its end.
inline millis slow_start_next_step(millis since, millis window, millis now) {
  auto step = std::max(millis{1}, window / 20);
  return std::min(since + window, now + step);
}

}  // namespace ballot::balance
