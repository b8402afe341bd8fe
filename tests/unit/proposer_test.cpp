// The proposer's rules: phase 1 once per leadership, Paxos' value choice on
// recovery, pipelined and batched phase 2, majority counting.
#include <gtest/gtest.h>

#include "actors/paxos/proposer.hpp"

namespace {

using namespace ballot::paxos;

config three(std::size_t window = 4, std::size_t batch = 2) {
  config cfg;
  cfg.id = 1;
  cfg.members = {1, 2, 3};
  cfg.window = window;
  cfg.max_batch = batch;
  return cfg;
}

value one(const std::string& p, std::uint64_t seq = 1) {
  return value{{command{9, seq, p}}};
}

TEST(ProposerTest, StartBroadcastsPrepareFromFirstOpenSlot) {
  proposer p{three()};
  auto prep = p.start({4, 1}, 7);
  EXPECT_EQ(prep.ballot, (ballot_number{4, 1}));
  EXPECT_EQ(prep.first_open, 7u);
  EXPECT_EQ(p.current_role(), proposer::role::candidate);
}

TEST(ProposerTest, QuorumOfPromisesIsReportedExactlyOnce) {
  proposer p{three()};
  p.start({1, 1}, 1);
  EXPECT_FALSE(p.on_promise(1, promise{{1, 1}, {}}));
  EXPECT_FALSE(p.on_promise(1, promise{{1, 1}, {}}));  // the same member twice is one vote
  EXPECT_TRUE(p.on_promise(2, promise{{1, 1}, {}}));
  EXPECT_FALSE(p.on_promise(3, promise{{1, 1}, {}}));
}

TEST(ProposerTest, PromisesForAnotherBallotAreIgnored) {
  proposer p{three()};
  p.start({2, 1}, 1);
  EXPECT_FALSE(p.on_promise(1, promise{{1, 1}, {}}));
  EXPECT_FALSE(p.on_promise(2, promise{{1, 1}, {}}));
}

TEST(ProposerTest, RecoveryPicksHighestBallotVoteAndFillsGapsWithNoOps) {
  proposer p{three()};
  p.start({5, 1}, 1);
  p.on_promise(2, promise{{5, 1}, {{1, {2, 2}, one("old"), false}, {3, {1, 3}, one("c"), false}}});
  p.on_promise(3, promise{{5, 1}, {{1, {3, 3}, one("new"), false}}});
  auto rec = p.recovery();
  ASSERT_EQ(rec.size(), 3u);
  EXPECT_EQ(rec[0].val, one("new"));
  EXPECT_TRUE(rec[1].val.is_noop());
  EXPECT_EQ(rec[1].slot, 2u);
  EXPECT_EQ(rec[2].val, one("c"));
  EXPECT_FALSE(rec[2].chosen);
}

TEST(ProposerTest, RecoveryPrefersAValueKnownChosen) {
  proposer p{three()};
  p.start({5, 1}, 1);
  p.on_promise(2, promise{{5, 1}, {{1, {1, 2}, one("chosen"), true}}});
  p.on_promise(3, promise{{5, 1}, {{1, {4, 3}, one("later"), false}}});
  auto rec = p.recovery();
  ASSERT_EQ(rec.size(), 1u);
  EXPECT_TRUE(rec[0].chosen);
  EXPECT_EQ(rec[0].val, one("chosen"));
}

TEST(ProposerTest, FillBatchesCommandsAndRespectsWindow) {
  proposer p{three(/*window=*/2, /*batch=*/3)};
  p.start({1, 1}, 1);
  p.lead(1);
  for (std::uint64_t i = 1; i <= 10; ++i)
    p.enqueue(command{9, i, "c" + std::to_string(i)});
  auto accepts = p.fill(0);
  ASSERT_EQ(accepts.size(), 2u);
  EXPECT_EQ(accepts[0].slot, 1u);
  EXPECT_EQ(accepts[0].val.commands.size(), 3u);
  EXPECT_EQ(accepts[1].slot, 2u);
  EXPECT_EQ(p.in_flight(), 2u);
  EXPECT_EQ(p.queued(), 4u);
  EXPECT_TRUE(p.fill(0).empty());  // window full
}

TEST(ProposerTest, SlotIsChosenByMajorityAndFreesTheWindow) {
  proposer p{three(/*window=*/1, /*batch=*/1)};
  p.start({1, 1}, 1);
  p.lead(1);
  p.enqueue(command{9, 1, "a"});
  p.enqueue(command{9, 2, "b"});
  auto a = p.fill(0);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_FALSE(p.on_accepted(1, accepted{{1, 1}, 1}));
  EXPECT_FALSE(p.on_accepted(1, accepted{{1, 1}, 1}));  // duplicate vote
  EXPECT_FALSE(p.on_accepted(2, accepted{{0, 2}, 1}));  // another ballot
  auto chosen = p.on_accepted(2, accepted{{1, 1}, 1});
  ASSERT_TRUE(chosen);
  EXPECT_EQ(chosen->slot, 1u);
  EXPECT_EQ(chosen->val, a[0].val);
  auto next = p.fill(1);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].slot, 2u);
  EXPECT_EQ(next[0].commit, 1u);
}

TEST(ProposerTest, UnansweredListsOnlyMissingVotes) {
  proposer p{three()};
  p.start({1, 1}, 1);
  p.on_promise(1, promise{{1, 1}, {}});
  auto again = p.unanswered(0);
  ASSERT_EQ(again.size(), 2u);  // prepare to 2 and 3
  EXPECT_TRUE(std::holds_alternative<prepare>(again[0].second));
  p.on_promise(2, promise{{1, 1}, {}});
  p.lead(1);
  p.propose_at(1, one("a"), 0);
  p.on_accepted(1, accepted{{1, 1}, 1});
  auto resend = p.unanswered(0);
  ASSERT_EQ(resend.size(), 2u);
  EXPECT_EQ(resend[0].first, 2u);
  EXPECT_TRUE(std::holds_alternative<accept>(resend[0].second));
}

TEST(ProposerTest, StepDownDropsEverything) {
  proposer p{three()};
  p.start({1, 1}, 1);
  p.on_promise(1, promise{{1, 1}, {}});
  p.on_promise(2, promise{{1, 1}, {}});
  p.lead(1);
  p.enqueue(command{9, 1, "a"});
  p.fill(0);
  p.step_down();
  EXPECT_EQ(p.current_role(), proposer::role::follower);
  EXPECT_EQ(p.in_flight(), 0u);
  EXPECT_FALSE(p.on_accepted(2, accepted{{1, 1}, 1}));
}

}  // namespace
