#include "actors/balance/policies/weighted_sampler.hpp"

#include <algorithm>

namespace ballot::balance {

void weighted_sampler::assign(const std::vector<backend>& backends) {
  backends_ = backends;
  cumulative_.clear();
  total_weight_ = 0;
  bool equal = true;
  for (const auto& b : backends_) {
    total_weight_ += b.weight;
    equal = equal && b.weight == backends_.front().weight;
  }
  if (equal)
    return;
  cumulative_.reserve(backends_.size());
  std::uint64_t sum = 0;
  for (const auto& b : backends_)
    cumulative_.push_back(sum += b.weight);
}

std::size_t weighted_sampler::draw_any(random_source& rng) const {
  if (cumulative_.empty())
    return static_cast<std::size_t>(rng.below(backends_.size()));
  auto r = rng.below(total_weight_);
  // The first prefix sum above r: backend i owns [cumulative_[i-1], cumulative_[i]).
  auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), r);
  return static_cast<std::size_t>(it - cumulative_.begin());
}

std::optional<std::size_t> weighted_sampler::draw(random_source& rng, const load_view& load,
                                                  std::size_t exclude) const {
  if (backends_.empty())
    return std::nullopt;
  for (int attempt = 0; attempt < max_rejections; ++attempt) {
    auto i = draw_any(rng);
    if (i != exclude && load.available(backends_[i].id))
      return i;
  }
  // Many are unavailable: draw exactly among the eligible ones.
  std::uint64_t eligible = 0;
  for (std::size_t i = 0; i < backends_.size(); ++i)
    if (i != exclude && load.available(backends_[i].id))
      eligible += backends_[i].weight;
  if (eligible == 0)
    return std::nullopt;
  auto r = rng.below(eligible);
  for (std::size_t i = 0; i < backends_.size(); ++i) {
    if (i == exclude || !load.available(backends_[i].id))
      continue;
    if (r < backends_[i].weight)
      return i;
    r -= backends_[i].weight;
  }
  return std::nullopt;  // unreachable unless `load` changed its mind mid-pick
}

}  // namespace ballot::balance
