#include "actors/balance/policies/weighted_round_robin.hpp"

#include <algorithm>

#include "actors/balance/policies/backend_set.hpp"

namespace ballot::balance {

void weighted_round_robin_policy::update(const std::vector<backend>& backends) {
  // Backends that stay keep their current weight, so a weight change or a
  // join elsewhere does not restart everybody's schedule; new backends start
  // at 0 as in NGINX.
  std::vector<entry> next;
  next.reserve(backends.size());
  for (const auto& b : normalize(backends)) {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), b.id,
                               [](const entry& e, backend_id id) { return e.id < id; });
    std::int64_t current = it != entries_.end() && it->id == b.id ? it->current : 0;
    next.push_back(entry{b.id, static_cast<std::int64_t>(b.weight), current});
  }
  entries_ = std::move(next);
}

std::optional<backend_id> weighted_round_robin_policy::pick(std::uint64_t, const load_view& load) {
  std::int64_t total = 0;
  entry* best = nullptr;
  for (auto& e : entries_) {
    if (!load.available(e.id))
      continue;
    e.current += e.weight;
    total += e.weight;
    if (best == nullptr || e.current > best->current)
      best = &e;
  }
  if (best == nullptr)
    return std::nullopt;
  best->current -= total;
  return best->id;
}

std::int64_t weighted_round_robin_policy::current_weight(backend_id id) const {
  for (const auto& e : entries_)
    if (e.id == id)
      return e.current;
  return 0;
}

}  // namespace ballot::balance
