#include "actors/balance/policies/random.hpp"

#include "actors/balance/policies/backend_set.hpp"

namespace ballot::balance {

void random_policy::update(const std::vector<backend>& backends) {
  // The generator carries on: a membership change is no reason to replay
  // the same random sequence.
  sampler_.assign(normalize(backends));
}

std::optional<backend_id> random_policy::pick(std::uint64_t, const load_view& load) {
  auto i = sampler_.draw(rng_, load);
  if (!i)
    return std::nullopt;
  return sampler_.backends()[*i].id;
}

}  // namespace ballot::balance
