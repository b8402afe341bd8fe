// Weighted power of two choices: two distinct candidates drawn by weight,
// never the worse of the two.
#include <gtest/gtest.h>

#include <map>

#include "actors/balance/policies/power_of_two.hpp"
#include "tests/balance/policies/fake_load.hpp"

namespace {

using namespace ballot::balance;
using namespace ballot::balance::test;

/// outstanding / weight of `b`, exactly enough for comparisons here.
double relative_load(const backend& b, const load_view& load) {
  return static_cast<double>(load.outstanding(b.id)) / b.weight;
}

TEST(PowerOfTwoPolicy, NeverPicksTheWorseOfItsTwo) {
  // A twin with the same seed draws the same candidates as the policy that
  // picks: the pick must be one of them, and not the (strictly) worse one.
  test_rng rng{31};
  fake_load load;
  for (int round = 0; round < 100; ++round) {
    auto n = 2 + rng.below(10);
    std::vector<backend> set;
    for (backend_id id = 1; id <= n; ++id)
      set.push_back({id, static_cast<std::uint32_t>(1 + rng.below(4))});
    power_of_two_policy picker{static_cast<std::uint64_t>(round)};
    power_of_two_policy twin{static_cast<std::uint64_t>(round)};
    picker.update(set);
    twin.update(set);
    load.clear();
    for (const auto& b : set) {
      load.set_outstanding(b.id, static_cast<std::uint32_t>(rng.below(10)));
      load.set_available(b.id, rng.below(5) != 0);
    }
    for (int i = 0; i < 100; ++i) {
      auto c = twin.draw(load);
      auto picked = picker.pick(0, load);
      ASSERT_EQ(picked.has_value(), c.has_value());
      if (!c)
        break;
      ASSERT_TRUE(load.available(c->first.id));
      if (!c->second) {
        ASSERT_EQ(*picked, c->first.id);
        continue;
      }
      ASSERT_NE(c->first.id, c->second->id) << "candidates must be distinct";
      ASSERT_TRUE(load.available(c->second->id));
      ASSERT_TRUE(*picked == c->first.id || *picked == c->second->id);
      const auto& chosen = *picked == c->first.id ? c->first : *c->second;
      const auto& other = *picked == c->first.id ? *c->second : c->first;
      ASSERT_LE(relative_load(chosen, load), relative_load(other, load))
        << "round " << round << " pick " << i;
      load.add(*picked, 1);
    }
  }
}

TEST(PowerOfTwoPolicy, WithTwoBackendsAlwaysTheLessLoaded) {
  // Two distinct candidates out of two: both are compared every time, so
  // every pick must be the less loaded one (relative to weight).
  power_of_two_policy p{5};
  p.update({{1, 1}, {2, 3}});
  fake_load load;
  test_rng rng{6};
  for (int i = 0; i < 2000; ++i) {
    std::uint32_t a = static_cast<std::uint32_t>(rng.below(20));
    std::uint32_t b = static_cast<std::uint32_t>(rng.below(20));
    load.set_outstanding(1, a);
    load.set_outstanding(2, b);
    auto picked = *p.pick(0, load);
    if (a * 3 < b) {
      ASSERT_EQ(picked, backend_id{1}) << a << " vs " << b << "/3";
    } else if (b < a * 3) {
      ASSERT_EQ(picked, backend_id{2}) << a << " vs " << b << "/3";
    }
  }
}

TEST(PowerOfTwoPolicy, NeverTheMostLoadedOfSeveral) {
  // The unique most loaded backend can only be the worse of any pair.
  power_of_two_policy p{8};
  p.update(backends(6));
  fake_load load;
  for (backend_id id = 1; id <= 6; ++id)
    load.set_outstanding(id, static_cast<std::uint32_t>(id));
  for (int i = 0; i < 5000; ++i)
    ASSERT_NE(p.pick(0, load), backend_id{6});
}

TEST(PowerOfTwoPolicy, CandidatesDrawnByWeight) {
  // Idle backends: a tie keeps the first candidate, so picks follow the
  // weights of the first draw.
  power_of_two_policy p{9};
  p.update(backends({1, 2, 3, 4}));
  fake_load load;
  std::map<backend_id, int> count;
  for (int i = 0; i < 100000; ++i)
    ++count[*p.pick(0, load)];
  for (backend_id id = 1; id <= 4; ++id)
    EXPECT_NEAR(count[id], 10000 * static_cast<int>(id), 700) << id;
}

TEST(PowerOfTwoPolicy, SecondCandidateByWeightAmongTheOthers) {
  power_of_two_policy p{10};
  p.update(backends({1, 1, 6}));
  fake_load load;
  // When 3 (weight 6 of 8) is drawn first, the second is 1 or 2, half each;
  // when 1 is first, the second is 3 six times out of seven.
  std::map<std::pair<backend_id, backend_id>, int> pairs;
  for (int i = 0; i < 80000; ++i) {
    auto c = *p.draw(load);
    ++pairs[std::make_pair(c.first.id, c.second->id)];
  }
  auto seen = [&](backend_id a, backend_id b) { return pairs[std::make_pair(a, b)]; };
  // P(3 then 1) = 6/8 * 1/2; P(1 then 3) = 1/8 * 6/7; P(1 then 2) = 1/8 * 1/7.
  EXPECT_NEAR(seen(3, 1), 80000 * 6.0 / 8 / 2, 500);
  EXPECT_NEAR(seen(1, 3), 80000 * 1.0 / 8 * 6 / 7, 400);
  EXPECT_NEAR(seen(1, 2), 80000 * 1.0 / 8 / 7, 200);
  EXPECT_EQ(seen(1, 1) + seen(2, 2) + seen(3, 3), 0);
}

}  // namespace
