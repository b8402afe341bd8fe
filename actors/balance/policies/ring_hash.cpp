#include "actors/balance/policies/ring_hash.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "actors/balance/policies/backend_set.hpp"
#include "actors/balance/policies/mix.hpp"

namespace ballot::balance {

ring_hash_policy::ring_hash_policy(std::uint32_t vnodes, double epsilon)
    : vnodes_(std::max<std::uint32_t>(vnodes, 1)),
      // Negative (or NaN) would make the capacities too small to hold the
      // load; 0 is the tightest sensible bound.
      epsilon_(epsilon > 0 ? epsilon : 0) {}

std::uint64_t ring_hash_policy::capacity(double epsilon, std::uint64_t total_outstanding,
                                         std::uint64_t weight, std::uint64_t total_weight) {
  double exact = (1.0 + epsilon) * static_cast<double>(total_outstanding + 1) *
                 static_cast<double>(weight) / static_cast<double>(total_weight);
  if (!(exact < 1e18))
    return std::numeric_limits<std::uint64_t>::max();
  // Rounding may land a hair above an exact integer; never round that up to
  // the next one (the bound is a promise). The exact value is positive, so
  // its ceiling is at least 1.
  auto rounded = std::ceil(exact - 1e-9 * std::max(1.0, exact));
  return static_cast<std::uint64_t>(std::max(rounded, 1.0));
}

void ring_hash_policy::update(const std::vector<backend>& backends) {
  backends_ = normalize(backends);
  passed_.assign(backends_.size(), 0);
  pick_count_ = 0;
  std::uint64_t wanted = 0;
  for (const auto& b : backends_)
    wanted += std::uint64_t{vnodes_} * b.weight;
  double scale = wanted > max_points ? static_cast<double>(max_points) / wanted : 1.0;

  std::vector<std::pair<std::uint64_t, std::uint32_t>> ring;
  ring.reserve(std::min<std::uint64_t>(wanted, max_points + backends_.size()));
  for (std::uint32_t i = 0; i < backends_.size(); ++i) {
    auto want = static_cast<double>(std::uint64_t{vnodes_} * backends_[i].weight) * scale;
    auto count = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(want));
    // A point depends on the backend id and its replica number only, so a
    // backend keeps its points whoever else joins or leaves.
    for (std::uint64_t r = 0; r < count; ++r)
      ring.emplace_back(mix64(backends_[i].id, r), i);
  }
  // Equal positions (vanishingly rare) are ordered by owner, which is ordered
  // by id: still independent of the order backends were given in.
  std::sort(ring.begin(), ring.end());
  points_.clear();
  owners_.clear();
  points_.reserve(ring.size());
  owners_.reserve(ring.size());
  for (const auto& [point, owner] : ring) {
    points_.push_back(point);
    owners_.push_back(owner);
  }
}

std::size_t ring_hash_policy::first_point(std::uint64_t key) const {
  auto it = std::lower_bound(points_.begin(), points_.end(), key);
  return it == points_.end() ? 0 : static_cast<std::size_t>(it - points_.begin());
}

std::optional<backend_id> ring_hash_policy::home(std::uint64_t key) const {
  if (points_.empty())
    return std::nullopt;
  return backends_[owners_[first_point(key)]].id;
}

std::optional<backend_id> ring_hash_policy::pick(std::uint64_t key, const load_view& load) {
  if (points_.empty())
    return std::nullopt;
  std::uint64_t total_outstanding = 0;
  std::uint64_t total_weight = 0;
  for (const auto& b : backends_) {
    if (load.available(b.id)) {
      total_outstanding += load.outstanding(b.id);
      total_weight += b.weight;
    }
  }
  if (total_weight == 0)
    return std::nullopt;
  ++pick_count_;
  auto n = points_.size();
  auto i = first_point(key);
  for (std::size_t step = 0; step < n; ++step, i = i + 1 == n ? 0 : i + 1) {
    auto owner = owners_[i];
    if (passed_[owner] == pick_count_)
      continue;
    const auto& b = backends_[owner];
    if (load.available(b.id) &&
        load.outstanding(b.id) < capacity(epsilon_, total_outstanding, b.weight, total_weight))
      return b.id;
    passed_[owner] = pick_count_;
  }
  return std::nullopt;  // unreachable: some available backend always has room
}

}  // namespace ballot::balance
