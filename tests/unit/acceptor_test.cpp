// The acceptor's rules, one test each: init, act, check.
#include <gtest/gtest.h>

#include "actors/paxos/acceptor.hpp"

namespace {

using namespace ballot::paxos;

value cmd(const std::string& payload) {
  return value{{command{1, 1, payload}}};
}

TEST(AcceptorTest, PromisesFirstPrepareAndAsksToPersistIt) {
  acceptor a{durable_state{}};
  ready out;
  auto reply = a.on_prepare(prepare{{1, 2}, 1}, out);
  ASSERT_TRUE(std::holds_alternative<promise>(reply));
  EXPECT_EQ(std::get<promise>(reply).ballot, (ballot_number{1, 2}));
  ASSERT_TRUE(out.promised);
  EXPECT_EQ(*out.promised, (ballot_number{1, 2}));
  EXPECT_EQ(a.promised(), (ballot_number{1, 2}));
}

TEST(AcceptorTest, RejectsPrepareBelowPromiseAndNamesThePromise) {
  acceptor a{durable_state{}};
  ready out;
  a.on_prepare(prepare{{3, 1}, 1}, out);
  ready out2;
  auto reply = a.on_prepare(prepare{{2, 2}, 1}, out2);
  ASSERT_TRUE(std::holds_alternative<reject>(reply));
  EXPECT_EQ(std::get<reject>(reply).promised, (ballot_number{3, 1}));
  EXPECT_FALSE(out2.must_persist());
}

TEST(AcceptorTest, RepeatedPrepareAtSameBallotNeedsNoNewWrite) {
  acceptor a{durable_state{}};
  ready out;
  a.on_prepare(prepare{{3, 1}, 1}, out);
  ready out2;
  EXPECT_TRUE(std::holds_alternative<promise>(a.on_prepare(prepare{{3, 1}, 1}, out2)));
  EXPECT_FALSE(out2.must_persist());
}

TEST(AcceptorTest, PromiseReportsVotesFromFirstOpenSlotOn) {
  acceptor a{durable_state{}};
  ready out;
  a.on_accept(accept{{1, 1}, 1, cmd("a"), 0}, out);
  a.on_accept(accept{{1, 1}, 2, cmd("b"), 0}, out);
  a.on_accept(accept{{1, 1}, 3, cmd("c"), 0}, out);
  auto reply = std::get<promise>(a.on_prepare(prepare{{2, 2}, 2}, out));
  ASSERT_EQ(reply.entries.size(), 2u);
  EXPECT_EQ(reply.entries[0].slot, 2u);
  EXPECT_EQ(reply.entries[0].ballot, (ballot_number{1, 1}));
  EXPECT_EQ(reply.entries[0].val, cmd("b"));
  EXPECT_EQ(reply.entries[1].slot, 3u);
}

TEST(AcceptorTest, AcceptsAtOrAbovePromiseAndPersistsTheVote) {
  acceptor a{durable_state{}};
  ready out;
  a.on_prepare(prepare{{2, 1}, 1}, out);
  ready out2;
  auto reply = a.on_accept(accept{{2, 1}, 5, cmd("x"), 0}, out2);
  ASSERT_TRUE(std::holds_alternative<accepted>(reply));
  EXPECT_EQ(std::get<accepted>(reply).slot, 5u);
  ASSERT_EQ(out2.accepted.size(), 1u);
  EXPECT_EQ(out2.accepted[0].first, 5u);
  EXPECT_EQ(out2.accepted[0].second.val, cmd("x"));
  ASSERT_NE(a.vote(5), nullptr);
  EXPECT_EQ(a.vote(5)->ballot, (ballot_number{2, 1}));
}

TEST(AcceptorTest, NeverAcceptsBelowPromise) {
  acceptor a{durable_state{}};
  ready out;
  a.on_prepare(prepare{{5, 1}, 1}, out);
  ready out2;
  auto reply = a.on_accept(accept{{4, 2}, 1, cmd("x"), 0}, out2);
  ASSERT_TRUE(std::holds_alternative<reject>(reply));
  EXPECT_TRUE(out2.accepted.empty());
  EXPECT_EQ(a.vote(1), nullptr);
}

TEST(AcceptorTest, AcceptAbovePromiseRaisesThePromise) {
  acceptor a{durable_state{}};
  ready out;
  a.on_accept(accept{{7, 3}, 1, cmd("x"), 0}, out);
  EXPECT_EQ(a.promised(), (ballot_number{7, 3}));
  ASSERT_TRUE(out.promised);
  ready out2;
  EXPECT_TRUE(std::holds_alternative<reject>(a.on_prepare(prepare{{6, 1}, 1}, out2)));
}

TEST(AcceptorTest, ResentAcceptIsNotWrittenTwice) {
  acceptor a{durable_state{}};
  ready out;
  a.on_accept(accept{{1, 1}, 1, cmd("x"), 0}, out);
  ready out2;
  EXPECT_TRUE(std::holds_alternative<accepted>(a.on_accept(accept{{1, 1}, 1, cmd("x"), 0}, out2)));
  EXPECT_FALSE(out2.must_persist());
}

TEST(AcceptorTest, RestartKeepsPromiseAndVotes) {
  durable_state disk;
  {
    acceptor a{disk};
    ready out;
    a.on_prepare(prepare{{4, 2}, 1}, out);
    a.on_accept(accept{{4, 2}, 1, cmd("x"), 0}, out);
    out.persist_to(disk);
  }
  acceptor restarted{disk};
  EXPECT_EQ(restarted.promised(), (ballot_number{4, 2}));
  ASSERT_NE(restarted.vote(1), nullptr);
  EXPECT_EQ(restarted.vote(1)->val, cmd("x"));
  ready out;
  EXPECT_TRUE(std::holds_alternative<reject>(restarted.on_prepare(prepare{{3, 1}, 1}, out)));
}

TEST(AcceptorTest, CompactedVotesAreGoneAndPromisesSaySo) {
  acceptor a{durable_state{}};
  ready out;
  for (slot_index s = 1; s <= 4; ++s)
    a.on_accept(accept{{1, 1}, s, cmd("v"), 0}, out);
  auto forgotten = a.compact(3);
  ASSERT_EQ(forgotten.size(), 3u);
  EXPECT_EQ(forgotten.rbegin()->first, 3u);
  EXPECT_EQ(a.vote(3), nullptr);
  EXPECT_NE(a.vote(4), nullptr);
  auto reply = std::get<promise>(a.on_prepare(prepare{{2, 2}, 1}, out));
  EXPECT_EQ(reply.compacted, 3u);
  ASSERT_EQ(reply.entries.size(), 1u);
  EXPECT_EQ(reply.entries[0].slot, 4u);
}

}  // namespace
