#include "actors/paxos/lease_clock.hpp"

#include <algorithm>

#include <gtest/gtest.h>

namespace {

using ballot::paxos::lease_clock;

TEST(LeaseClockTest, FirstReadingOnlySetsTheOrigin) {
  lease_clock c{100};
  c.follow(5'000);
  // A monotonic reading of a million says nothing about log time.
  EXPECT_EQ(c.stamp(1'000'000), 5'000u);
  EXPECT_EQ(c.stamp(1'000'040), 5'040u);
}

TEST(LeaseClockTest, RunsWithElapsedMonotonicTime) {
  lease_clock c{100};
  c.advance(0);
  for (std::uint64_t t = 10; t <= 1'000; t += 10)
    c.advance(t);
  EXPECT_EQ(c.now(), 1'000u);
}

TEST(LeaseClockTest, AJumpCountsAsOneStep) {
  lease_clock c{100};
  c.advance(0);
  c.advance(10);
  // Two hours at once (a host pause): one step of 100 ms.
  EXPECT_EQ(c.stamp(10 + 7'200'000), 110u);
  EXPECT_EQ(c.stamp(10 + 7'200'000 + 10), 120u);
}

TEST(LeaseClockTest, NeverBehindTheLogAndNeverBackwards) {
  lease_clock c{100};
  c.advance(0);
  c.advance(50);
  c.follow(10'000);  // an earlier leader's stamps were ahead
  EXPECT_EQ(c.stamp(60), 10'010u);
  c.follow(3);  // an old stamp moves nothing
  EXPECT_EQ(c.now(), 10'010u);
  // A reading below the last moves nothing and becomes the origin.
  EXPECT_EQ(c.stamp(20), 10'010u);
  EXPECT_EQ(c.stamp(30), 10'020u);
}

TEST(LeaseClockTest, StampsNeverDecrease) {
  lease_clock c{25};
  std::uint64_t last = 0;
  std::uint64_t mono = 1'000;
  for (int i = 0; i < 1'000; ++i) {
    mono += static_cast<std::uint64_t>((i * 7919) % 97);
    std::uint64_t floor = last;
    if (i % 50 == 0) {
      c.follow(static_cast<std::uint64_t>(i) * 37);
      floor = std::max(floor, static_cast<std::uint64_t>(i) * 37);
    }
    auto s = c.stamp(mono);
    ASSERT_GE(s, floor);
    ASSERT_LE(s, floor + 25);  // one reading moves it at most one step
    last = s;
  }
}

}  // namespace
