#include <gtest/gtest.h>

#include "actors/paxos/election_timer.hpp"

namespace {

using ballot::paxos::election_timer;

int ticks_until_fire(election_timer& t) {
  int n = 1;
  while (!t.tick())
    ++n;
  return n;
}

TEST(ElectionTimerTest, FiresWithinItsRange) {
  election_timer t{10, 20, 42};
  for (int i = 0; i < 200; ++i) {
    int n = ticks_until_fire(t);
    EXPECT_GE(n, 10);
    EXPECT_LT(n, 20);
  }
}

TEST(ElectionTimerTest, ResetPostponesFiring) {
  election_timer t{5, 6, 1};
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(t.tick());
    t.reset();
  }
}

TEST(ElectionTimerTest, TimeoutsAreRandomizedButSeeded) {
  election_timer a{10, 100, 7}, b{10, 100, 7}, c{10, 100, 8};
  std::vector<int> sa, sb, sc;
  for (int i = 0; i < 20; ++i) {
    sa.push_back(ticks_until_fire(a));
    sb.push_back(ticks_until_fire(b));
    sc.push_back(ticks_until_fire(c));
  }
  EXPECT_EQ(sa, sb);
  EXPECT_NE(sa, sc);
}

}  // namespace
