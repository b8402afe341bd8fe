#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "actors/balance/policies/policy.hpp"
#include "actors/balance/policies/random_source.hpp"

namespace ballot::balance {

/// Draws a backend with probability proportional to its weight, among the
/// available ones only (shared by `random` and `power_of_two`).
///
/// Why rejection first: a draw over all backends is one random number and a
/// short binary search, and the balancer usually has nearly every backend
/// available, so a few retries almost always succeed. Only after
/// `max_rejections` misses does it pay an exact O(n) pass over the available
/// backends. Both paths draw from the same conditional distribution (weight
/// among the eligible), so the mix of the two is exact too. No allocation.
class weighted_sampler {
 public:
  static constexpr std::size_t none = static_cast<std::size_t>(-1);
  static constexpr int max_rejections = 8;

  /// `backends` in canonical form (see `normalize`).
  void assign(const std::vector<backend>& backends);

  const std::vector<backend>& backends() const { return backends_; }

  /// Index of a drawn available backend other than `exclude`; nullopt if
  /// there is none.
  std::optional<std::size_t> draw(random_source& rng, const load_view& load,
                                  std::size_t exclude = none) const;

 private:
  std::size_t draw_any(random_source& rng) const;

  std::vector<backend> backends_;
  /// cumulative_[i] = weight of backends 0..i; empty when all weights are equal
  /// (then a draw is a plain uniform index).
  std::vector<std::uint64_t> cumulative_;
  std::uint64_t total_weight_ = 0;
};

}  // namespace ballot::balance
