// Membership as replicated state (actors/paxos/membership.hpp and
// RECONFIGURATION.md): the alpha-window, validation at apply time, ids never
// reused, snapshots that carry the epochs; and a replica cluster that adds,
// promotes and removes members.
#include <gtest/gtest.h>

#include "actors/paxos/learner.hpp"
#include "actors/paxos/membership.hpp"
#include "tests/support/local_cluster.hpp"

namespace {

using namespace ballot::paxos;
using ballot::testing::local_cluster;

configuration three() {
  configuration c;
  for (node_id id = 1; id <= 3; ++id)
    c.members.push_back(
      {id, "p" + std::to_string(id) + ":1", "c" + std::to_string(id) + ":1", member_role::voter});
  c.next_id = 4;
  return c;
}

member_change add(const std::string& host) {
  return {member_change::kind::add_learner, 0, host + ":7000", host + ":7100"};
}
member_change promote(node_id id) {
  return {member_change::kind::promote, id, {}, {}};
}
member_change remove(node_id id) {
  return {member_change::kind::remove, id, {}, {}};
}

TEST(MembershipTest, AChangeGovernsSlotsFromItsSlotPlusAlpha) {
  membership m{4, three()};
  EXPECT_EQ(m.apply(10, add("h4")), "ok 4");
  EXPECT_EQ(m.apply(11, promote(4)), "ok 4");
  for (slot_index s = 1; s <= 13; ++s)
    EXPECT_EQ(m.at(s).members.size(), 3u) << "slot " << s;
  EXPECT_EQ(m.at(14).members.size(), 4u);
  EXPECT_FALSE(m.at(14).is_voter(4));  // added in 10, a learner from 14
  EXPECT_TRUE(m.at(15).is_voter(4));   // promoted in 11, a voter from 15
  EXPECT_EQ(m.at(15).quorum(), 3u);
  EXPECT_EQ(m.same_voters_until(1), 14u);
  EXPECT_EQ(m.latest(), m.at(1000));
}

TEST(MembershipTest, IdsAreNeverReused) {
  membership m{1, three()};
  EXPECT_EQ(m.apply(1, add("h4")), "ok 4");
  EXPECT_EQ(m.apply(2, remove(4)), "ok 4");
  EXPECT_EQ(m.apply(3, add("h5")), "ok 5");
  EXPECT_EQ(m.latest().next_id, 6u);
}

TEST(MembershipTest, RefusalsAreDecidedWhenTheChangeApplies) {
  membership m{1, three()};
  EXPECT_EQ(m.apply(1, promote(2)), "refused: member 2 is a voter already");
  EXPECT_EQ(m.apply(2, promote(9)), "refused: no member 9");
  EXPECT_EQ(m.apply(3, remove(9)), "refused: no member 9");
  EXPECT_EQ(m.apply(4, add("p1")).rfind("refused:", 0), std::string::npos);
  member_change dup{member_change::kind::add_learner, 0, "p1:1", "other:1"};
  EXPECT_EQ(m.apply(5, dup), "refused: member 1 has that address already");
  EXPECT_EQ(m.apply(6, remove(1)), "ok 1");
  EXPECT_EQ(m.apply(7, remove(2)), "ok 2");
  EXPECT_EQ(m.apply(8, remove(3)), "refused: member 3 is the last voter");
  EXPECT_EQ(m.latest().voters(), std::vector<node_id>{3});
}

member_change with_token(member_change c, std::uint64_t token) {
  c.token = token;
  return c;
}

TEST(MembershipTest, ARetriedChangeAnswersAsItsFirstTryAndChangesNothing) {
  membership m{1, three()};
  auto a = with_token(add("h4"), 11);
  EXPECT_EQ(m.apply(1, a), "ok 4");
  EXPECT_EQ(m.apply(2, a), "ok 4");  // not "has that address already"
  EXPECT_EQ(m.latest().members.size(), 4u);
  EXPECT_EQ(m.latest().next_id, 5u);
  auto r = with_token(remove(2), 12);
  EXPECT_EQ(m.apply(3, r), "ok 2");
  auto epochs = m.epochs();
  EXPECT_EQ(m.apply(4, r), "ok 2");  // not "no member 2"
  EXPECT_EQ(m.epochs(), epochs);
  // Another change (another token, or none) is checked as before.
  EXPECT_EQ(m.apply(5, with_token(remove(2), 13)), "refused: no member 2");
  EXPECT_EQ(m.apply(6, remove(2)), "refused: no member 2");
  // A refusal is remembered as well: its retry never applies later.
  auto p = with_token(promote(4), 14);
  EXPECT_EQ(m.apply(7, with_token(remove(3), 15)), "ok 3");
  EXPECT_EQ(m.apply(8, with_token(remove(1), 16)), "refused: member 1 is the last voter");
  EXPECT_EQ(m.apply(9, with_token(remove(1), 16)), "refused: member 1 is the last voter");
  EXPECT_EQ(m.apply(10, p), "ok 4");
  // The tokens outlive a snapshot.
  auto back = membership::decode(1, m.encode());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->epochs(), m.epochs());
  EXPECT_EQ(back->apply(11, r), "ok 2");
  EXPECT_EQ(back->apply(12, p), "ok 4");
  // Only the last `remembered_changes` are kept.
  for (std::uint64_t t = 100; t < 100 + membership::remembered_changes; ++t)
    EXPECT_EQ(m.apply(20 + t, with_token(promote(9), t)), "refused: no member 9");
  EXPECT_EQ(m.apply(500, a), "refused: member 4 has that address already");
}

TEST(MembershipTest, ATokenThatNamedAnotherChangeIsRefusedAndChangesNothing) {
  membership m{1, three()};
  EXPECT_EQ(m.apply(1, with_token(remove(2), 21)), "ok 2");
  auto epochs = m.epochs();
  // The same token for another change: neither the first's answer nor a
  // change of its own, before or after a snapshot.
  EXPECT_EQ(m.apply(2, with_token(remove(3), 21)), "refused: token 21 named another change");
  EXPECT_EQ(m.apply(3, with_token(add("h4"), 21)), "refused: token 21 named another change");
  EXPECT_EQ(m.epochs(), epochs);
  auto back = membership::decode(1, m.encode());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->apply(4, with_token(remove(3), 21)), "refused: token 21 named another change");
  EXPECT_EQ(back->apply(5, with_token(remove(2), 21)), "ok 2");
  EXPECT_EQ(back->epochs(), epochs);
}

TEST(MembershipTest, AChangesTokenTravelsInItsPayloadAndIsChecked) {
  auto c = with_token(add("h4"), 18446744073709551615ull);
  auto back = decode_change(encode(c));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->token, c.token);
  EXPECT_EQ(back->peer, c.peer);
  EXPECT_EQ(back->client, c.client);
  auto r = decode_change(encode(with_token(remove(7), 3)));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, 7u);
  EXPECT_EQ(r->token, 3u);
  // A change logged before tokens existed has none.
  auto old = decode_change("member|promote|4");
  ASSERT_TRUE(old);
  EXPECT_EQ(old->token, 0u);
  for (std::string bad : {"member|promote|4|token=0", "member|promote|4|token=x",
                          "member|promote|4|token=18446744073709551616", "member|promote|token=5",
                          "member|remove|4|token=5|token=6"})
    EXPECT_FALSE(decode_change(bad)) << bad;
  // Remembered tokens in a snapshot are bounded and well formed.
  std::string base = membership{1, three()}.encode();
  EXPECT_TRUE(membership::decode(1, base + "T member|remove|4|token=5 ok 4\n"));
  EXPECT_FALSE(membership::decode(1, base + "T member|remove|4 ok 4\n"));  // no token
  EXPECT_FALSE(membership::decode(1, base + "T member|remove|4|token=0 ok 4\n"));
  EXPECT_FALSE(membership::decode(1, base + "T member|remove|x|token=5 ok 4\n"));
  EXPECT_FALSE(membership::decode(1, base + "T member|remove|4|token=5\n"));
  EXPECT_FALSE(
    membership::decode(1, base + "T member|remove|4|token=5 " + std::string(300, 'r') + "\n"));
  std::string many = base;
  for (std::size_t t = 1; t <= membership::remembered_changes + 1; ++t)
    many += "T member|remove|4|token=" + std::to_string(t) + " ok 4\n";
  EXPECT_FALSE(membership::decode(1, many));
}

TEST(MembershipTest, PruneKeepsTheEpochOfTheNextSlotAndLaterOnes) {
  membership m{2, three()};
  m.apply(5, add("h4"));   // from 7
  m.apply(20, remove(1));  // from 22
  m.prune(10);
  EXPECT_EQ(m.epochs().size(), 2u);
  EXPECT_EQ(m.at(11).members.size(), 4u);
  EXPECT_EQ(m.at(22).members.size(), 3u);
  m.prune(21);
  EXPECT_EQ(m.epochs().size(), 1u);
}

TEST(MembershipTest, EncodesAndDecodesTheEpochs) {
  membership m{3, three()};
  m.apply(1, add("h4"));
  m.apply(2, promote(4));
  auto back = membership::decode(3, m.encode());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->epochs(), m.epochs());
  // Addresses may be unknown (a cluster bootstrapped from ids only).
  configuration bare;
  bare.members.push_back({1, {}, {}, member_role::voter});
  auto bare_back = membership::decode(3, membership{3, bare}.encode());
  ASSERT_TRUE(bare_back);
  EXPECT_EQ(bare_back->latest().members, bare.members);
  for (std::string bad : {"", "E 1 2\nM x v a:1 b:1\n", "E 1 2\nM 1 q a:1 b:1\n", "M 1 v a b\n",
                          "E 1 2\n", "E 1 2\nM 1 l a:1 b:1\n", "E 1 2 3\n"})
    EXPECT_FALSE(membership::decode(3, bad)) << bad;
}

TEST(MembershipTest, ChangePayloadsRoundTripAndStrangeOnesAreRefused) {
  for (const auto& c : {add("h"), promote(7), remove(3)}) {
    auto back = decode_change(encode(c));
    ASSERT_TRUE(back);
    EXPECT_EQ(encode(*back), encode(c));
  }
  for (std::string bad :
       {"member|promote|0", "member|promote|x", "member|remove|99999999999", "member|add|a b:1|c:1",
        "member|add|a:1", "member|drop|1", "put|k|v", "member|add||c:1"})
    EXPECT_FALSE(decode_change(bad)) << bad;
  EXPECT_FALSE(valid_address(std::string(300, 'a')));
}

/// A state machine that records what reached it.
struct recorder : state_machine {
  std::vector<std::string> log;
  std::string apply(const std::string& p) override {
    log.push_back(p);
    return "r";
  }
  std::optional<std::string> snapshot() const override { return std::string{}; }
};

TEST(MembershipTest, TheLearnerAppliesChangesToTheMembershipAndSnapshotsCarryIt) {
  recorder sm;
  learner l{durable_state{}, sm, 64, 0, 0, membership{2, three()}};
  ready out;
  std::vector<learner::applied> done;
  l.learn(1, value{{command{membership_client, 1, encode(add("h4"))}}}, out, done);
  l.learn(2, value{{command{5, 1, "put"}}}, out, done);
  EXPECT_EQ(sm.log, std::vector<std::string>{"put"});  // the change never reached it
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].result, "ok 4");
  EXPECT_EQ(l.members().latest().members.size(), 4u);
  auto snap = l.make_snapshot();
  ASSERT_TRUE(snap);
  // A replica that installs it (a learner catching up) has the members.
  recorder other_sm;
  learner other{durable_state{}, other_sm, 64, 0, 0, membership{2, three()}};
  ASSERT_TRUE(other.install(*snap, done));
  EXPECT_EQ(other.members().epochs(), l.members().epochs());
  // A snapshot from before membership was replicated keeps the bootstrap one.
  durable_state old;
  old.snap = snapshot{7, "", {}, ""};
  learner restored{old, other_sm, 64, 0, 0, membership{2, three()}};
  EXPECT_EQ(restored.members().latest(), three());
}

command put(std::uint64_t client, std::uint64_t seq) {
  return command{client, seq, "c" + std::to_string(client) + "." + std::to_string(seq)};
}

/// The last reply to a membership change.
std::string change_result(local_cluster& c, std::uint64_t seq) {
  for (auto it = c.replies.rbegin(); it != c.replies.rend(); ++it)
    if (it->client == membership_client && it->seq == seq)
      return name_of(it->status) + std::string(" ") + it->result;
  return "no reply";
}

config small_alpha() {
  config cfg;
  cfg.alpha = 3;
  cfg.promote_max_lag = 5;
  return cfg;
}

TEST(MembershipReplicaTest, ReplaceAVoterWithALearnerThatCatchesUp) {
  local_cluster c{3, small_alpha()};
  auto l = *c.elect();
  for (std::uint64_t i = 1; i <= 10; ++i)
    c.propose(l, put(1, i));
  c.deliver();
  c.change(l, 1, add("h4"));
  c.deliver();
  c.run(3);
  EXPECT_EQ(change_result(c, 1), "ok ok 4");
  c.join(4);
  c.run(20);
  EXPECT_FALSE(c.node(4).voter());
  EXPECT_EQ(c.log(4), c.log(l));  // a learner learns everything
  c.change(*c.leader(), 2, promote(4));
  c.deliver();
  c.run(10);
  EXPECT_EQ(change_result(c, 2), "ok ok 4");
  EXPECT_TRUE(c.node(4).voter());
  node_id gone = l % 3 + 1;  // a follower
  c.change(*c.leader(), 3, remove(gone));
  c.deliver();
  c.run(20);
  EXPECT_EQ(change_result(c, 3), "ok ok " + std::to_string(gone));
  EXPECT_TRUE(c.node(gone).removed());
  c.crash(gone);
  auto now = *c.elect();
  c.propose(now, put(2, 1));
  c.deliver();
  c.run(5);
  for (node_id id = 1; id <= 4; ++id) {
    if (id != gone) {
      EXPECT_EQ(c.log(id), c.log(now)) << "node " << id;
    }
  }
  EXPECT_EQ(c.log(now).back(), "c2.1");
}

TEST(MembershipReplicaTest, ALeaderThatRemovesItselfStepsDownAndAnotherLeads) {
  local_cluster c{3, small_alpha()};
  auto l = *c.elect();
  c.change(l, 1, remove(l));
  c.deliver();
  c.run(10);
  EXPECT_TRUE(c.node(l).removed());
  EXPECT_FALSE(c.node(l).is_leader());
  auto now = c.elect();
  ASSERT_TRUE(now);
  EXPECT_NE(*now, l);
  EXPECT_EQ(c.node(*now).members().latest().voters().size(), 2u);
}

// Seeds 13477 and 32987 of the simulator: a leader whose removal the others
// chose without it. They drop a non-member's messages and never tell it, so
// only its own doubt can end its leadership: hearing from no quorum for a
// window, it steps down (quorum_contact), and a candidacy that wins nothing
// asks a peer what it missed, which tells it it was removed.
TEST(MembershipReplicaTest, ALeaderRemovedBehindItsBackStepsDownAndLearnsItWasRemoved) {
  local_cluster c{3, small_alpha()};
  auto l = *c.elect();
  c.change(l, 1, remove(l));
  // The followers vote for its removal, but their votes never reach it...
  c.drop_if = [l](const envelope& e) { return e.to == l; };
  c.deliver();
  // ...and then it is cut off: the others elect a leader, which chooses
  // the removal and enough slots after it that it takes effect.
  c.drop_if = nullptr;
  c.isolate(l);
  auto now = c.elect();
  ASSERT_TRUE(now);
  for (std::uint64_t i = 1; i <= 6; ++i) {
    c.propose(*c.leader(), put(1, i));
    c.run(2);
  }
  for (node_id id = 1; id <= 3; ++id) {
    if (id != l) {
      ASSERT_FALSE(c.node(id).members().latest().find(l)) << "node " << id;
    }
  }
  EXPECT_FALSE(c.node(l).removed());
  c.heal();
  c.run(80);
  EXPECT_TRUE(c.node(l).removed());
  EXPECT_FALSE(c.node(l).is_leader());
  EXPECT_EQ(c.log(l).size(), c.log(*c.leader()).size());
}

TEST(MembershipReplicaTest, PromoteIsRefusedWhileTheLearnerLags) {
  local_cluster c{3, small_alpha()};
  auto l = *c.elect();
  c.change(l, 1, add("h4"));
  c.deliver();
  c.run(3);
  c.join(4);
  c.isolate(4);
  for (std::uint64_t i = 1; i <= 20; ++i) {
    c.propose(l, put(1, i));
    c.deliver();
  }
  c.run(3);
  c.change(l, 2, promote(4));
  c.deliver();
  EXPECT_NE(change_result(c, 2).find("behind (at most 5)"), std::string::npos)
    << change_result(c, 2);
  EXPECT_FALSE(c.node(l).members().latest().is_voter(4));
  c.heal();
  c.run(20);
  c.change(l, 3, promote(4));
  c.deliver();
  c.run(5);
  EXPECT_EQ(change_result(c, 3), "ok ok 4");
}

/// Asks `at` for `change` under `token`, lets the cluster run, and returns
/// the newest answer to it.
std::string asked(local_cluster& c, node_id at, std::uint64_t token, const member_change& change) {
  c.change(at, token, change);
  c.deliver();
  c.run(3);
  return change_result(c, token);
}

TEST(MembershipReplicaTest, ARetryOfAnAppliedChangeIsAnsweredAsTheFirstTry) {
  local_cluster c{3, small_alpha()};
  auto l = *c.elect();
  EXPECT_EQ(asked(c, l, 7, add("h4")), "ok ok 4");
  // The answer was lost; the asker retries with the change's token.
  c.replies.clear();
  EXPECT_EQ(asked(c, l, 7, add("h4")), "ok ok 4");  // not "has that address already"
  EXPECT_EQ(c.node(l).members().latest().members.size(), 4u);
  EXPECT_EQ(c.node(l).members().latest().next_id, 5u);
  // Another change is checked as before; one without a token is refused.
  EXPECT_EQ(asked(c, l, 8, add("h4")), "ok refused: member 4 has that address already");
  EXPECT_EQ(asked(c, l, 0, add("h5")), "invalid refused: a membership change needs a token");
}

TEST(MembershipReplicaTest, ClientsCannotSendMembershipCommands) {
  local_cluster c{3};
  auto l = *c.elect();
  c.propose(l, command{membership_client, 1, encode(remove(1))});
  ASSERT_FALSE(c.replies.empty());
  EXPECT_EQ(c.replies.back().status, reply_status::invalid);
  c.change(l % 3 + 1, 1, remove(1));
  EXPECT_EQ(change_result(c, 1), "not_leader ");
}

}  // namespace
