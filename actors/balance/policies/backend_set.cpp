#include "actors/balance/policies/backend_set.hpp"

#include <algorithm>

namespace ballot::balance {

std::vector<backend> normalize(const std::vector<backend>& backends) {
  std::vector<backend> out = backends;
  // Stable, so that among duplicate ids the first given is the one kept.
  std::stable_sort(out.begin(), out.end(),
                   [](const backend& a, const backend& b) { return a.id < b.id; });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const backend& a, const backend& b) { return a.id == b.id; }),
            out.end());
  for (auto& b : out)
    if (b.weight == 0)
      b.weight = 1;
  return out;
}

}  // namespace ballot::balance
