// What the core refuses from the network (input_check): a buggy or
// compromised member, or corrupt bytes, cannot wedge elections or the log
// with one message, and legitimate traffic passes as before.
#include <gtest/gtest.h>

#include <cstdint>

#include "actors/paxos/input_check.hpp"
#include "tests/support/local_cluster.hpp"

namespace {

using namespace ballot::paxos;
using ballot::testing::local_cluster;

constexpr std::uint64_t max_u64 = UINT64_MAX;
constexpr std::uint64_t ceiling = std::uint64_t{1} << 62;

command cmd(std::uint64_t seq) {
  return command{1, seq, "c" + std::to_string(seq)};
}

/// Proposes `seq` at `leader` and expects it committed on every live node.
void expect_commits(local_cluster& c, node_id leader, std::uint64_t seq) {
  auto before = c.replies.size();
  c.propose(leader, cmd(seq));
  c.deliver();
  c.run(5);
  ASSERT_GT(c.replies.size(), before);
  EXPECT_EQ(c.replies.back().seq, seq);
  EXPECT_EQ(c.replies.back().status, reply_status::ok);
}

value val(const std::string& s) {
  return value{{command{9, 1, s}}};
}

/// The two members other than `forger`, the victims of its messages.
std::vector<node_id> others(node_id forger) {
  std::vector<node_id> out;
  for (node_id id = 1; id <= 3; ++id)
    if (id != forger)
      out.push_back(id);
  return out;
}

/// A forged message of each kind that names a ballot: prepare, accept and
/// heartbeat at an extreme round, given to 2 of 3 replicas. Each is dropped
/// and counted, no promise moves, and after the leader dies the other two
/// elect a leader and commit.
void forge_and_recover(const std::function<message(std::uint64_t round, node_id forger)>& forge) {
  for (std::uint64_t round : {max_u64, max_u64 - 1, ceiling + 1, ceiling}) {
    SCOPED_TRACE("round " + std::to_string(round));
    local_cluster c{3};
    auto l = *c.elect();
    expect_commits(c, l, 1);
    node_id forger = l % 3 + 1;
    for (auto to : others(forger)) {
      auto promised = c.node(to).promised();
      c.inject(envelope{forger, to, forge(round, forger)});
      EXPECT_EQ(c.node(to).rejected().count(input_fault::round_too_high), 1u);
      EXPECT_EQ(c.node(to).promised(), promised);
      EXPECT_EQ(c.disk(to).promised, promised);
    }
    c.crash(l);
    auto next = c.elect();
    ASSERT_TRUE(next);
    expect_commits(c, *next, 2);
    c.restart(l);
    c.run(30);
    EXPECT_EQ(c.log(l), c.log(*next));
    EXPECT_LT(c.node(*next).known_round(), 100u);
  }
}

TEST(ForgedBallotTest, MaximalPrepareToTwoOfThreeDoesNotPreventElections) {
  forge_and_recover([](std::uint64_t round, node_id forger) -> message {
    return prepare{{round, forger}, 1};
  });
}

TEST(ForgedBallotTest, MaximalAcceptToTwoOfThreeDoesNotPreventElections) {
  forge_and_recover([](std::uint64_t round, node_id forger) -> message {
    return accept{{round, forger}, 2, val("forged"), 0};
  });
}

TEST(ForgedBallotTest, MaximalHeartbeatToTwoOfThreeDoesNotPreventElections) {
  forge_and_recover([](std::uint64_t round, node_id forger) -> message {
    return heartbeat{{round, forger}, max_u64, 0};
  });
}

// The window: a round more than `round_lead` past the highest one a replica
// knows is refused, one within it is taken (a member that ran ahead alone
// during a partition is followed).
TEST(ForgedBallotTest, RoundsBeyondTheLeadAreRefusedAndWithinItTaken) {
  local_cluster c{3};
  auto l = *c.elect();
  node_id f = l % 3 + 1, g = f % 3 + 1;
  auto known = c.node(f).known_round();
  c.inject(envelope{g, f, prepare{{known + (std::uint64_t{1} << 32) + 1, g}, 1}});
  EXPECT_EQ(c.node(f).rejected().count(input_fault::round_too_high), 1u);
  c.inject(envelope{g, f, prepare{{known + (std::uint64_t{1} << 32), g}, 1}});
  EXPECT_EQ(c.node(f).rejected().total(), 1u);
  EXPECT_EQ(c.node(f).promised().round, known + (std::uint64_t{1} << 32));
}

// Round arithmetic never wraps: a new candidacy saturates at the ceiling,
// also on a disk that holds a promise above it (from before these checks).
TEST(ForgedBallotTest, RoundArithmeticSaturatesAtTheCeiling) {
  config cfg;
  EXPECT_EQ(next_round(0, cfg), 1u);
  EXPECT_EQ(next_round(ceiling - 1, cfg), ceiling);
  EXPECT_EQ(next_round(ceiling, cfg), ceiling);
  EXPECT_EQ(next_round(max_u64, cfg), ceiling);

  // A member ratcheting the round up by the whole lead with every message
  // reaches the ceiling, never past it, and candidacies stay at it.
  config small;
  small.max_round = 50;
  small.round_lead = 10;
  local_cluster c{3, small};
  auto l = *c.elect();
  node_id forger = l % 3 + 1;
  for (int i = 0; i < 20; ++i)
    for (auto to : others(forger))
      c.inject(
        envelope{forger, to,
                 prepare{{std::min<std::uint64_t>(c.node(to).known_round() + 10, 50), forger}, 1}});
  for (auto to : others(forger))
    EXPECT_EQ(c.node(to).known_round(), 50u) << "node " << to;
  c.run(200);
  for (node_id id = 1; id <= 3; ++id) {
    EXPECT_LE(c.node(id).known_round(), 50u) << "node " << id;
    EXPECT_GE(c.node(id).promised().round, 1u) << "node " << id;
    EXPECT_LE(c.node(id).promised().round, 50u) << "node " << id;
  }
}

TEST(ForgedBallotTest, BallotsNamingTheWrongMemberAreDropped) {
  local_cluster c{3};
  auto l = *c.elect();
  node_id f = l % 3 + 1, g = f % 3 + 1;
  auto b = c.node(f).promised();
  // A prepare, accept or heartbeat carries its sender's own ballot.
  c.inject(envelope{g, f, prepare{{b.round + 1, l}, 1}});
  c.inject(envelope{g, f, heartbeat{{b.round + 1, 0}, 0, 0}});
  c.inject(envelope{g, f, accept{{b.round + 1, 77}, 1, val("x"), 0}});
  // An answer names this replica's ballot; a reported promise, a member.
  c.inject(envelope{g, f, accepted{{b.round, g}, 1}});
  c.inject(envelope{g, f, reject{{b.round, f}, {b.round + 1, 77}}});
  EXPECT_EQ(c.node(f).rejected().count(input_fault::bad_ballot_node), 5u);
  EXPECT_EQ(c.node(f).promised(), b);
  EXPECT_EQ(c.node(f).leader_hint(), l);
  expect_commits(c, l, 1);
}

TEST(ForgedSlotTest, HugeAcceptSlotsAreDroppedWithoutAVote) {
  local_cluster c{3};
  auto l = *c.elect();
  expect_commits(c, l, 1);
  node_id f = l % 3 + 1;
  auto b = c.node(l).promised();
  auto commit = c.node(f).commit_index();
  for (slot_index s : {max_u64, max_u64 - 1, ceiling + 1, commit + (1u << 16) + 1})
    c.inject(envelope{l, f, accept{b, s, val("far"), 0}});
  c.inject(envelope{l, f, accept{b, 0, val("zero"), 0}});
  c.inject(envelope{l, f, accept{b, commit + 1, val("x"), max_u64}});
  EXPECT_EQ(c.node(f).rejected().count(input_fault::slot_too_high), 4u);
  EXPECT_EQ(c.node(f).rejected().count(input_fault::slot_far_ahead), 1u);
  EXPECT_EQ(c.node(f).rejected().count(input_fault::slot_zero), 1u);
  for (auto& [slot, vote] : c.disk(f).accepted)
    EXPECT_LE(slot, commit) << "a vote for a forged slot";
  expect_commits(c, l, 2);
  EXPECT_EQ(c.log(f), c.log(l));
}

TEST(ForgedSlotTest, PromisesWithFarOrInconsistentVotesAreDropped) {
  local_cluster c{3};
  auto l = *c.elect();
  node_id f = l % 3 + 1;
  auto mine = c.node(l).promised();
  auto entry = [](slot_index s, ballot_number b) { return promise_entry{s, b, {}, false}; };
  // Far past what it covers: the new leader would fill every slot up to it.
  c.inject(envelope{f, l, promise{mine, {entry(std::uint64_t{1} << 40, {1, f})}, 0, 0}});
  c.inject(envelope{f, l, promise{mine, {entry(3, {1, f})}, max_u64, 0}});
  c.inject(envelope{f, l, promise{mine, {entry(0, {1, f})}, 0, 0}});
  // Out of order, or a vote above the promise that carries it.
  c.inject(envelope{f, l, promise{mine, {entry(5, {1, f}), entry(4, {1, f})}, 0, 0}});
  c.inject(envelope{f, l, promise{mine, {entry(5, {mine.round + 1, f})}, 0, 0}});
  c.inject(envelope{f, l, promise{mine, {entry(5, {1, 42})}, 0, 0}});
  auto& r = c.node(l).rejected();
  EXPECT_EQ(r.count(input_fault::slot_far_ahead), 1u);
  EXPECT_EQ(r.count(input_fault::slot_too_high), 1u);
  EXPECT_EQ(r.count(input_fault::slot_zero), 1u);
  EXPECT_EQ(r.count(input_fault::inconsistent), 2u);
  EXPECT_EQ(r.count(input_fault::bad_ballot_node), 1u);
  EXPECT_TRUE(c.node(l).is_leader());
}

TEST(ForgedSlotTest, CatchupSnapshotAndReportsBeyondTheCeilingAreDropped) {
  local_cluster c{3};
  auto l = *c.elect();
  expect_commits(c, l, 1);
  node_id f = l % 3 + 1;
  auto commit = c.node(f).commit_index();
  c.inject(envelope{l, f, catchup_request{0}});
  c.inject(envelope{l, f, catchup_request{max_u64}});
  c.inject(envelope{l, f, catchup_reply{{{max_u64, val("a")}}}});
  c.inject(envelope{l, f, catchup_reply{{{commit + 1, val("a")}, {commit + 3, val("b")}}}});
  snapshot snap;
  snap.last = max_u64;
  c.inject(envelope{l, f, install_snapshot{snap}});
  snap.last = 0;
  c.inject(envelope{l, f, install_snapshot{snap}});
  state_report rep;
  rep.highest = max_u64;
  c.inject(envelope{l, f, rep});
  rep.highest = 1;
  rep.promised = {max_u64, l};
  c.inject(envelope{l, f, rep});
  auto& r = c.node(f).rejected();
  EXPECT_EQ(r.count(input_fault::slot_zero), 2u);
  EXPECT_EQ(r.count(input_fault::slot_too_high), 4u);
  EXPECT_EQ(r.count(input_fault::inconsistent), 1u);
  EXPECT_EQ(r.count(input_fault::round_too_high), 1u);
  EXPECT_EQ(c.node(f).commit_index(), commit);
  EXPECT_TRUE(c.disk(f).chosen.count(max_u64) == 0);
  expect_commits(c, l, 2);
  EXPECT_EQ(c.log(f), c.log(l));
}

// Legitimate traffic: a voter that fell further behind than `slot_lead`
// catches up from the leader, then votes again (here its vote is needed).
TEST(ForgedSlotTest, LaggingVoterCatchesUpThenVotes) {
  config cfg;
  cfg.slot_lead = 4;
  local_cluster c{3, cfg};
  auto l = *c.elect();
  node_id f = l % 3 + 1, g = f % 3 + 1;
  // f hears the leader's heartbeats (so it does not stand) but no values.
  c.drop_if = [&](const envelope& e) {
    return e.to == f && !std::holds_alternative<heartbeat>(e.msg);
  };
  for (std::uint64_t seq = 1; seq <= 12; ++seq)
    expect_commits(c, l, seq);
  ASSERT_EQ(c.node(f).commit_index(), 0u);
  c.drop_if = nullptr;
  c.crash(g);
  c.propose(l, cmd(13));
  c.run(60);
  ASSERT_FALSE(c.replies.empty());
  EXPECT_EQ(c.replies.back().seq, 13u);
  EXPECT_EQ(c.replies.back().status, reply_status::ok);
  EXPECT_TRUE(c.node(l).is_leader());
  EXPECT_EQ(c.log(f), c.log(l));
  // Its accepts too far ahead were set aside under a reason of their own.
  auto& r = c.node(f).rejected();
  EXPECT_EQ(r.total(), r.count(input_fault::slot_far_ahead));
  EXPECT_EQ(c.log(l).size(), 13u);
}

TEST(ForgedSenderTest, NonMembersAndSelfAreDropped) {
  local_cluster c{3};
  auto l = *c.elect();
  node_id f = l % 3 + 1;
  auto b = c.node(f).promised();
  c.inject(envelope{99, f, heartbeat{{b.round + 1, 99}, 0, 0}});
  c.inject(envelope{0, f, prepare{{b.round + 1, 0}, 1}});
  c.inject(envelope{f, f, prepare{{b.round + 1, f}, 1}});
  c.inject(envelope{f, f, heartbeat{{b.round + 1, f}, 0, 0}});
  c.inject(envelope{f, f, catchup_reply{{{1, val("self")}}}});
  auto& r = c.node(f).rejected();
  EXPECT_EQ(r.count(input_fault::bad_sender), 5u);
  EXPECT_EQ(r.total(), 5u);
  EXPECT_EQ(*r.last, input_fault::bad_sender);
  EXPECT_EQ(r.last_from, f);
  EXPECT_EQ(c.node(f).promised(), b);
  EXPECT_EQ(c.node(f).leader_hint(), l);
  expect_commits(c, l, 1);
  for (node_id id = 1; id <= 3; ++id) {
    if (id != f) {
      EXPECT_EQ(c.node(id).rejected().total(), 0u) << "legitimate traffic refused at " << id;
    }
  }
}

// The messages a replica takes from itself: its own vote and its own promise,
// handed back by the driver once durable. A single-member group is elected
// and commits through them.
TEST(ForgedSenderTest, OwnVoteFromTheDriverIsTaken) {
  local_cluster c{1};
  auto l = *c.elect();
  expect_commits(c, l, 1);
  EXPECT_EQ(c.node(l).rejected().total(), 0u);
}

}  // namespace
