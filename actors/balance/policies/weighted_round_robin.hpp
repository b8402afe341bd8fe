#pragma once

#include <cstdint>

#include "actors/balance/policies/policy.hpp"

namespace ballot::balance {

/// NGINX's smooth weighted round robin: each pick adds every available
/// backend's weight to its current weight, takes the backend with the highest
/// current weight (first by id on ties) and lowers that one by the total.
/// Over any sum-of-weights picks each backend is taken exactly `weight` times,
/// and its turns are spread out rather than bunched: {5, 1, 1} gives
/// a a b a c a a, not a a a a a b c.
///
/// Unavailable backends sit the round out (their weight is neither added nor
/// counted in the total), so the others share their turns smoothly.
class weighted_round_robin_policy final : public policy {
 public:
  void update(const std::vector<backend>& backends) override;
  std::optional<backend_id> pick(std::uint64_t key, const load_view& load) override;
  policy_kind kind() const override { return policy_kind::weighted_round_robin; }

  /// The current weight of `id` (0 if unknown); for tests.
  std::int64_t current_weight(backend_id id) const;

 private:
  struct entry {
    backend_id id;
    std::int64_t weight;
    std::int64_t current;
  };
  std::vector<entry> entries_;  ///< sorted by id
};

}  // namespace ballot::balance
