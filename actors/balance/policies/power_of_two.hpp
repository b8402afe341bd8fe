#pragma once

#include <optional>
#include <utility>

#include "actors/balance/policies/policy.hpp"
#include "actors/balance/policies/random_source.hpp"
#include "actors/balance/policies/weighted_sampler.hpp"

namespace ballot::balance {

/// Weighted power of two choices: draws two distinct available backends, each
/// with probability by weight, and takes the one with fewer outstanding
/// requests relative to its weight (the first drawn on a tie). Never the worse
/// of the two. Nearly as good as scanning for the least loaded, in O(1), and,
/// unlike an exact scan, many balancers sharing the same backends do not all
/// rush to the same momentarily idle one.
class power_of_two_policy final : public policy {
 public:
  explicit power_of_two_policy(std::uint64_t seed) : rng_(seed) {}

  void update(const std::vector<backend>& backends) override;
  std::optional<backend_id> pick(std::uint64_t key, const load_view& load) override;
  policy_kind kind() const override { return policy_kind::power_of_two; }

  struct candidates {
    backend first;
    std::optional<backend> second;  ///< none when only one backend is available
  };

  /// The two candidates `pick` would compare now; advances the generator
  /// exactly as `pick` does. A test hook: a twin with the same seed shows
  /// which two a pick chose between.
  std::optional<candidates> draw(const load_view& load);

  /// The better of `a` and `b`: lower outstanding / weight, `a` on a tie.
  static const backend& better(const backend& a, const backend& b, const load_view& load);

 private:
  random_source rng_;
  weighted_sampler sampler_;
};

}  // namespace ballot::balance
