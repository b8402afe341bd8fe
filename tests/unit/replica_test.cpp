// The replica as a whole: election, failure detection, recovery by a new
// leader, catch-up, restart and exactly-once, on an instant in-memory network.
#include <gtest/gtest.h>

#include <set>

#include "tests/support/local_cluster.hpp"

namespace {

using namespace ballot::paxos;
using ballot::testing::local_cluster;

command cmd(std::uint64_t client, std::uint64_t seq) {
  return command{client, seq, "c" + std::to_string(client) + "." + std::to_string(seq)};
}

TEST(ReplicaTest, NoLeaderBeforeAnElectionTimeout) {
  local_cluster c{3};
  c.run(5);  // below election_timeout_min
  EXPECT_FALSE(c.leader());
}

TEST(ReplicaTest, ElectsExactlyOneLeader) {
  local_cluster c{5};
  auto l = c.elect();
  ASSERT_TRUE(l);
  c.run(50);
  int leaders = 0;
  for (node_id id = 1; id <= 5; ++id) {
    leaders += c.node(id).is_leader() ? 1 : 0;
    EXPECT_EQ(c.node(id).leader_hint(), l) << "node " << id;
  }
  EXPECT_EQ(leaders, 1);
}

TEST(ReplicaTest, FollowerAnswersNotLeaderWithHint) {
  local_cluster c{3};
  auto l = *c.elect();
  node_id f = l % 3 + 1;
  c.propose(f, cmd(1, 1));
  ASSERT_EQ(c.replies.size(), 1u);
  EXPECT_EQ(c.replies[0].status, reply_status::not_leader);
  EXPECT_EQ(c.replies[0].leader_hint, l);
}

TEST(ReplicaTest, CommandsCommitInTheSameOrderEverywhere) {
  local_cluster c{3};
  auto l = *c.elect();
  for (std::uint64_t i = 1; i <= 20; ++i)
    c.propose(l, cmd(i % 3, i));
  c.deliver();
  c.run(3);
  ASSERT_EQ(c.log(l).size(), 20u);
  for (node_id id = 1; id <= 3; ++id)
    EXPECT_EQ(c.log(id), c.log(l)) << "node " << id;
  ASSERT_EQ(c.replies.size(), 20u);
  EXPECT_EQ(c.replies.back().status, reply_status::ok);
}

TEST(ReplicaTest, TheLeaderSendsEachCommandWithItsFingerprint) {
  local_cluster c{3};
  std::size_t checked = 0;
  c.on_ready = [&](node_id, const ready& r) {
    for (auto& env : r.messages)
      if (auto* a = std::get_if<accept>(&env.msg))
        for (auto& sent : a->val.commands) {
          EXPECT_EQ(sent.fingerprint,
                    state_machine::fingerprint_bytes(sent.payload.data(), sent.payload.size()));
          ++checked;
        }
  };
  auto l = *c.elect();
  // Whatever a forwarding member claims is replaced by the leader's own.
  auto forged = cmd(1, 1);
  forged.fingerprint = 12345;
  c.propose(l, forged);
  c.deliver();
  EXPECT_GE(checked, 2u);
}

TEST(ReplicaTest, PersistsVotesBeforeAnsweringInTheSameReady) {
  local_cluster c{3};
  std::size_t checked = 0;
  c.on_ready = [&](node_id, const ready& r) {
    for (auto& env : r.messages) {
      if (auto* a = std::get_if<accepted>(&env.msg)) {
        bool persisted = false;
        for (auto& [slot, vote] : r.accepted)
          persisted |= slot == a->slot && vote.ballot == a->ballot;
        EXPECT_TRUE(persisted) << "accepted for slot " << a->slot << " sent without its vote";
        ++checked;
      }
      if (auto* p = std::get_if<promise>(&env.msg)) {
        EXPECT_TRUE(r.promised && *r.promised == p->ballot) << "promise sent without persisting";
      }
    }
  };
  auto l = *c.elect();
  c.propose(l, cmd(1, 1));
  c.deliver();
  EXPECT_GE(checked, 2u);
}

TEST(ReplicaTest, DeposedLeaderStepsDownAndFailsItsPendingCommands) {
  local_cluster c{3};
  auto old = *c.elect();
  c.isolate(old);
  c.propose(old, cmd(1, 1));  // cannot commit: no quorum
  auto fresh = c.elect();
  ASSERT_TRUE(fresh);
  ASSERT_NE(*fresh, old);
  c.heal();
  c.run(10);
  EXPECT_FALSE(c.node(old).is_leader());
  EXPECT_EQ(c.node(old).leader_hint(), fresh);
  ASSERT_FALSE(c.replies.empty());
  EXPECT_EQ(c.replies.back().status, reply_status::not_leader);
}

TEST(ReplicaTest, NewLeaderRecoversAValueItsPredecessorNeverSawChosen) {
  // Node 2 votes for the leader's value (with the leader's own vote, that is
  // a majority: the value is chosen) but its answer is lost and the leader
  // dies. Whoever leads next must find the value in phase 1 and keep it.
  local_cluster c{3};
  auto l = *c.elect();
  node_id two = l % 3 + 1, three = two % 3 + 1;
  c.drop_if = [&](const envelope& e) {
    return (e.from == l && e.to == three && std::holds_alternative<accept>(e.msg)) ||
           (e.to == l && std::holds_alternative<accepted>(e.msg));
  };
  c.propose(l, cmd(1, 1));
  c.deliver();
  ASSERT_EQ(c.node(l).commit_index(), 0u);
  c.crash(l);
  c.drop_if = nullptr;
  ASSERT_TRUE(c.elect());
  c.run(5);
  EXPECT_EQ(c.log(two), (std::vector<std::string>{"c1.1"}));
  EXPECT_EQ(c.log(three), (std::vector<std::string>{"c1.1"}));
}

TEST(ReplicaTest, NewLeaderFillsGapsWithNoOps) {
  local_cluster c{3};
  auto l = *c.elect();
  node_id two = l % 3 + 1, three = two % 3 + 1;
  // Slot 1's accept is lost everywhere; slot 2 reaches node 2 only.
  c.drop_if = [&](const envelope& e) {
    auto* a = std::get_if<accept>(&e.msg);
    return e.from == l && a && (a->slot == 1 || e.to == three);
  };
  c.propose(l, cmd(1, 1));
  c.propose(l, cmd(2, 1));
  c.deliver();
  c.crash(l);
  c.drop_if = nullptr;
  ASSERT_TRUE(c.elect());
  c.run(5);
  // Slot 1 became a no-op, slot 2 kept its value.
  EXPECT_EQ(c.node(two).commit_index(), 2u);
  ASSERT_NE(c.node(two).chosen(1), nullptr);
  EXPECT_TRUE(c.node(two).chosen(1)->is_noop());
  EXPECT_EQ(c.log(three), (std::vector<std::string>{"c2.1"}));
}

TEST(ReplicaTest, LaggingReplicaCatchesUp) {
  local_cluster c{3};
  auto l = *c.elect();
  node_id lagging = l % 3 + 1;
  c.isolate(lagging);
  for (std::uint64_t i = 1; i <= 300; ++i)
    c.propose(l, cmd(1, i));
  c.deliver();
  c.run(2);
  EXPECT_EQ(c.node(lagging).commit_index(), 0u);
  c.heal();
  c.run(40);
  EXPECT_EQ(c.node(lagging).commit_index(), c.node(l).commit_index());
  EXPECT_EQ(c.log(lagging).size(), 300u);
}

TEST(ReplicaTest, RestartedReplicaRecoversItsLogFromDisk) {
  local_cluster c{3};
  auto l = *c.elect();
  for (std::uint64_t i = 1; i <= 10; ++i)
    c.propose(l, cmd(1, i));
  c.run(3);
  node_id f = l % 3 + 1;
  auto before = c.log(f);
  ASSERT_EQ(before.size(), 10u);
  c.crash(f);
  c.restart(f);
  EXPECT_EQ(c.log(f), before);  // replayed before any message arrives
  EXPECT_EQ(c.node(f).promised(), c.node(l).promised());
}

TEST(ReplicaTest, RetryAfterLeaderChangeAppliesOnce) {
  local_cluster c{3};
  auto l = *c.elect();
  c.propose(l, cmd(5, 1));
  c.deliver();
  // The client never saw the reply; it retries at the next leader.
  c.crash(l);
  auto fresh = *c.elect();
  c.replies.clear();
  c.propose(fresh, cmd(5, 1));
  c.deliver();
  c.run(3);
  ASSERT_EQ(c.replies.size(), 1u);
  EXPECT_EQ(c.replies[0].status, reply_status::ok);
  EXPECT_EQ(c.replies[0].result, "1");
  EXPECT_EQ(c.log(fresh), (std::vector<std::string>{"c5.1"}));
}

TEST(ReplicaTest, LeaderKeepsCommittingWithOneOfFiveDown) {
  local_cluster c{5};
  auto l = *c.elect();
  c.crash(l % 5 + 1);
  c.crash((l + 1) % 5 + 1);
  for (std::uint64_t i = 1; i <= 5; ++i)
    c.propose(l, cmd(1, i));
  c.deliver();
  EXPECT_EQ(c.node(l).commit_index(), 5u);
}

TEST(ReplicaTest, FollowerRefusesReadsWithLeaderHint) {
  local_cluster c{3};
  auto l = *c.elect();
  c.read(l % 3 + 1, 7);
  ASSERT_EQ(c.reads.size(), 1u);
  EXPECT_EQ(c.reads[0].status, reply_status::not_leader);
  EXPECT_EQ(c.reads[0].leader_hint, l);
}

TEST(ReplicaTest, LeaderServesReadAfterAQuorumConfirmsIt) {
  local_cluster c{3};
  auto l = *c.elect();
  c.propose(l, cmd(1, 1));
  c.deliver();
  c.read(l, 7);
  EXPECT_TRUE(c.reads.empty());  // the confirmation round is still in flight
  c.deliver();
  ASSERT_EQ(c.reads.size(), 1u);
  EXPECT_EQ(c.reads[0].id, 7u);
  EXPECT_EQ(c.reads[0].status, reply_status::ok);
  EXPECT_EQ(c.log(l).size(), 1u);
}

TEST(ReplicaTest, IsolatedLeaderNeverServesAReadAndFailsItWhenDeposed) {
  local_cluster c{3};
  auto old = *c.elect();
  c.isolate(old);
  c.read(old, 9);
  c.run(5);
  EXPECT_TRUE(c.reads.empty());
  ASSERT_TRUE(c.elect());
  c.heal();
  c.run(10);
  ASSERT_EQ(c.reads.size(), 1u);
  EXPECT_EQ(c.reads[0].status, reply_status::not_leader);
}

// CheckQuorum (quorum_contact): a leader cut off from its voters for a
// window steps down, so a partitioned minority does not keep a leader.
TEST(ReplicaTest, ALeaderThatHearsFromNoQuorumStepsDownAndFailsItsCommands) {
  local_cluster c{3};
  auto l = *c.elect();
  c.run(40);  // heartbeats acked: it keeps leading
  ASSERT_TRUE(c.node(l).is_leader());
  c.isolate(l);
  c.propose(l, cmd(1, 1));
  c.run(45);  // more than two windows of election_timeout_max ticks
  EXPECT_FALSE(c.node(l).is_leader());
  ASSERT_FALSE(c.replies.empty());
  EXPECT_EQ(c.replies.back().status, reply_status::not_leader);
}

TEST(ReplicaTest, NewLeaderReadsWaitForRecoveredSlots) {
  // The old leader chose slot 1 but never told anyone: the new leader must
  // not answer a read before it has re-committed that slot.
  local_cluster c{3};
  auto l = *c.elect();
  node_id two = l % 3 + 1;
  c.drop_if = [&](const envelope& e) {
    return e.from == l && (std::holds_alternative<heartbeat>(e.msg) ||
                           (std::holds_alternative<accept>(e.msg) && e.to != two));
  };
  c.propose(l, cmd(1, 1));
  c.deliver();
  c.crash(l);
  c.drop_if = nullptr;
  auto fresh = *c.elect();
  c.read(fresh, 3);
  c.deliver();
  ASSERT_EQ(c.reads.size(), 1u);
  EXPECT_EQ(c.reads[0].status, reply_status::ok);
  EXPECT_EQ(c.log(fresh), (std::vector<std::string>{"c1.1"}));
}

TEST(ReplicaTest, CompactsTheLogEverySnapshotInterval) {
  config cfg;
  cfg.snapshot_interval = 10;
  local_cluster c{3, cfg};
  auto l = *c.elect();
  for (std::uint64_t i = 1; i <= 25; ++i) {
    c.propose(l, cmd(1, i));
    c.deliver();  // one slot per command
  }
  c.run(2);
  std::set<slot_index> lasts;
  for (node_id id = 1; id <= 3; ++id) {
    const auto& disk = c.disk(id);
    ASSERT_TRUE(disk.snap) << "node " << id;
    // Within the last interval of the 25 commands (and the leader's no-op).
    EXPECT_GE(disk.snap->last + cfg.snapshot_interval, 26u) << "node " << id;
    EXPECT_TRUE(disk.chosen.empty() || disk.chosen.begin()->first > disk.snap->last);
    EXPECT_TRUE(disk.accepted.empty() || disk.accepted.begin()->first > disk.snap->last);
    EXPECT_EQ(c.log(id).size(), 25u);
    lasts.insert(disk.snap->last);
  }
  // Staggered: each replica at its own third of the interval, so that a
  // snapshot's pause never stops a majority at once.
  EXPECT_EQ(lasts.size(), 3u) << "two replicas took their snapshot at the same slot";
}

// The log is held in memory until a snapshot compacts it: large commands
// must trigger one by their bytes long before the slot count does.
TEST(ReplicaTest, CompactsTheLogOnceItsAppliedBytesReachTheBound) {
  config cfg;
  cfg.snapshot_interval = 1000;  // never reached here
  cfg.snapshot_bytes = 10'000;
  local_cluster c{3, cfg};
  auto l = *c.elect();
  for (std::uint64_t i = 1; i <= 7; ++i) {
    c.propose(l, command{1, i, std::string(3'000, static_cast<char>('a' + i))});
    c.deliver();
  }
  c.run(2);
  for (node_id id = 1; id <= 3; ++id) {
    const auto& disk = c.disk(id);
    ASSERT_TRUE(disk.snap) << "node " << id;
    // 4 commands of 3,000 bytes cross 10,000: the first snapshot is at the
    // slot of the fourth (after the leader's first slot, a no-op or not).
    EXPECT_GE(disk.snap->last, 4u);
    EXPECT_LE(disk.snap->last, 6u);
    EXPECT_EQ(c.log(id).size(), 7u);
  }
}
TEST(ReplicaTest, RestartFromASnapshotRestoresStateAndDedup) {
  config cfg;
  cfg.snapshot_interval = 5;
  local_cluster c{3, cfg};
  auto l = *c.elect();
  for (std::uint64_t i = 1; i <= 12; ++i) {
    c.propose(l, cmd(1, i));
    c.deliver();
  }
  c.run(2);
  node_id f = l % 3 + 1;
  auto before = c.log(f);
  c.crash(f);
  c.restart(f);
  EXPECT_EQ(c.log(f), before);
  // The dedup table came back with the snapshot: a retry is not applied again.
  c.crash(l);
  auto fresh = c.elect();
  ASSERT_TRUE(fresh);
  c.replies.clear();
  c.propose(*fresh, cmd(1, 12));
  c.deliver();
  c.run(2);
  ASSERT_FALSE(c.replies.empty());
  EXPECT_EQ(c.replies.back().status, reply_status::ok);
  EXPECT_EQ(c.replies.back().result, "12");
  EXPECT_EQ(c.log(*fresh).size(), 12u);
}

TEST(ReplicaTest, ReplicaBehindTheSnapshotIsCaughtUpBySnapshotTransfer) {
  config cfg;
  cfg.snapshot_interval = 10;
  local_cluster c{3, cfg};
  auto l = *c.elect();
  node_id lagging = l % 3 + 1;
  c.isolate(lagging);
  for (std::uint64_t i = 1; i <= 50; ++i) {
    c.propose(l, cmd(2, i));
    c.deliver();
  }
  c.run(2);
  ASSERT_TRUE(c.disk(l).snap);
  ASSERT_GT(c.disk(l).snap->last, 1u);  // slot 1 is gone from the leader's log
  c.heal();
  c.run(30);
  EXPECT_EQ(c.node(lagging).commit_index(), c.node(l).commit_index());
  EXPECT_EQ(c.log(lagging), c.log(l));
  ASSERT_TRUE(c.disk(lagging).snap);  // the installed snapshot was persisted
}

// A snapshot a replica takes itself may reach the disk after the records
// that follow it (a log writes it in the background): its ready says so and
// keeps this step's records for the slots it covers, which only the log
// holds until then. An installed snapshot covers slots no record holds, so
// it is not flagged, and records it covers are dropped.
TEST(ReplicaTest, OnlyALocalSnapshotIsFlaggedAndKeepsTheRecordsItCovers) {
  config cfg;
  cfg.snapshot_interval = 10;
  local_cluster c{3, cfg};
  int local = 0;
  int local_with_covered = 0;
  int installed = 0;
  c.on_ready = [&](node_id, const ready& r) {
    if (!r.compacted)
      return;
    auto last = r.compacted->snap->last;
    bool covered = false;
    for (auto& e : r.chosen)
      covered = covered || e.slot <= last;
    for (auto& [slot, vote] : r.accepted)
      covered = covered || slot <= last;
    if (r.compacted_locally) {
      ++local;
      local_with_covered += covered ? 1 : 0;
    } else {
      ++installed;
      EXPECT_FALSE(covered) << "an installed snapshot at " << last;
    }
  };
  auto l = *c.elect();
  node_id lagging = l % 3 + 1;
  c.isolate(lagging);
  for (std::uint64_t i = 1; i <= 50; ++i) {
    c.propose(l, cmd(2, i));
    c.deliver();
  }
  c.run(2);
  c.heal();
  c.run(30);
  EXPECT_EQ(c.log(lagging), c.log(l));
  EXPECT_GT(local, 0);
  // The step that applies the snapshot's last slot also chose it.
  EXPECT_EQ(local_with_covered, local);
  EXPECT_GT(installed, 0);
}

// A member behind the compacted log asks for catch-up every heartbeat while
// the whole state is on its way to it: the leader sends the snapshot once,
// and again only after `snapshot_resend_ticks` (the first may be lost).
/// A three-member cluster checkpointing every 10 slots whose member
/// `lagging` missed 30 commands: it is behind the compacted log and needs a
/// snapshot. Every snapshot to it is lost (counted in `snapshots`) until
/// `drop_if` is reset.
struct behind_a_snapshot {
  config cfg;
  local_cluster c;
  node_id l;
  node_id lagging;
  int snapshots = 0;

  explicit behind_a_snapshot(const config& base) : cfg(base), c{3, base}, l(*c.elect()) {
    lagging = l % 3 + 1;
    c.isolate(lagging);
    for (std::uint64_t i = 1; i <= 30; ++i) {
      c.propose(l, cmd(2, i));
      c.deliver();
    }
    c.run(2);
    c.drop_if = [this](const envelope& env) {
      bool lost = std::holds_alternative<install_snapshot>(env.msg) && env.to == lagging;
      snapshots += lost ? 1 : 0;
      return lost;
    };
    c.heal();
  }
};

config snapshot_every_10() {
  config cfg;
  cfg.snapshot_interval = 10;
  cfg.snapshot_resend_ticks = 100;
  cfg.snapshot_bytes_per_tick = 0;
  return cfg;
}

// A promise that arrives after its candidacy ended (a reject came first, and
// the candidate stepped down) still shows that its acceptor applied more: the
// replica asks it for what it missed. A removed member that never learned of
// its removal otherwise stood again and again, deposing the leader each time
// (simulator seed 178668, with slow disks).
TEST(ReplicaTest, ALatePromiseFromAnAcceptorThatAppliedMoreStartsACatchUp) {
  local_cluster c{3};
  auto l = *c.elect();
  node_id f = l % 3 + 1;
  c.drop_if = [&](const envelope& e) { return e.to == f; };  // f misses the commits
  for (std::uint64_t seq = 1; seq <= 5; ++seq)
    c.propose(l, cmd(1, seq));
  c.deliver();
  c.run(3);
  ASSERT_LT(c.node(f).commit_index(), c.node(l).commit_index());
  ASSERT_FALSE(c.node(f).is_leader());
  bool asked = false;
  c.drop_if = [&](const envelope& e) {
    asked = asked || (e.from == f && e.to == l && std::holds_alternative<catchup_request>(e.msg));
    return e.to == f || e.from == f;
  };
  promise late;
  late.ballot = ballot_number{1, f};  // a candidacy of f's long over
  late.committed = c.node(l).commit_index();
  c.inject(envelope{l, f, late});
  c.deliver();
  EXPECT_TRUE(asked);
}

// A lone voter (one node, or one voter with learners) needs no other
// promise, so nothing else makes it wait for its own to be durable. It leads
// only once its driver hands the promise back after the sync: leading on a
// promise still in memory, it sent accepts to its learners, and a crash
// before the sync let its restart run the same ballot again with other
// values (found by review, 2026-12-07).
TEST(ReplicaTest, ALoneVoterLeadsOnlyOnceItsPromiseIsDurable) {
  config cfg;
  cfg.id = 1;
  cfg.members = {1};
  ballot::testing::log_machine sm;
  replica r{cfg, durable_state{}, sm};
  for (int i = 0; i < 100 && r.role() != proposer::role::candidate && !r.is_leader(); ++i)
    r.tick();
  EXPECT_FALSE(r.is_leader()) << "led on a promise not yet on disk";
  auto rd = r.take_ready();
  ASSERT_TRUE(rd.promised);
  std::vector<envelope> own;
  for (auto& env : rd.messages)
    if (env.to == 1 && std::holds_alternative<promise>(env.msg))
      own.push_back(env);
  ASSERT_EQ(own.size(), 1u) << "its promise to itself goes through the driver";
  r.step(own.front());  // the driver hands it back after the sync
  EXPECT_TRUE(r.is_leader());
}

TEST(ReplicaTest, ASnapshotOnItsWayIsNotSentAgainForEachCatchUpRequest) {
  behind_a_snapshot b{snapshot_every_10()};
  auto& [cfg, c, l, lagging, snapshots] = b;
  ASSERT_TRUE(c.disk(l).snap);
  for (int i = 0; i < 10; ++i)
    c.inject(envelope{lagging, l, catchup_request{1}});
  c.deliver();
  EXPECT_EQ(snapshots, 1);
  c.run(cfg.snapshot_resend_ticks + 5);
  EXPECT_GE(snapshots, 2) << "a lost snapshot is sent again after the resend interval";
  EXPECT_LE(snapshots, 3) << "not once per request (a request every heartbeat)";
  c.drop_if = nullptr;
  c.run(4 * cfg.snapshot_resend_ticks + 50);
  EXPECT_EQ(c.node(lagging).commit_index(), c.node(l).commit_index());
}

TEST(ReplicaTest, ASnapshotSentAgainAndAgainWaitsLongerEachTime) {
  behind_a_snapshot b{snapshot_every_10()};
  auto& [cfg, c, l, lagging, snapshots] = b;
  ASSERT_TRUE(c.disk(l).snap);
  c.run(5);
  ASSERT_EQ(snapshots, 1);
  c.run(cfg.snapshot_resend_ticks + 10);  // the first resend after 100 ticks
  ASSERT_EQ(snapshots, 2);
  c.run(cfg.snapshot_resend_ticks + 50);  // the second is due 200 ticks after the first
  EXPECT_EQ(snapshots, 2) << "resent at the same interval, not backing off";
  c.run(cfg.snapshot_resend_ticks);
  EXPECT_EQ(snapshots, 3);
  c.run(std::size_t{3} * cfg.snapshot_resend_ticks);  // the third waits 400 ticks
  EXPECT_EQ(snapshots, 3);
  c.drop_if = nullptr;
  c.run(std::size_t{8} * cfg.snapshot_resend_ticks + 50);
  EXPECT_EQ(c.node(lagging).commit_index(), c.node(l).commit_index())
    << "a member still catches up once a snapshot arrives";
}

TEST(ReplicaTest, ALargerSnapshotWaitsLongerBeforeItIsSentAgain) {
  auto cfg = snapshot_every_10();
  // Every byte of state is a tick: the snapshot of this state waits its
  // size in ticks on top of the interval.
  cfg.snapshot_bytes_per_tick = 1;
  behind_a_snapshot b{cfg};
  auto& [base, c, l, lagging, snapshots] = b;
  auto size = c.node(l).snapshot_now()->machine.size();
  ASSERT_GT(size, 20u);
  c.run(5);
  ASSERT_EQ(snapshots, 1);
  c.run(cfg.snapshot_resend_ticks + 10);
  EXPECT_EQ(snapshots, 1) << "a snapshot of " << size << " bytes was sent again after the bare "
                          << "interval";
  c.run(size);
  EXPECT_EQ(snapshots, 2);
}

TEST(ReplicaTest, TheLeadersMemberReportFillsInBootstrapAddressesAndLags) {
  config cfg;
  local_cluster c{3, cfg};
  auto l = *c.elect();
  c.propose(l, cmd(1, 1));
  c.deliver();
  c.run(30);
  auto r = c.node(l).report_members({{1, "h:1"}, {2, "h:2"}, {3, "h:3"}});
  EXPECT_EQ(r.alpha, cfg.alpha);
  EXPECT_EQ(r.leader, l);
  EXPECT_EQ(r.commit, c.node(l).commit_index());
  ASSERT_EQ(r.bootstrap.voters().size(), 3u);
  ASSERT_EQ(r.current.members.size(), 3u);
  for (auto& m : r.current.members)
    EXPECT_EQ(m.peer, "h:" + std::to_string(m.id));
  ASSERT_EQ(r.lag.count(l), 1u);
  EXPECT_EQ(r.lag.at(l), 0u) << "the leader is never behind itself";
  auto follower = l % 3 + 1;
  EXPECT_TRUE(c.node(follower).report_members({}).lag.empty()) << "only a leader knows lags";
}

}  // namespace
