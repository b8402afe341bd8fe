// Following the leader on a fake clock: hints, failures, rounds, overload
// pauses and the deadline.
#include "actors/replica/leader_follower.hpp"

#include <stdexcept>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using ballot::routing::follower_config;
using ballot::routing::leader_follower;
using verdict = leader_follower::verdict;
using time_point = leader_follower::time_point;

time_point at(std::int64_t ms) {
  return time_point{} + 1000s + std::chrono::milliseconds(ms);
}

follower_config timing() {
  follower_config c;
  c.max_hops = 3;
  c.round_pause = 50ms;
  c.overload_first = 20ms;
  c.overload_max = 200ms;
  return c;
}

/// Members 1, 2, 3, starting at `start`, deadline at 1 s.
leader_follower three(leader_follower::member_id start = 1) {
  return leader_follower{timing(), {1, 2, 3}, start, at(1000)};
}

TEST(LeaderFollowerTest, ValidationNamesTheBadValue) {
  auto bad = [](auto change) {
    auto c = timing();
    change(c);
    return validate(c);
  };
  EXPECT_EQ(bad([](follower_config&) {}), "");
  EXPECT_EQ(bad([](follower_config& c) { c.round_pause = 0ms; }), "");
  EXPECT_NE(bad([](follower_config& c) { c.round_pause = -1ms; }).find("round_pause -1 ms"),
            std::string::npos);
  EXPECT_NE(bad([](follower_config& c) { c.overload_first = 0ms; }).find("overload_first 0 ms"),
            std::string::npos);
  EXPECT_NE(bad([](follower_config& c) { c.overload_max = 10ms; }).find("overload_max 10 ms"),
            std::string::npos);
  EXPECT_THROW((leader_follower{timing(), {}, 1, at(10)}), std::invalid_argument);
  EXPECT_THROW((leader_follower{timing(), {1, 1}, 1, at(10)}), std::invalid_argument);
}

TEST(LeaderFollowerTest, StartsWhereTheDriverSays) {
  auto f = three(2);
  auto n = f.next(at(0));
  EXPECT_EQ(n.what, verdict::try_now);
  EXPECT_EQ(n.member, 2u);
}

TEST(LeaderFollowerTest, FollowsAHintAtOnce) {
  auto f = three();
  f.not_leader(3, at(5));
  auto n = f.next(at(5));
  EXPECT_EQ(n.what, verdict::try_now);
  EXPECT_EQ(n.member, 3u);
  EXPECT_EQ(f.hops(), 1u);
  // A node outside the list is followed too (the driver vouches for it).
  f.not_leader(9, at(6));
  EXPECT_EQ(f.next(at(6)).member, 9u);
  // And after it fails, the list goes on from its front.
  f.failed(at(7));
  EXPECT_EQ(f.next(at(7)).member, 1u);
}

TEST(LeaderFollowerTest, AHintNamingTheAnswererIsNoHint) {
  auto f = three();
  f.not_leader(1, at(5));
  EXPECT_EQ(f.next(at(5)).member, 2u);
  EXPECT_EQ(f.hops(), 0u);
}

TEST(LeaderFollowerTest, HopsAreBoundedThenARoundStarts) {
  auto f = three();
  f.not_leader(2, at(1));
  f.not_leader(3, at(2));
  f.not_leader(1, at(3));
  EXPECT_EQ(f.next(at(3)).member, 1u);
  EXPECT_EQ(f.hops(), 3u);
  // The fourth hint is not followed: member 1 counts as failed.
  f.not_leader(2, at(4));
  EXPECT_EQ(f.next(at(4)).member, 2u);
  EXPECT_EQ(f.next(at(4)).what, verdict::try_now);
}

TEST(LeaderFollowerTest, FailuresRotateThenPauseAfterARound) {
  auto f = three();
  f.failed(at(10));
  EXPECT_EQ(f.next(at(10)).member, 2u);
  EXPECT_EQ(f.next(at(10)).what, verdict::try_now);
  f.not_leader(std::nullopt, at(20));
  EXPECT_EQ(f.next(at(20)).member, 3u);
  EXPECT_EQ(f.next(at(20)).what, verdict::try_now);
  f.failed(at(30));
  auto n = f.next(at(30));
  EXPECT_EQ(n.what, verdict::pause);
  EXPECT_EQ(n.at, at(80));
  EXPECT_EQ(n.member, 1u);
  EXPECT_EQ(f.next(at(80)).what, verdict::try_now);
}

TEST(LeaderFollowerTest, ARoundResetsTheHops) {
  leader_follower f{timing(), {1}, 1, at(1000)};
  f.not_leader(2, at(0));
  f.not_leader(3, at(0));
  f.not_leader(4, at(0));
  f.failed(at(10));  // a round of the one member: pause, hops start over
  EXPECT_EQ(f.hops(), 0u);
  EXPECT_EQ(f.next(at(10)).what, verdict::pause);
  f.not_leader(2, at(60));
  EXPECT_EQ(f.next(at(60)).member, 2u);
}

TEST(LeaderFollowerTest, OverloadedRetriesTheSameMemberAfterAGrowingJitteredPause) {
  auto f = three(2);
  // random 0 picks the shortest pause (half), a large one the longest.
  f.overloaded(0, at(0));
  EXPECT_TRUE(f.last_overloaded());
  auto n = f.next(at(0));
  EXPECT_EQ(n.what, verdict::pause);
  EXPECT_EQ(n.member, 2u);
  EXPECT_EQ(n.at, at(10));
  f.overloaded(20, at(10));  // base 40: 20 + 20 % 21
  EXPECT_EQ(f.next(at(10)).at, at(50));
  f.overloaded(0, at(50));  // base 80
  EXPECT_EQ(f.next(at(50)).at, at(90));
  f.overloaded(0, at(90));  // base 160
  EXPECT_EQ(f.next(at(90)).at, at(170));
  f.overloaded(100, at(170));  // base 200 (the maximum): 100 + 100 % 101
  EXPECT_EQ(f.next(at(170)).at, at(370));
  f.overloaded(100, at(370));
  EXPECT_EQ(f.next(at(370)).at, at(570));
  f.succeeded();
  EXPECT_FALSE(f.last_overloaded());
  EXPECT_EQ(f.target(), 2u);
}

TEST(LeaderFollowerTest, APauseReachingTheDeadlineGivesUpNow) {
  leader_follower f{timing(), {1, 2}, 1, at(100)};
  f.failed(at(40));
  f.failed(at(60));  // pause until 110, past the deadline
  EXPECT_EQ(f.next(at(60)).what, verdict::give_up);
  leader_follower g{timing(), {1}, 1, at(100)};
  g.overloaded(0, at(90));
  EXPECT_EQ(g.next(at(90)).what, verdict::give_up);
  EXPECT_TRUE(g.last_overloaded());
}

TEST(LeaderFollowerTest, TheDeadlineEndsTheCall) {
  auto f = three();
  EXPECT_EQ(f.next(at(999)).what, verdict::try_now);
  EXPECT_EQ(f.next(at(1000)).what, verdict::give_up);
}

TEST(LeaderFollowerTest, TheNextCallStartsWhereThisEnded) {
  auto f = three();
  f.not_leader(3, at(1));
  f.succeeded();
  EXPECT_EQ(f.target(), 3u);
  auto g = three();
  g.failed(at(1));
  EXPECT_EQ(g.target(), 2u);
}

}  // namespace
