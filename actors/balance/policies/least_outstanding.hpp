#pragma once

#include <cstddef>

#include "actors/balance/policies/policy.hpp"

namespace ballot::balance {

/// Scans every available backend and takes one with the fewest outstanding
/// requests; among those, the one least loaded relative to its weight
/// (outstanding / weight, so a heavier backend wins a tie of counts). The last
/// tie-break is id order, but starting after the previous pick rather than at
/// the lowest id: at light load almost every backend is idle, and a fixed
/// "lowest id" would send all the light traffic to one backend.
///
/// O(n) per pick; exact, unlike `power_of_two`, which samples.
class least_outstanding_policy final : public policy {
 public:
  /// The seed picks where the rotation of ties starts.
  explicit least_outstanding_policy(std::uint64_t seed) : seed_(seed) {}

  void update(const std::vector<backend>& backends) override;
  std::optional<backend_id> pick(std::uint64_t key, const load_view& load) override;
  policy_kind kind() const override { return policy_kind::least_outstanding; }

 private:
  std::uint64_t seed_;
  std::vector<backend> backends_;  ///< sorted by id
  std::size_t next_ = 0;           ///< where the scan (and so the tie-break) starts
  std::optional<backend_id> last_;
};

}  // namespace ballot::balance
