#include "actors/paxos/lease_clock.hpp"

#include <algorithm>

#include <gtest/gtest.h>

namespace {

using ballot::paxos::lease_clock;

TEST(LeaseClockTest, FirstReadingOnlySetsTheOrigin) {
  lease_clock c{100};
  c.follow(5'000, false);
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

TEST(LeaseClockTest, ALeadersNeverBehindTheLogAndNeverBackwards) {
  lease_clock c{100};
  c.advance(0);
  c.advance(50);
  c.follow(10'000, true);  // an earlier leader's stamps were ahead
  EXPECT_EQ(c.stamp(60), 10'010u);
  c.follow(3, true);  // an old stamp moves nothing
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
      c.follow(static_cast<std::uint64_t>(i) * 37, true);
      floor = std::max(floor, static_cast<std::uint64_t>(i) * 37);
    }
    auto s = c.stamp(mono);
    ASSERT_GE(s, floor);
    ASSERT_LE(s, floor + 25);  // one reading moves it at most one step
    last = s;
  }
}

// Seed 2118 of the lock workload: log time lost 360 ms at a fail-over (the
// new leader measured from when it applied the last stamp). A follower whose
// own clock kept running was as far ahead of the log, and leading next it
// jumped log time forward: a healthy session expired before its keeper's
// deadline. A follower's lease time is the newest stamp plus what elapsed.
TEST(LeaseClockTest, AFollowersIsTheNewestStampPlusWhatElapsedEvenIfItRanAhead) {
  lease_clock c{100};
  c.advance(0);
  for (std::uint64_t t = 10; t <= 2'000; t += 10)
    c.advance(t);          // its own clock: 2,000 ms
  c.follow(1'640, false);  // the log's newest stamp is behind it
  EXPECT_EQ(c.now(), 1'640u);
  c.advance(2'010);
  c.follow(1'640, false);  // the same stamp again moves nothing back
  EXPECT_EQ(c.now(), 1'650u);
  c.advance(2'020);
  c.follow(1'700, false);  // a newer one sets it
  EXPECT_EQ(c.now(), 1'700u);
  // Leading, it stamps from there on, and never below the log.
  EXPECT_EQ(c.stamp(2'030), 1'710u);
  c.follow(1'705, true);
  EXPECT_EQ(c.stamp(2'040), 1'720u);
}

TEST(LeaseClockTest, TheWallClockStartIsNotAStamp) {
  lease_clock c{100};
  c.start_at(5'000);  // this node's wall clock, ahead of the first leader's
  c.advance(0);
  c.advance(10);
  c.follow(4'000, false);  // the first stamp sets it back to the log
  EXPECT_EQ(c.now(), 4'000u);
}

}  // namespace
