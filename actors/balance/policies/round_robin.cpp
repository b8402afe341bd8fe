#include "actors/balance/policies/round_robin.hpp"

#include <algorithm>

#include "actors/balance/policies/backend_set.hpp"

namespace ballot::balance {

void round_robin_policy::update(const std::vector<backend>& backends) {
  ids_.clear();
  for (const auto& b : normalize(backends))
    ids_.push_back(b.id);
  if (ids_.empty()) {
    next_ = 0;
    return;
  }
  if (last_) {
    // Carry on after the last backend picked, even if it just left: the
    // cycle continues where it was instead of restarting at the first id.
    auto it = std::upper_bound(ids_.begin(), ids_.end(), *last_);
    next_ = it == ids_.end() ? 0 : static_cast<std::size_t>(it - ids_.begin());
  } else {
    next_ = static_cast<std::size_t>(seed_ % ids_.size());
  }
}

std::optional<backend_id> round_robin_policy::pick(std::uint64_t, const load_view& load) {
  auto n = ids_.size();
  auto i = next_;
  for (std::size_t step = 0; step < n; ++step) {
    if (load.available(ids_[i])) {
      next_ = i + 1 == n ? 0 : i + 1;
      last_ = ids_[i];
      return ids_[i];
    }
    i = i + 1 == n ? 0 : i + 1;
  }
  return std::nullopt;
}

}  // namespace ballot::balance
