#include "actors/balance/policies/power_of_two.hpp"

#include "actors/balance/policies/backend_set.hpp"

namespace ballot::balance {

void power_of_two_policy::update(const std::vector<backend>& backends) {
  sampler_.assign(normalize(backends));
}

std::optional<power_of_two_policy::candidates> power_of_two_policy::draw(const load_view& load) {
  auto first = sampler_.draw(rng_, load);
  if (!first)
    return std::nullopt;
  const auto& all = sampler_.backends();
  candidates result{all[*first], std::nullopt};
  // Distinct: comparing a backend with itself would waste the second choice.
  if (auto second = sampler_.draw(rng_, load, *first))
    result.second = all[*second];
  return result;
}

const backend& power_of_two_policy::better(const backend& a, const backend& b,
                                           const load_view& load) {
  // b / wb < a / wa  <=>  b * wa < a * wb (64-bit: no overflow for 32-bit inputs).
  std::uint64_t load_a = load.outstanding(a.id);
  std::uint64_t load_b = load.outstanding(b.id);
  return load_b * a.weight < load_a * b.weight ? b : a;
}

std::optional<backend_id> power_of_two_policy::pick(std::uint64_t, const load_view& load) {
  auto c = draw(load);
  if (!c)
    return std::nullopt;
  if (!c->second)
    return c->first.id;
  return better(c->first, *c->second, load).id;
}

}  // namespace ballot::balance
