// Repair from peers (paxos::rejoin): a replica that lost state does not
// promise, vote or stand until every other member has answered, and becomes
// a voter again only once it has re-learned every slot any of them reported.
#include <gtest/gtest.h>

#include "actors/paxos/rejoin.hpp"
#include "tests/support/local_cluster.hpp"

namespace {

using namespace ballot::paxos;
using ballot::testing::local_cluster;

command cmd(std::uint64_t client, std::uint64_t seq) {
  return command{client, seq, "c" + std::to_string(client) + "." + std::to_string(seq)};
}

config amnesia_checked() {
  config cfg;
  cfg.check_amnesia = true;
  cfg.rejoin_settle_ticks = 3;  // the test network delivers at once
  return cfg;
}

state_report report(std::uint64_t nonce, bool intact, bool has_state, std::uint64_t round = 0,
                    slot_index highest = 0) {
  state_report r;
  r.nonce = nonce;
  r.intact = intact;
  r.has_state = has_state;
  r.promised = ballot_number{round, 1};
  r.highest = highest;
  r.commit = highest;
  return r;
}

TEST(RepairRejoinTest, AFreshReplicaStartsNormallyOnceAQuorumOfOthersHoldsNothing) {
  rejoin r{rejoin::mode::fresh, 1, {1, 2, 3}, 2, 42};
  EXPECT_FALSE(r.may_promise());
  EXPECT_FALSE(r.may_accept());
  EXPECT_EQ(r.unanswered(), (std::vector<node_id>{2, 3}));
  EXPECT_FALSE(r.on_report(2, report(41, false, false)).normal);  // another incarnation's
  EXPECT_FALSE(r.on_report(9, report(42, false, false)).normal);  // not a member
  // Its own empty disk does not count: a quorum of the others must be empty.
  EXPECT_FALSE(r.on_report(2, report(42, false, false)).normal);
  auto d = r.on_report(3, report(42, true, false));
  EXPECT_TRUE(d.normal);
  EXPECT_TRUE(r.may_promise());
}

TEST(RepairRejoinTest, AFreshReplicaInAClusterWithStateRepairsAndNeedsEveryMember) {
  rejoin r{rejoin::mode::fresh, 1, {1, 2, 3}, 2, 7};
  auto d = r.on_report(2, report(7, true, true, 5, 40));
  EXPECT_TRUE(d.began_repair);
  EXPECT_FALSE(d.restore);
  EXPECT_EQ(r.current(), rejoin::mode::repairing);
  EXPECT_EQ(r.unanswered(), std::vector<node_id>{3});
  d = r.on_report(3, report(7, true, true, 9, 30));
  ASSERT_TRUE(d.restore);
  EXPECT_EQ(d.restore->round, 9u);  // the highest promise anyone holds
  EXPECT_EQ(r.target(), 40u);       // the highest slot anyone reported
  EXPECT_EQ(r.best_source(), node_id{2});
  EXPECT_TRUE(r.may_accept());
  EXPECT_FALSE(r.may_promise());
  EXPECT_FALSE(r.on_commit(39));
  EXPECT_TRUE(r.on_commit(40));
  EXPECT_TRUE(r.may_promise());
}

TEST(RepairRejoinTest, TwoDamagedMembersCannotVouchForEachOther) {
  rejoin r{rejoin::mode::repairing, 1, {1, 2, 3}, 2, 7};
  r.on_report(2, report(7, true, true, 5, 40));
  auto d = r.on_report(3, report(7, false, true, 5, 40));
  EXPECT_FALSE(d.restore);
  EXPECT_EQ(r.blocked_by(), node_id{3});
  EXPECT_EQ(r.unanswered(), std::vector<node_id>{3});  // asked again
  d = r.on_report(3, report(7, true, true, 6, 41));
  EXPECT_TRUE(d.restore);
  EXPECT_FALSE(r.blocked_by());
}

TEST(RepairRejoinTest, FreshMembersOfAClusterThatNeverVotedDoNotBlockEachOther) {
  // A staggered start: two members elected nobody yet (one promised the
  // other's ballot), three restarted before they decided. Nothing was ever
  // voted, so there is nothing a lost disk could have held but promises,
  // and no member that restarted holds a live candidacy.
  rejoin r{rejoin::mode::fresh, 3, {1, 2, 3, 4, 5}, 3, 7};
  r.on_report(1, report(7, true, true, 2, 0));
  r.on_report(2, report(7, true, false, 2, 0));
  r.on_report(4, report(7, false, false));
  auto d = r.on_report(5, report(7, false, false));
  ASSERT_TRUE(d.restore);
  EXPECT_EQ(d.restore->round, 2u);
  EXPECT_TRUE(r.on_commit(0));
  EXPECT_TRUE(r.may_promise());
}

TEST(RepairRejoinTest, AQuorumOfDamagedMembersRefusesOnceAnythingWasVoted) {
  rejoin r{rejoin::mode::repairing, 3, {1, 2, 3, 4, 5}, 3, 7};
  r.on_report(1, report(7, true, true, 2, 12));
  r.on_report(2, report(7, true, true, 2, 12));
  r.on_report(4, report(7, false, true));
  auto d = r.on_report(5, report(7, false, false));
  EXPECT_FALSE(d.restore);
  EXPECT_TRUE(r.blocked_by());
  // One of them came back whole: two lost of five is fewer than a quorum.
  d = r.on_report(4, report(7, true, true, 2, 12));
  EXPECT_FALSE(d.restore);  // still waiting for 5's answer again
  d = r.on_report(5, report(7, false, false));
  ASSERT_TRUE(d.restore);
  EXPECT_EQ(r.target(), 12u);
}

/// Runs a cluster with some commits, then crashes node 3 and wipes its disk.
struct RepairWipedFollowerTest : ::testing::Test {
  local_cluster c{3, amnesia_checked()};
  node_id l = 0;
  std::vector<std::string> before;

  void SetUp() override {
    l = *c.elect();
    for (std::uint64_t i = 1; i <= 10; ++i)
      c.propose(l, cmd(1, i));
    c.deliver();
    c.run(5);
    before = c.log(l);
    ASSERT_EQ(before.size(), 10u);
  }

  node_id other_follower() const {
    for (node_id id = 1; id <= 3; ++id)
      if (id != l && id != victim())
        return id;
    return 0;
  }
  node_id victim() const { return l == 3 ? 2 : 3; }
};

TEST_F(RepairWipedFollowerTest, ItNeitherPromisesNorVotesUntilRepairedThenCatchesUp) {
  auto v = victim();
  c.crash(v);
  c.wipe(v);
  std::size_t answers_while_repairing = 0;
  // No promise until it may promise; no ack (a leader counts acks towards
  // its quorum and its read rounds) until its promise is restored.
  c.on_ready = [&](node_id from, const ready& r) {
    if (from != v || c.node(v).repair().may_promise())
      return;
    for (auto& env : r.messages)
      if (std::holds_alternative<promise>(env.msg) ||
          (std::holds_alternative<heartbeat_ack>(env.msg) && !c.node(v).repair().may_accept()))
        ++answers_while_repairing;
  };
  c.restart(v);
  EXPECT_EQ(c.node(v).repair().current(), rejoin::mode::fresh);
  for (std::uint64_t i = 11; i <= 20; ++i)
    c.propose(l, cmd(1, i));
  c.run(40);
  EXPECT_EQ(answers_while_repairing, 0u);
  EXPECT_TRUE(c.node(v).repair().normal());
  EXPECT_EQ(c.log(v), c.log(l));
  EXPECT_EQ(c.log(v).size(), 20u);
  EXPECT_GE(c.node(v).promised(), c.node(l).promised());
  EXPECT_FALSE(c.disk(v).damaged);
}

TEST_F(RepairWipedFollowerTest, ItWaitsForEveryOtherMemberNotJustAQuorum) {
  auto v = victim();
  c.crash(v);
  c.wipe(v, true);
  c.restart(v);
  c.isolate(other_follower());
  c.run(60);
  EXPECT_EQ(c.node(v).repair().current(), rejoin::mode::repairing);
  EXPECT_FALSE(c.node(v).repair().may_accept());
  EXPECT_TRUE(c.disk(v).damaged);  // durable while it lasts
  c.heal();
  c.run(60);
  EXPECT_TRUE(c.node(v).repair().normal());
  EXPECT_FALSE(c.disk(v).damaged);
}

TEST_F(RepairWipedFollowerTest, TwoWipedMembersRefuseAndTheClusterDoesNotPretend) {
  auto v = victim();
  auto o = other_follower();
  c.crash(v);
  c.crash(o);
  c.wipe(v, true);
  c.wipe(o, true);
  c.restart(v);
  c.restart(o);
  c.run(100);
  EXPECT_FALSE(c.node(v).repair().normal());
  EXPECT_FALSE(c.node(o).repair().normal());
  EXPECT_EQ(c.node(v).repair().blocked_by(), o);
  // The intact member alone cannot commit: nothing new is acknowledged.
  auto replies = c.replies.size();
  if (c.node(l).is_leader()) {
    c.propose(l, cmd(2, 1));
    c.run(20);
    for (std::size_t i = replies; i < c.replies.size(); ++i)
      EXPECT_NE(c.replies[i].status, reply_status::ok);
  }
}

TEST(RepairClusterTest, ANewClusterOfFreshReplicasStarts) {
  local_cluster c{3, amnesia_checked()};
  auto l = c.elect();
  ASSERT_TRUE(l);
  c.propose(*l, cmd(1, 1));
  c.deliver();
  c.run(3);
  for (node_id id = 1; id <= 3; ++id) {
    EXPECT_TRUE(c.node(id).repair().normal()) << id;
    EXPECT_EQ(c.log(id).size(), 1u) << id;
  }
}

TEST(RepairClusterTest, ADamagedLeaderDiskRepairsToo) {
  local_cluster c{3, amnesia_checked()};
  auto l = *c.elect();
  for (std::uint64_t i = 1; i <= 5; ++i)
    c.propose(l, cmd(1, i));
  c.deliver();
  c.run(3);
  auto promised = c.node(l).promised();
  c.crash(l);
  c.wipe(l, true);
  auto l2 = c.elect();
  ASSERT_TRUE(l2);
  c.restart(l);
  c.propose(*l2, cmd(1, 6));
  c.run(60);
  EXPECT_TRUE(c.node(l).repair().normal());
  EXPECT_EQ(c.log(l), c.log(*l2));
  EXPECT_GT(c.node(l).promised(), promised);
}

}  // namespace
