// Read-index rules: a read waits for a quorum round started after it and for
// the commit index it arrived with.
#include <gtest/gtest.h>

#include "actors/paxos/read_index.hpp"

namespace {

using ballot::paxos::read_index;

TEST(ReadIndexTest, ReadWaitsForAQuorumRoundStartedAfterIt) {
  read_index r{2};
  r.add(1, 0);
  auto round = r.start_round();
  ASSERT_EQ(round, 1u);
  r.on_ack(1, round);  // the leader itself
  EXPECT_TRUE(r.take_ready(0).empty());
  r.on_ack(2, round);
  EXPECT_EQ(r.take_ready(0), (std::vector<std::uint64_t>{1}));
}

TEST(ReadIndexTest, ReadWaitsForItsCommitIndex) {
  read_index r{1};
  r.add(1, 5);
  r.on_ack(1, r.start_round());
  EXPECT_TRUE(r.take_ready(4).empty());
  EXPECT_EQ(r.take_ready(5), (std::vector<std::uint64_t>{1}));
}

TEST(ReadIndexTest, AckOfAnEarlierRoundDoesNotConfirmALaterRead) {
  read_index r{2};
  r.add(1, 0);
  auto first = r.start_round();
  r.on_ack(1, first);
  r.add(2, 0);                     // arrives while round 1 is in flight
  EXPECT_EQ(r.start_round(), 0u);  // one round at a time
  r.on_ack(2, first);
  EXPECT_EQ(r.take_ready(0), (std::vector<std::uint64_t>{1}));
  auto second = r.start_round();
  ASSERT_EQ(second, 2u);
  r.on_ack(1, second);
  r.on_ack(2, first);  // stale ack
  EXPECT_TRUE(r.take_ready(0).empty());
  r.on_ack(3, second);
  EXPECT_EQ(r.take_ready(0), (std::vector<std::uint64_t>{2}));
}

TEST(ReadIndexTest, ReadsWaitingTogetherShareARound) {
  read_index r{2};
  for (std::uint64_t id = 1; id <= 3; ++id)
    r.add(id, 0);
  auto round = r.start_round();
  r.on_ack(1, round);
  r.on_ack(2, round);
  EXPECT_EQ(r.take_ready(0).size(), 3u);
  EXPECT_EQ(r.start_round(), 0u);
}

TEST(ReadIndexTest, TakeAllForgetsEverything) {
  read_index r{2};
  r.add(1, 0);
  r.start_round();
  EXPECT_EQ(r.take_all(), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(r.current_round(), 0u);
  EXPECT_TRUE(r.take_ready(100).empty());
}

}  // namespace
