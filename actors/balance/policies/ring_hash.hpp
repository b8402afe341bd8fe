#pragma once

#include <cstddef>
#include <cstdint>

#include "actors/balance/policies/policy.hpp"

namespace ballot::balance {

/// Consistent hashing on a ring with virtual nodes and bounded load
/// (Mirrokni, Thorup, Zadimoghaddam, "Consistent Hashing with Bounded Loads",
/// SODA 2018).
///
/// Every backend owns `vnodes * weight` points on a 64-bit ring; a key goes to
/// the owner of the first point at or after its hash (clockwise). Adding or
/// removing one backend of N moves only the keys of the arcs it gains or
/// loses, about 1/N of them; many points per backend keep the arcs even.
///
/// Bounded load: a request may go to a backend only while that backend stays
/// within its capacity, ceil((1 + epsilon) * (m + 1) * w / W), where m is the
/// outstanding requests of the available backends, W their total weight and
/// w the backend's (equal weights: (1 + epsilon) times the average including
/// this request, as in the paper). A full or unavailable backend is passed
/// over and the walk goes on clockwise to the next backend with room. The
/// capacities add up to more than m + 1, so some available backend always has
/// room and the walk ends within one turn of the ring.
///
/// The seed plays no part: placement depends on backend ids only, so every
/// balancer (in any process) maps a key to the same backend.
class ring_hash_policy final : public policy {
 public:
  /// Rings above this many points are thinned evenly (each backend keeps at
  /// least one point), bounding memory and rebuild time for large weights.
  static constexpr std::size_t max_points = std::size_t{1} << 20;

  ring_hash_policy(std::uint32_t vnodes, double epsilon);

  void update(const std::vector<backend>& backends) override;
  std::optional<backend_id> pick(std::uint64_t key, const load_view& load) override;
  policy_kind kind() const override { return policy_kind::ring_hash; }

  /// The backend owning `key` when nothing is full or unavailable; nullopt if
  /// there are no backends. For tests and reports (keys moved on a change).
  std::optional<backend_id> home(std::uint64_t key) const;

  /// Points on the ring.
  std::size_t size() const { return points_.size(); }

  /// ceil((1 + epsilon) * (total_outstanding + 1) * weight / total_weight).
  static std::uint64_t capacity(double epsilon, std::uint64_t total_outstanding,
                                std::uint64_t weight, std::uint64_t total_weight);

 private:
  std::size_t first_point(std::uint64_t key) const;

  std::uint32_t vnodes_;
  double epsilon_;
  std::vector<backend> backends_;      ///< sorted by id
  std::vector<std::uint64_t> points_;  ///< sorted ring positions
  std::vector<std::uint32_t> owners_;  ///< owners_[i]: index in backends_ of points_[i]
  /// passed_[b] == pick_count_: backend b was found full or unavailable in the
  /// current pick, so its other points are skipped without asking `load`.
  std::vector<std::uint64_t> passed_;
  std::uint64_t pick_count_ = 0;
};

}  // namespace ballot::balance
