// The learner's rules: apply in slot order, exactly once per (client, seq).
#include <gtest/gtest.h>

#include <algorithm>

#include "actors/paxos/learner.hpp"

namespace {

using namespace ballot::paxos;

struct log_machine : state_machine {
  std::vector<std::string> log;
  std::string apply(const std::string& payload) override {
    log.push_back(payload);
    return "r" + std::to_string(log.size());
  }
};

value batch(std::vector<command> cmds) {
  return value{std::move(cmds)};
}

TEST(LearnerTest, AppliesOnlyContiguousSlotsInOrder) {
  log_machine sm;
  learner l{durable_state{}, sm};
  ready out;
  std::vector<learner::applied> done;
  EXPECT_TRUE(l.learn(2, batch({{1, 2, "b"}}), out, done));
  EXPECT_TRUE(sm.log.empty());
  EXPECT_EQ(l.commit_index(), 0u);
  EXPECT_EQ(l.last_known(), 2u);
  EXPECT_TRUE(l.learn(1, batch({{1, 1, "a"}}), out, done));
  EXPECT_EQ(sm.log, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(l.commit_index(), 2u);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].result, "r1");
  EXPECT_EQ(done[1].seq, 2u);
  EXPECT_EQ(out.chosen.size(), 2u);
}

TEST(LearnerTest, LearningAKnownSlotIsANoOp) {
  log_machine sm;
  learner l{durable_state{}, sm};
  ready out;
  std::vector<learner::applied> done;
  l.learn(1, batch({{1, 1, "a"}}), out, done);
  ready out2;
  EXPECT_FALSE(l.learn(1, batch({{1, 1, "a"}}), out2, done));
  EXPECT_TRUE(out2.chosen.empty());
  EXPECT_EQ(sm.log.size(), 1u);
}

TEST(LearnerTest, NoOpSlotsAdvanceWithoutApplying) {
  log_machine sm;
  learner l{durable_state{}, sm};
  ready out;
  std::vector<learner::applied> done;
  l.learn(1, value{}, out, done);
  l.learn(2, batch({{1, 1, "a"}}), out, done);
  EXPECT_EQ(l.commit_index(), 2u);
  EXPECT_EQ(sm.log, (std::vector<std::string>{"a"}));
}

TEST(LearnerTest, RetriedCommandAppliesOnceAndKeepsItsResult) {
  log_machine sm;
  learner l{durable_state{}, sm};
  ready out;
  std::vector<learner::applied> done;
  l.learn(1, batch({{7, 1, "x"}}), out, done);
  l.learn(2, batch({{7, 1, "x"}, {8, 1, "y"}}), out, done);
  EXPECT_EQ(sm.log, (std::vector<std::string>{"x", "y"}));
  ASSERT_EQ(done.size(), 3u);
  EXPECT_TRUE(done[1].duplicate);
  EXPECT_EQ(done[1].result, "r1");
  ASSERT_NE(l.applied_result(7, 1), nullptr);
  EXPECT_EQ(*l.applied_result(7, 1), "r1");
  EXPECT_EQ(l.applied_result(7, 2), nullptr);
}

TEST(LearnerTest, PipelinedCommandsApplyOnceEachInAnyOrder) {
  // A client with several commands in flight: seq 2 reaches the log first.
  log_machine sm;
  learner l{durable_state{}, sm};
  ready out;
  std::vector<learner::applied> done;
  l.learn(1, batch({{7, 2, "b"}}), out, done);
  l.learn(2, batch({{7, 1, "a"}, {7, 2, "b"}}), out, done);
  EXPECT_EQ(sm.log, (std::vector<std::string>{"b", "a"}));
  ASSERT_EQ(done.size(), 3u);
  EXPECT_FALSE(done[1].duplicate);
  EXPECT_EQ(done[1].result, "r2");
  EXPECT_TRUE(done[2].duplicate);
  EXPECT_EQ(done[2].result, "r1");
}

TEST(LearnerTest, CommandOlderThanTheWindowIsExpiredNotApplied) {
  log_machine sm;
  learner l{durable_state{}, sm, /*dedup_window=*/2};
  ready out;
  std::vector<learner::applied> done;
  l.learn(1, batch({{7, 2, "b"}, {7, 3, "c"}, {7, 4, "d"}}), out, done);
  EXPECT_TRUE(l.expired(7, 1));
  EXPECT_TRUE(l.expired(7, 2));
  EXPECT_FALSE(l.expired(7, 3));
  done.clear();
  l.learn(2, batch({{7, 1, "a"}, {7, 2, "b"}}), out, done);
  EXPECT_EQ(sm.log, (std::vector<std::string>{"b", "c", "d"}));
  ASSERT_EQ(done.size(), 2u);
  EXPECT_TRUE(done[0].expired);
  EXPECT_TRUE(done[1].expired);
  EXPECT_EQ(l.applied_result(7, 2), nullptr);
  ASSERT_NE(l.applied_result(7, 4), nullptr);
  EXPECT_EQ(*l.applied_result(7, 4), "r3");
}

TEST(LearnerTest, RestartReplaysChosenPrefixOnly) {
  durable_state disk;
  disk.chosen[1] = batch({{1, 1, "a"}});
  disk.chosen[2] = batch({{1, 2, "b"}});
  disk.chosen[4] = batch({{1, 4, "d"}});
  log_machine sm;
  learner l{disk, sm};
  EXPECT_EQ(sm.log, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(l.commit_index(), 2u);
  EXPECT_EQ(l.last_known(), 4u);
  // The dedup table is rebuilt by the replay.
  EXPECT_NE(l.applied_result(1, 2), nullptr);
}

TEST(LearnerTest, ChosenFromStopsAtFirstGapAndLimit) {
  log_machine sm;
  learner l{durable_state{}, sm};
  ready out;
  std::vector<learner::applied> done;
  for (slot_index s : {1, 2, 3, 5})
    l.learn(s, value{}, out, done);
  EXPECT_EQ(l.chosen_from(1, 10).size(), 3u);
  EXPECT_EQ(l.chosen_from(2, 1).size(), 1u);
  EXPECT_TRUE(l.chosen_from(4, 10).empty());
}

struct snap_machine : log_machine {
  std::optional<std::string> snapshot() const override {
    std::string out;
    for (auto& p : log)
      out += p + ";";
    return out;
  }
  void restore(const std::string& snap) override {
    log.clear();
    for (std::size_t start = 0; start < snap.size();) {
      auto end = snap.find(';', start);
      log.push_back(snap.substr(start, end - start));
      start = end + 1;
    }
  }
};

/// A machine that can freeze its state: the frozen copy is its log so far.
struct freezing_machine : snap_machine {
  struct frozen : frozen_state {
    std::vector<std::string> log;
    std::string encode() const override {
      std::string out;
      for (auto& p : log)
        out += p + ";";
      return out;
    }
    std::size_t size_hint() const override { return encode().size(); }
  };
  mutable int snapshots = 0;
  std::optional<std::string> snapshot() const override {
    ++snapshots;
    return snap_machine::snapshot();
  }
  std::shared_ptr<const frozen_state> freeze() const override {
    auto f = std::make_shared<frozen>();
    f->log = log;
    return f;
  }
};

TEST(LearnerTest, ASnapshotOfAFreezingMachineIsEncodedLaterAsOfItsSlot) {
  freezing_machine sm;
  learner l{durable_state{}, sm};
  ready out;
  std::vector<learner::applied> done;
  l.learn(1, batch({{7, 1, "a"}}), out, done);
  l.learn(2, batch({{7, 2, "b"}}), out, done);
  std::map<slot_index, value> retired;
  auto snap = l.compact(retired);
  ASSERT_TRUE(snap);
  // Captured, not encoded: the learner's thread never took the bytes.
  EXPECT_FALSE(snap->machine.encoded());
  EXPECT_EQ(sm.snapshots, 0);
  l.learn(3, batch({{7, 3, "c"}}), out, done);
  EXPECT_EQ(snap->machine, "a;b;");
  EXPECT_EQ(snap->last, 2u);
  // Installed elsewhere, it is the state at slot 2.
  snap_machine other;
  learner l2{durable_state{}, other};
  std::vector<learner::applied> done2;
  ASSERT_TRUE(l2.install(*snap, done2));
  EXPECT_EQ(other.log, (std::vector<std::string>{"a", "b"}));
}

TEST(LearnerTest, ASnapshotsDedupTableIsTheOneAtItsSlotThoughItsRecordsAreMadeLater) {
  snap_machine sm;
  learner l{durable_state{}, sm, /*dedup_window=*/2};
  ready out;
  std::vector<learner::applied> done;
  l.learn(1, batch({{7, 1, "a"}, {8, 1, "x"}}), out, done);
  l.learn(2, batch({{7, 2, "b"}}), out, done);
  std::map<slot_index, value> retired;
  auto snap = l.compact(retired);
  ASSERT_TRUE(snap);
  // Captured, not copied: the replica's thread made no records.
  EXPECT_FALSE(snap->clients.made());
  EXPECT_EQ(snap->clients.size(), 2u);
  // Client 7's next command pushes seq 1 out of its window, and client 8's
  // adds a result: neither reaches the snapshot.
  l.learn(3, batch({{7, 3, "c"}, {8, 2, "y"}}), out, done);
  ASSERT_EQ(snap->clients.records().size(), 2u);
  const auto& seven = snap->clients[0];
  EXPECT_EQ(seven.client, 7u);
  EXPECT_EQ(seven.forgotten, 0u);
  ASSERT_EQ(seven.results.size(), 2u);
  EXPECT_EQ(seven.results[0].first, 1u);
  EXPECT_EQ(seven.results[1].first, 2u);
  EXPECT_EQ(snap->clients[1].results.size(), 1u);
  // Installed elsewhere, slot 3 then applies there once, as it did here.
  snap_machine other;
  learner l2{durable_state{}, other, 2};
  std::vector<learner::applied> done2;
  ASSERT_TRUE(l2.install(*snap, done2));
  ready out2;
  l2.learn(3, batch({{7, 3, "c"}, {8, 2, "y"}}), out2, done2);
  ASSERT_EQ(done2.size(), 2u);
  EXPECT_FALSE(done2[0].duplicate);
  EXPECT_FALSE(done2[1].duplicate);
  EXPECT_EQ(other.log, sm.log);
  // The learner's own table went on as it should.
  EXPECT_EQ(l.applied_result(7, 1), nullptr);
  ASSERT_NE(l.applied_result(8, 2), nullptr);
}

TEST(LearnerTest, CompactTakesASnapshotAndForgetsCoveredSlots) {
  snap_machine sm;
  learner l{durable_state{}, sm};
  ready out;
  std::vector<learner::applied> done;
  l.learn(1, batch({{7, 1, "a"}}), out, done);
  l.learn(2, batch({{7, 2, "b"}}), out, done);
  l.learn(4, batch({{7, 4, "d"}}), out, done);
  std::map<slot_index, value> retired;
  auto snap = l.compact(retired);
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->last, 2u);
  // The slots it covers are handed over (to be freed elsewhere), no others.
  ASSERT_EQ(retired.size(), 2u);
  EXPECT_EQ(retired.begin()->first, 1u);
  EXPECT_EQ(retired.rbegin()->second, batch({{7, 2, "b"}}));
  EXPECT_EQ(snap->machine, "a;b;");
  ASSERT_EQ(snap->clients.size(), 1u);
  EXPECT_EQ(snap->clients[0].results.size(), 2u);
  EXPECT_EQ(l.compacted(), 2u);
  EXPECT_EQ(l.chosen(1), nullptr);
  EXPECT_NE(l.chosen(4), nullptr);  // after the snapshot: kept
}

TEST(LearnerTest, UnsupportedSnapshotsCompactNothing) {
  log_machine sm;
  learner l{durable_state{}, sm};
  ready out;
  std::vector<learner::applied> done;
  l.learn(1, batch({{7, 1, "a"}}), out, done);
  std::map<slot_index, value> retired;
  EXPECT_FALSE(l.compact(retired));
  EXPECT_TRUE(retired.empty());
  EXPECT_NE(l.chosen(1), nullptr);
}

TEST(LearnerTest, InstallReplacesStateOnlyWhenAhead) {
  snap_machine sm;
  learner l{durable_state{}, sm};
  ready out;
  std::vector<learner::applied> done;
  l.learn(1, batch({{7, 1, "a"}}), out, done);
  l.learn(5, batch({{8, 1, "e"}}), out, done);
  snapshot snap{4, "a;b;c;d;", {{7, {{4, "r4"}}, 3, {}, 0}}, {}};
  EXPECT_TRUE(l.install(snap, done));
  EXPECT_EQ(l.commit_index(), 5u);  // slot 5 applied on top
  EXPECT_EQ(sm.log, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_TRUE(l.expired(7, 3));
  ASSERT_NE(l.applied_result(7, 4), nullptr);
  EXPECT_EQ(*l.applied_result(7, 4), "r4");
  EXPECT_FALSE(l.install(snap, done));
}

TEST(LearnerTest, RestartFromSnapshotThenLog) {
  durable_state disk;
  disk.snap = snapshot{2, "a;b;", {}, {}};
  disk.chosen[3] = batch({{1, 3, "c"}});
  snap_machine sm;
  learner l{disk, sm};
  EXPECT_EQ(sm.log, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(l.commit_index(), 3u);
  EXPECT_EQ(l.compacted(), 2u);
}

}  // namespace

namespace {

/// A machine with a log time: each payload "t=<ms>;..." sets it.
struct timed_machine : log_machine {
  std::uint64_t now = 0;
  std::string apply(const std::string& payload) override {
    if (payload.rfind("t=", 0) == 0)
      now = std::stoull(payload.substr(2));
    return log_machine::apply(payload);
  }
  std::uint64_t log_time_ms() const override { return now; }
};

TEST(LearnerTest, AReusedRequestIdWithAnotherCommandIsRefusedNotAnswered) {
  log_machine sm;
  learner l{durable_state{}, sm};
  ready out;
  std::vector<learner::applied> done;
  l.learn(1, batch({{7, 1, "put a"}}), out, done);
  l.learn(2, batch({{7, 1, "put b"}, {7, 1, "put a"}}), out, done);
  ASSERT_EQ(done.size(), 3u);
  EXPECT_TRUE(done[1].reused);  // same id, another command: nothing applied
  EXPECT_TRUE(done[1].result.empty());
  EXPECT_TRUE(done[2].duplicate);  // a true retry gets the first answer
  EXPECT_EQ(done[2].result, "r1");
  EXPECT_EQ(sm.log, (std::vector<std::string>{"put a"}));
  const std::string* result = nullptr;
  EXPECT_EQ(l.lookup(7, 1, sm.fingerprint("put b"), &result), learner::seen::reused);
  EXPECT_EQ(l.lookup(7, 1, sm.fingerprint("put a"), &result), learner::seen::applied);
  EXPECT_EQ(*result, "r1");
}

/// Counts the payloads it hashes.
struct counting_machine : log_machine {
  mutable int hashed = 0;
  std::uint64_t fingerprint(const std::string& payload) const override {
    ++hashed;
    return state_machine::fingerprint(payload);
  }
};

TEST(LearnerTest, AFingerprintCarriedInTheLogIsRecordedWithoutHashingThePayload) {
  counting_machine sm;
  learner l{durable_state{}, sm};
  ready out;
  std::vector<learner::applied> done;
  // As a leader ordered it: its fingerprint rides with it.
  command carried{7, 1, "put a"};
  carried.fingerprint = sm.fingerprint("put a");
  sm.hashed = 0;
  l.learn(1, batch({carried}), out, done);
  EXPECT_EQ(sm.hashed, 0);
  const std::string* result = nullptr;
  EXPECT_EQ(l.lookup(7, 1, carried.fingerprint, &result), learner::seen::applied);
  EXPECT_EQ(l.lookup(7, 1, sm.fingerprint("put b"), &result), learner::seen::reused);
  // One from an older log has none: the learner computes it.
  sm.hashed = 0;
  l.learn(2, batch({{7, 2, "put c"}}), out, done);
  EXPECT_EQ(sm.hashed, 1);
  EXPECT_EQ(l.lookup(7, 2, sm.fingerprint("put c"), &result), learner::seen::applied);
}

TEST(LearnerTest, SeqZeroNeverApplies) {
  log_machine sm;
  learner l{durable_state{}, sm};
  ready out;
  std::vector<learner::applied> done;
  l.learn(1, batch({{7, 0, "put a"}}), out, done);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].invalid);
  EXPECT_TRUE(sm.log.empty());
  EXPECT_EQ(l.clients(), 0u);
}

TEST(LearnerTest, IdleClientsLeaveTheDedupTableOnLogTime) {
  timed_machine sm;
  learner l{durable_state{}, sm, 64, /*dedup_ttl_ms=*/1000};
  ready out;
  std::vector<learner::applied> done;
  l.learn(1, batch({{1, 1, "t=100"}}), out, done);
  l.learn(2, batch({{2, 1, "t=600"}}), out, done);
  l.learn(3, batch({{1, 2, "t=1050"}}), out, done);  // client 1 active again
  EXPECT_EQ(l.clients(), 2u);
  l.learn(4, batch({{3, 1, "t=1700"}}), out, done);  // client 2 idle since 600
  EXPECT_EQ(l.clients(), 2u);
  EXPECT_EQ(l.applied_result(2, 1), nullptr);
  ASSERT_NE(l.applied_result(1, 2), nullptr);
  l.learn(5, batch({{3, 2, "t=5000"}}), out, done);
  EXPECT_EQ(l.clients(), 1u);  // only the one just active
}

TEST(LearnerTest, FingerprintsAndAgesSurviveASnapshot) {
  struct snap_timed : timed_machine {
    std::optional<std::string> snapshot() const override { return std::to_string(now); }
    void restore(const std::string& s) override { now = std::stoull(s); }
  };
  snap_timed sm;
  learner l{durable_state{}, sm, 64, 1000};
  ready out;
  std::vector<learner::applied> done;
  l.learn(1, batch({{1, 1, "t=100"}}), out, done);
  auto snap = l.make_snapshot();
  ASSERT_TRUE(snap.has_value());
  ASSERT_EQ(snap->clients.size(), 1u);
  EXPECT_EQ(snap->clients[0].last_active_ms, 100u);
  ASSERT_EQ(snap->clients[0].fingerprints.size(), 1u);
  snap_timed sm2;
  durable_state disk;
  disk.snap = snap;
  learner again{disk, sm2, 64, 1000};
  const std::string* result = nullptr;
  EXPECT_EQ(again.lookup(1, 1, sm2.fingerprint("t=999"), &result), learner::seen::reused);
  std::vector<learner::applied> done2;
  ready out2;
  again.learn(2, batch({{2, 1, "t=1200"}}), out2, done2);
  EXPECT_EQ(again.clients(), 1u);  // client 1 (idle since 100) left at 1,200
}

/// A timed machine whose snapshot is its log time.
struct snap_timed_machine : timed_machine {
  std::optional<std::string> snapshot() const override { return std::to_string(now); }
  void restore(const std::string& s) override { now = std::stoull(s); }
};

TEST(LearnerTest, AClientTheTableDoesNotKnowIsRefusedPastItsFirstWindow) {
  timed_machine sm;
  learner l{durable_state{}, sm, /*dedup_window=*/2, /*dedup_ttl_ms=*/1000};
  ready out;
  std::vector<learner::applied> done;
  // Seq 3 of a client never seen: it may have been evicted after applying.
  l.learn(1, batch({{9, 3, "put x"}}), out, done);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].expired);
  EXPECT_TRUE(sm.log.empty());
  EXPECT_EQ(l.clients(), 0u);  // a refusal adds nobody to the table
  // A new client's first window, pipelined out of order, applies.
  l.learn(2, batch({{5, 2, "put b"}, {5, 1, "put a"}}), out, done);
  EXPECT_EQ(sm.log, (std::vector<std::string>{"put b", "put a"}));
  // Once known, the client goes on past its first window.
  l.learn(3, batch({{5, 3, "put c"}}), out, done);
  EXPECT_EQ(sm.log.back(), "put c");
}

TEST(LearnerTest, ALateRetryAfterEvictionIsExpiredNeverAppliedAgain) {
  timed_machine sm;
  learner l{durable_state{}, sm, /*dedup_window=*/2, /*dedup_ttl_ms=*/1000};
  ready out;
  std::vector<learner::applied> done;
  l.learn(1, batch({{1, 1, "t=100"}, {1, 2, "t=110"}, {1, 3, "t=120"}}), out, done);
  l.learn(2, batch({{2, 1, "t=1500"}}), out, done);  // client 1 idle since 120: gone
  ASSERT_EQ(l.applied_result(1, 3), nullptr);
  done.clear();
  l.learn(3, batch({{1, 3, "t=120"}}), out, done);  // its retry, too late
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].expired);
  EXPECT_EQ(std::count(sm.log.begin(), sm.log.end(), "t=120"), 1);
  EXPECT_EQ(l.clients(), 1u);
}

TEST(LearnerTest, AJumpOfLogTimeAgesNobodyByMoreThanTheStepBound) {
  timed_machine sm;
  learner l{durable_state{}, sm, 64, /*dedup_ttl_ms=*/1000, /*dedup_max_step_ms=*/300};
  ready out;
  std::vector<learner::applied> done;
  l.learn(1, batch({{1, 1, "t=100"}}), out, done);
  // A leader whose clock ran while the log stood still: 4,900 ms at once
  // count as 300, so client 1 (whose retry may be in flight) stays.
  l.learn(2, batch({{2, 1, "t=5000"}}), out, done);
  EXPECT_NE(l.applied_result(1, 1), nullptr);
  // Steps within the bound count whole: 300 + 700 is not over the TTL ...
  l.learn(3, batch({{2, 2, "t=5250"}}), out, done);
  l.learn(4, batch({{2, 3, "t=5500"}}), out, done);
  l.learn(5, batch({{2, 4, "t=5700"}}), out, done);
  EXPECT_NE(l.applied_result(1, 1), nullptr);
  // ... 300 + 750 is.
  l.learn(6, batch({{2, 5, "t=5750"}}), out, done);
  EXPECT_EQ(l.applied_result(1, 1), nullptr);
  EXPECT_EQ(l.clients(), 1u);
}

TEST(LearnerTest, AReplicaRestoredAfterAJumpEvictsAtTheSameSlot) {
  snap_timed_machine sm;
  learner l{durable_state{}, sm, 64, 1000, 300};
  ready out;
  std::vector<learner::applied> done;
  l.learn(1, batch({{1, 1, "t=100"}}), out, done);
  l.learn(2, batch({{2, 1, "t=5000"}}), out, done);
  auto snap = l.make_snapshot();
  ASSERT_TRUE(snap.has_value());
  snap_timed_machine sm2;
  durable_state disk;
  disk.snap = snap;
  learner again{disk, sm2, 64, 1000, 300};
  for (auto* x : {&l, &again}) {
    ready o;
    std::vector<learner::applied> d;
    x->learn(3, batch({{2, 2, "t=5250"}}), o, d);
    x->learn(4, batch({{2, 3, "t=5500"}}), o, d);
    x->learn(5, batch({{2, 4, "t=5700"}}), o, d);
    EXPECT_NE(x->applied_result(1, 1), nullptr);
    x->learn(6, batch({{2, 5, "t=5750"}}), o, d);
    EXPECT_EQ(x->applied_result(1, 1), nullptr);
  }
}

TEST(LearnerTest, MembershipChangesAreDeduplicatedByTokenNotByARow) {
  timed_machine sm;
  learner l{durable_state{}, sm, 2, 1000};
  ready out;
  std::vector<learner::applied> done;
  auto change = [](std::uint64_t token) {
    member_change c{member_change::kind::promote, 5, {}, {}};
    c.token = token;
    return command{membership_client, token, encode(c)};
  };
  // Tokens are random: any order, far apart, never "expired".
  std::uint64_t slot = 0;
  for (std::uint64_t token : {70ull, 3ull, 1ull << 60, 9ull})
    l.learn(++slot, batch({change(token)}), out, done);
  ASSERT_EQ(done.size(), 4u);
  for (auto& d : done) {
    EXPECT_FALSE(d.expired || d.duplicate || d.reused || d.invalid) << d.seq;
    EXPECT_EQ(d.result, "refused: no member 5") << d.seq;
  }
  // No dedup row holds them, and idle eviction never meets them.
  l.learn(++slot, batch({{1, 1, "t=100000"}}), out, done);
  EXPECT_EQ(l.applied_result(membership_client, 70), nullptr);
  EXPECT_EQ(l.clients(), 1u);
  // A retry chosen again goes to the membership, which answers as before.
  done.clear();
  l.learn(++slot, batch({change(3)}), out, done);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_FALSE(done[0].duplicate);
  EXPECT_EQ(done[0].result, "refused: no member 5");
}

}  // namespace
