// Random: every available backend uniformly, or in proportion to weight.
#include <gtest/gtest.h>

#include <map>

#include "actors/balance/policies/random.hpp"
#include "tests/balance/policies/fake_load.hpp"

namespace {

using namespace ballot::balance;
using namespace ballot::balance::test;

std::map<backend_id, int> count_picks(policy& p, const load_view& load, int picks) {
  std::map<backend_id, int> count;
  for (int i = 0; i < picks; ++i)
    ++count[*p.pick(static_cast<std::uint64_t>(i), load)];
  return count;
}

TEST(RandomPolicy, CoversAllBackendsUniformly) {
  random_policy p{1};
  p.update(backends(8));
  fake_load load;
  auto count = count_picks(p, load, 80000);
  ASSERT_EQ(count.size(), 8u);
  for (auto [id, n] : count)
    EXPECT_NEAR(n, 10000, 450) << id;  // sd ~94: ~5 sd
}

TEST(RandomPolicy, UniformOverTheAvailableOnes) {
  random_policy p{2};
  p.update(backends(8));
  fake_load load;
  for (backend_id id : {2, 3, 5, 7, 8})
    load.set_available(id, false);  // most unavailable: exercises the exact fallback
  auto count = count_picks(p, load, 30000);
  ASSERT_EQ(count.size(), 3u);
  for (auto [id, n] : count)
    EXPECT_NEAR(n, 10000, 450) << id;
}

TEST(RandomPolicy, ProportionalToWeight) {
  random_policy p{3};
  p.update(backends({1, 2, 3, 4}));
  fake_load load;
  auto count = count_picks(p, load, 100000);
  for (backend_id id = 1; id <= 4; ++id)
    EXPECT_NEAR(count[id], 10000 * static_cast<int>(id), 700) << id;
  // And with backend 4 unavailable: 1:2:3 of all picks.
  load.set_available(4, false);
  count = count_picks(p, load, 60000);
  EXPECT_EQ(count.count(4), 0u);
  for (backend_id id = 1; id <= 3; ++id)
    EXPECT_NEAR(count[id], 10000 * static_cast<int>(id), 700) << id;
}

TEST(RandomPolicy, DifferentSeedsDifferentSequences) {
  random_policy a{1};
  random_policy b{2};
  a.update(backends(8));
  b.update(backends(8));
  fake_load load;
  int same = 0;
  for (int i = 0; i < 1000; ++i)
    same += a.pick(0, load) == b.pick(0, load);
  EXPECT_LT(same, 200);  // ~125 expected by chance
}

}  // namespace
