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
  EXPECT_TRUE(p.unanswered(0).empty());  // the prepare just went out
  p.advance(three().resend_interval);
  auto again = p.unanswered(0);
  ASSERT_EQ(again.size(), 2u);  // prepare to 2 and 3
  EXPECT_TRUE(std::holds_alternative<prepare>(again[0].second));
  p.on_promise(2, promise{{1, 1}, {}});
  p.lead(1);
  p.propose_at(1, one("a"), 0);
  p.on_accepted(1, accepted{{1, 1}, 1});
  EXPECT_TRUE(p.unanswered(0).empty());  // just sent: still on its way
  p.advance(2 * three().resend_interval);
  auto resend = p.unanswered(0);
  ASSERT_EQ(resend.size(), 2u);
  EXPECT_EQ(resend[0].first, 2u);
  EXPECT_TRUE(std::holds_alternative<accept>(resend[0].second));
}

proposer leading(const config& cfg) {
  proposer p{cfg};
  p.start({1, 1}, 1);
  p.on_promise(1, promise{{1, 1}, {}});
  p.on_promise(2, promise{{1, 1}, {}});
  p.lead(1);
  return p;
}

TEST(ProposerTest, BatchesAreBoundedInBytesAndABigCommandTravelsAlone) {
  auto cfg = three(/*window=*/8, /*batch=*/64);
  cfg.max_batch_bytes = 100;
  auto p = leading(cfg);
  for (std::uint64_t i = 1; i <= 4; ++i)
    ASSERT_TRUE(p.enqueue(command{9, i, std::string(40, 'x')}));
  ASSERT_TRUE(p.enqueue(command{9, 5, std::string(500, 'y')}));  // over the bound alone
  ASSERT_TRUE(p.enqueue(command{9, 6, std::string(10, 'z')}));
  auto accepts = p.fill(0);
  ASSERT_EQ(accepts.size(), 4u);
  EXPECT_EQ(accepts[0].val.commands.size(), 2u);  // 80 bytes; a third would be 120
  EXPECT_EQ(accepts[1].val.commands.size(), 2u);
  ASSERT_EQ(accepts[2].val.commands.size(), 1u);
  EXPECT_EQ(accepts[2].val.commands[0].payload.size(), 500u);
  EXPECT_EQ(accepts[3].val.commands.size(), 1u);
}

TEST(ProposerTest, WindowIsBoundedInBytesButOneSlotAlwaysGoes) {
  auto cfg = three(/*window=*/8, /*batch=*/1);
  cfg.max_inflight_bytes = 1000;
  cfg.small_command_bytes = 100;  // these are large ones
  auto p = leading(cfg);
  for (std::uint64_t i = 1; i <= 5; ++i)
    ASSERT_TRUE(p.enqueue(command{9, i, std::string(600, 'x')}));
  EXPECT_EQ(p.fill(0).size(), 2u);  // 1,200 bytes in flight: the window is full
  EXPECT_EQ(p.in_flight_bytes(), 1200u);
  EXPECT_TRUE(p.fill(0).empty());
  p.on_accepted(1, accepted{{1, 1}, 1});
  p.on_accepted(2, accepted{{1, 1}, 1});  // slot 1 chosen: 600 bytes left in flight
  EXPECT_EQ(p.in_flight_bytes(), 600u);
  EXPECT_EQ(p.fill(1).size(), 1u);
}

TEST(ProposerTest, QueueRefusesPastItsCountAndByteBudgets) {
  auto cfg = three();
  cfg.max_pending = 3;
  cfg.max_pending_bytes = 100;
  auto p = leading(cfg);
  EXPECT_TRUE(p.enqueue(command{9, 1, std::string(500, 'x')}));  // an empty queue takes one
  EXPECT_FALSE(p.enqueue(command{9, 2, "a"}));                   // over the bytes
  auto q = leading(cfg);
  EXPECT_TRUE(q.enqueue(command{9, 1, "a"}));
  EXPECT_TRUE(q.enqueue(command{9, 2, "b"}));
  EXPECT_TRUE(q.enqueue(command{9, 3, "c"}));
  EXPECT_FALSE(q.enqueue(command{9, 4, "d"}));  // over the count
  EXPECT_EQ(q.queued(), 3u);
  EXPECT_EQ(q.queued_bytes(), 3u);
}

TEST(ProposerTest, ResendIsPacedAndBoundedInBytesPerMember) {
  auto cfg = three(/*window=*/8, /*batch=*/1);
  cfg.resend_interval = 5;
  cfg.resend_bytes = 1000;
  auto p = leading(cfg);
  for (std::uint64_t i = 1; i <= 4; ++i)
    ASSERT_TRUE(p.enqueue(command{9, i, std::string(600, 'x')}));
  ASSERT_EQ(p.fill(0).size(), 4u);
  for (slot_index s = 1; s <= 4; ++s)
    p.on_accepted(1, accepted{{1, 1}, s});  // only the leader's own votes
  p.advance(4);
  EXPECT_TRUE(p.unanswered(0).empty());
  p.advance(5);
  // 600 bytes each: one accept per member fits in the 1,000-byte budget
  // (the first always goes), so slots go one by one, oldest first.
  auto first = p.unanswered(0);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(std::get<accept>(first[0].second).slot, 1u);
  auto second = p.unanswered(0);
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(std::get<accept>(second[0].second).slot, 2u);
  p.advance(9);  // slot 1 went at 5: not again before 10
  auto third = p.unanswered(0);
  ASSERT_EQ(third.size(), 2u);
  EXPECT_EQ(std::get<accept>(third[0].second).slot, 3u);
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

namespace {

TEST(ProposerTest, SmallCommandsGoAheadOfLargeOnesWaiting) {
  auto cfg = three(/*window=*/8, /*batch=*/64);
  cfg.max_batch_bytes = 1000;
  cfg.small_command_bytes = 100;
  auto p = leading(cfg);
  ASSERT_TRUE(p.enqueue(command{9, 1, std::string(900, 'L')}));
  ASSERT_TRUE(p.enqueue(command{9, 2, std::string(900, 'L')}));
  ASSERT_TRUE(p.enqueue(command{8, 1, "small"}));
  auto accepts = p.fill(0);
  ASSERT_EQ(accepts.size(), 3u);
  ASSERT_EQ(accepts[0].val.commands.size(), 1u);           // a slot of its own
  EXPECT_EQ(accepts[0].val.commands[0].payload, "small");  // it came last, it goes first
  EXPECT_EQ(accepts[1].val.commands[0].seq, 1u);
  EXPECT_EQ(accepts[2].val.commands[0].seq, 2u);
}

TEST(ProposerTest, SmallCommandsHaveRoomWhenLargeOnesFillTheWindow) {
  auto cfg = three(/*window=*/8, /*batch=*/64);
  cfg.max_batch_bytes = 1000;
  cfg.max_inflight_bytes = 1000;
  cfg.small_command_bytes = 100;
  auto p = leading(cfg);
  ASSERT_TRUE(p.enqueue(command{9, 1, std::string(900, 'L')}));
  ASSERT_TRUE(p.enqueue(command{9, 2, std::string(900, 'L')}));
  EXPECT_EQ(p.fill(0).size(), 2u);  // 1,800 bytes in flight: full for large ones
  ASSERT_TRUE(p.enqueue(command{9, 3, std::string(900, 'L')}));
  EXPECT_TRUE(p.fill(0).empty());
  ASSERT_TRUE(p.enqueue(command{8, 1, "small"}));
  auto next = p.fill(0);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].val.commands[0].payload, "small");
}

}  // namespace
