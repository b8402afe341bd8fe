// Round robin: each available backend once per cycle, in id order.
#include <gtest/gtest.h>

#include <map>

#include "actors/balance/policies/round_robin.hpp"
#include "tests/balance/policies/fake_load.hpp"

namespace {

using namespace ballot::balance;
using namespace ballot::balance::test;

TEST(RoundRobinPolicy, CyclesThroughAllInIdOrder) {
  round_robin_policy p{0};  // seed 0: the first cycle starts at the lowest id
  p.update(backends(4));
  fake_load load;
  for (int cycle = 0; cycle < 3; ++cycle)
    for (backend_id id = 1; id <= 4; ++id)
      EXPECT_EQ(p.pick(0, load), id);
}

TEST(RoundRobinPolicy, SeedChoosesTheStart) {
  round_robin_policy p{6};
  p.update(backends(4));
  fake_load load;
  EXPECT_EQ(p.pick(0, load), backend_id{3});  // 6 mod 4 = index 2
  EXPECT_EQ(p.pick(0, load), backend_id{4});
  EXPECT_EQ(p.pick(0, load), backend_id{1});
}

TEST(RoundRobinPolicy, ExactlyEvenOverWholeCycles) {
  round_robin_policy p{5};
  p.update(backends({7, 1, 3, 1, 1, 2}));  // weights are ignored
  fake_load load;
  std::map<backend_id, int> count;
  for (int i = 0; i < 6 * 1000; ++i)
    ++count[*p.pick(0, load)];
  ASSERT_EQ(count.size(), 6u);
  for (auto [id, n] : count)
    EXPECT_EQ(n, 1000) << id;
}

TEST(RoundRobinPolicy, SkipsUnavailableWithoutDoublingTheNext) {
  round_robin_policy p{0};
  p.update(backends(5));
  fake_load load;
  load.set_available(2, false);
  load.set_available(3, false);
  std::map<backend_id, int> count;
  for (int i = 0; i < 3 * 1000; ++i)
    ++count[*p.pick(0, load)];
  EXPECT_EQ(count, (std::map<backend_id, int>{{1, 1000}, {4, 1000}, {5, 1000}}));
}

TEST(RoundRobinPolicy, UpdateContinuesAfterTheLastPick) {
  round_robin_policy p{0};
  p.update(backends(5));
  fake_load load;
  EXPECT_EQ(p.pick(0, load), backend_id{1});
  EXPECT_EQ(p.pick(0, load), backend_id{2});
  // 2 leaves and 9 joins: the cycle goes on at 3, not back at 1.
  p.update({{1, 1}, {3, 1}, {4, 1}, {5, 1}, {9, 1}});
  EXPECT_EQ(p.pick(0, load), backend_id{3});
  EXPECT_EQ(p.pick(0, load), backend_id{4});
  // The last picked (4) leaves: next is the first id after it.
  p.update({{1, 1}, {3, 1}, {5, 1}, {9, 1}});
  EXPECT_EQ(p.pick(0, load), backend_id{5});
  EXPECT_EQ(p.pick(0, load), backend_id{9});
  EXPECT_EQ(p.pick(0, load), backend_id{1});
}

}  // namespace
