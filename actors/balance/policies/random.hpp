#pragma once

#include "actors/balance/policies/policy.hpp"
#include "actors/balance/policies/random_source.hpp"
#include "actors/balance/policies/weighted_sampler.hpp"

namespace ballot::balance {

/// Picks an available backend at random, in proportion to its weight (equal
/// weights: uniformly). Stateless apart from the generator, so it needs no
/// coordination between balancers and never moves in lock-step with them.
class random_policy final : public policy {
 public:
  explicit random_policy(std::uint64_t seed) : rng_(seed) {}

  void update(const std::vector<backend>& backends) override;
  std::optional<backend_id> pick(std::uint64_t key, const load_view& load) override;
  policy_kind kind() const override { return policy_kind::random; }

 private:
  random_source rng_;
  weighted_sampler sampler_;
};

}  // namespace ballot::balance
