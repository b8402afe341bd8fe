#include "actors/balance/policies/least_outstanding.hpp"

#include <algorithm>

#include "actors/balance/policies/backend_set.hpp"

namespace ballot::balance {

void least_outstanding_policy::update(const std::vector<backend>& backends) {
  backends_ = normalize(backends);
  if (backends_.empty()) {
    next_ = 0;
    return;
  }
  if (last_) {
    auto it = std::upper_bound(backends_.begin(), backends_.end(), *last_,
                               [](backend_id id, const backend& b) { return id < b.id; });
    next_ = it == backends_.end() ? 0 : static_cast<std::size_t>(it - backends_.begin());
  } else {
    next_ = static_cast<std::size_t>(seed_ % backends_.size());
  }
}

std::optional<backend_id> least_outstanding_policy::pick(std::uint64_t, const load_view& load) {
  auto n = backends_.size();
  std::size_t best = n;
  std::uint64_t best_load = 0;
  std::uint64_t best_weight = 1;
  auto i = next_;
  for (std::size_t step = 0; step < n; ++step, i = i + 1 == n ? 0 : i + 1) {
    const auto& b = backends_[i];
    if (!load.available(b.id))
      continue;
    std::uint64_t o = load.outstanding(b.id);
    // Strictly better only: the first in rotation order keeps a tie.
    // o / w < best_load / best_weight, compared without division.
    bool better =
      best == n || o < best_load || (o == best_load && o * best_weight < best_load * b.weight);
    if (better) {
      best = i;
      best_load = o;
      best_weight = b.weight;
    }
  }
  if (best == n)
    return std::nullopt;
  next_ = best + 1 == n ? 0 : best + 1;
  last_ = backends_[best].id;
  return backends_[best].id;
}

}  // namespace ballot::balance
