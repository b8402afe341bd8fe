#pragma once

#include <cstddef>

#include "actors/balance/policies/policy.hpp"

namespace ballot::balance {

/// Takes the backends in turn (by id), ignoring weights (use
/// `weighted_round_robin` for those). Unavailable backends are skipped
/// without giving their turn to their neighbour: the cursor moves past the
/// backend actually picked, so the available ones still get one turn each per
/// cycle.
class round_robin_policy final : public policy {
 public:
  /// The seed picks where the first cycle starts, so that many balancers
  /// started together do not all send their first request to the same backend.
  explicit round_robin_policy(std::uint64_t seed) : seed_(seed) {}

  void update(const std::vector<backend>& backends) override;
  std::optional<backend_id> pick(std::uint64_t key, const load_view& load) override;
  policy_kind kind() const override { return policy_kind::round_robin; }

 private:
  std::uint64_t seed_;
  std::vector<backend_id> ids_;  ///< sorted
  std::size_t next_ = 0;         ///< index where the next search starts
  std::optional<backend_id> last_;
};

}  // namespace ballot::balance
