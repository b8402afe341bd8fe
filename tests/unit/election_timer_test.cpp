#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "actors/paxos/election_timer.hpp"

namespace {

using ballot::paxos::election_timer;

int ticks_until_fire(election_timer& t) {
  int n = 1;
  while (!t.tick())
    ++n;
  return n;
}

/// Fires `times` times, each after [lo, hi) ticks.
void expect_fires_within(election_timer& t, int lo, int hi, int times) {
  for (int i = 0; i < times; ++i) {
    int n = ticks_until_fire(t);
    EXPECT_GE(n, lo);
    EXPECT_LT(n, hi);
  }
}

TEST(ElectionTimerTest, FiresWithinItsRange) {
  election_timer t{10, 20, 42};
  expect_fires_within(t, 10, 20, 200);
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

// Each back_off doubles the range, up to the cap; the waits stay random.
TEST(ElectionTimerTest, EachElectionStartedDoublesTheRangeUpToTheCap) {
  election_timer t{10, 20, 3, 2};
  for (std::uint32_t shift : {1u, 2u, 2u, 2u}) {
    t.back_off();
    EXPECT_EQ(t.backoff(), shift);
    int lo = 10 << shift, hi = 20 << shift, min_seen = hi, max_seen = 0;
    for (int i = 0; i < 200; ++i) {
      int n = ticks_until_fire(t);
      EXPECT_GE(n, lo);
      EXPECT_LT(n, hi);
      min_seen = std::min(min_seen, n);
      max_seen = std::max(max_seen, n);
    }
    // Spread over the doubled range, not stuck at one end of it.
    EXPECT_LT(min_seen, lo + (hi - lo) / 4) << shift;
    EXPECT_GE(max_seen, hi - (hi - lo) / 4) << shift;
  }
}

// The backoff takes effect at once: the wait that follows back_off is drawn
// from the doubled range, not only the one after it.
TEST(ElectionTimerTest, TheWaitAfterBackOffIsAlreadyLonger) {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    election_timer t{10, 20, seed, 3};
    t.back_off();
    EXPECT_GE(ticks_until_fire(t), 20) << seed;
  }
}

// Hearing a leader settles the timer back to the configured range.
TEST(ElectionTimerTest, SettleRestoresTheConfiguredRange) {
  election_timer t{10, 20, 5, 3};
  t.back_off();
  t.back_off();
  t.settle();
  t.reset();
  EXPECT_EQ(t.backoff(), 0u);
  expect_fires_within(t, 10, 20, 100);
}

// Without a cap (0) the range never grows: the timer of old.
TEST(ElectionTimerTest, NoBackoffKeepsTheRange) {
  election_timer t{10, 20, 9};
  for (int i = 0; i < 20; ++i) {
    t.back_off();
    expect_fires_within(t, 10, 20, 1);
  }
}

}  // namespace
