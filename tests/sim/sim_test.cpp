// The simulator as a test: many seeds of mixed faults on 3 and 5 replicas,
// and determinism (one seed, one trace).
#include <gtest/gtest.h>

#include "tests/sim/simulation.hpp"

namespace {

using ballot::sim::options;
using ballot::sim::run;

options seed_options(std::uint64_t seed) {
  options opts;
  opts.seed = seed;
  opts.nodes = seed % 2 == 0 ? 3 : 5;
  return opts;
}

/// Success if the run of `opts` broke no invariant; else the violation and
/// the command that replays it.
::testing::AssertionResult no_violation(const options& opts, const ballot::sim::outcome& out) {
  if (!out.violation)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "seed " << opts.seed << ": " << *out.violation
                                       << "\n  replay: " << ballot::sim::replay_command(opts);
}

void run_seeds(std::uint64_t first, std::uint64_t count) {
  for (auto seed = first; seed < first + count; ++seed) {
    auto opts = seed_options(seed);
    auto out = run(opts);
    ASSERT_TRUE(no_violation(opts, out));
    // A run that commits nothing proves nothing. With slow disks a run may
    // elect leaders and yet commit nothing while the faults last, and then
    // have nothing left to commit (its clients gave up): seed 2008 does.
    // SeedsWithSlowDisksElectLeadersAndCommit counts those runs.
    if (out.slow_disks == 0) {
      EXPECT_GT(out.chosen_slots, 0u) << "seed " << seed;
    }
  }
}

TEST(SimulationTest, SameSeedGivesSameTrace) {
  for (std::uint64_t seed : {7, 8, 1234}) {
    auto a = run(seed_options(seed));
    auto b = run(seed_options(seed));
    EXPECT_EQ(a.trace_hash, b.trace_hash) << "seed " << seed;
    EXPECT_EQ(a.chosen_slots, b.chosen_slots) << "seed " << seed;
  }
  EXPECT_NE(run(seed_options(7)).trace_hash, run(seed_options(9)).trace_hash);
}

// The seeds reach the read path's hard cases: reads sent to a leader the
// moment it was elected (before it re-chose what it recovered), and reads
// reaching a leader cut off from the majority by a partition, sent by the
// clients on its side (see read_without_quorum and read_before_recovery).
TEST(SimulationTest, SeedsCoverTheReadPath) {
  std::size_t fresh = 0, minority = 0;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    auto out = run(seed_options(seed));
    ASSERT_FALSE(out.violation) << "seed " << seed << ": " << *out.violation;
    fresh += out.fresh_leader_reads;
    minority += out.minority_leader_reads;
  }
  EXPECT_GT(fresh, 50u);
  EXPECT_GT(minority, 50u);
}

// A quarter of the runs give a majority of the nodes disks that sync slower
// than an election timeout. Elections still end (candidates back off, see
// election_timer) and leaders keep their followers (heartbeats and acks do
// not wait for syncs, see paxos::ready): the runs commit, and every pending
// command is answered within their liveness ticks (run_seeds checks that for
// 10,000 seeds; the mutants no_election_backoff, late_heartbeats and
// late_acks fail it).
TEST(SimulationTest, SeedsWithSlowDisksElectLeadersAndCommit) {
  std::size_t slow_runs = 0, committed = 0;
  for (std::uint64_t seed = 1; seed <= 400; ++seed) {
    auto out = run(seed_options(seed));
    ASSERT_FALSE(out.violation) << "seed " << seed << ": " << *out.violation;
    if (out.slow_disks == 0)
      continue;
    ++slow_runs;
    EXPECT_GT(out.slow_disks, (seed % 2 == 0 ? 3u : 5u) / 2) << "seed " << seed;  // a majority
    EXPECT_GT(out.leaderships, 0u) << "seed " << seed;
    committed += out.chosen_slots > 0 ? 1 : 0;
  }
  EXPECT_GT(slow_runs, 60u);
  EXPECT_GE(committed * 100, slow_runs * 95);
}

// Forged messages (extreme ballots and slots, non-member and self senders;
// see forger.hpp) reach every kind of replica state, and every one is
// refused: the seeds above run with them, their invariants intact.
TEST(SimulationTest, SeedsRefuseForgedMessages) {
  std::size_t forged = 0;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    auto out = run(seed_options(seed));
    ASSERT_FALSE(out.violation) << "seed " << seed << ": " << *out.violation;
    EXPECT_EQ(out.forged_taken, 0u) << "seed " << seed;
    forged += out.forged;
  }
  EXPECT_GT(forged, 1000u);
}

// A quarter of the runs (the log runs without disk faults, half of them) change the membership
// under the faults (add a learner, promote it, remove a voter, replace a dead one, 3 -> 5 -> 3; see
// tests/sim/reconfig.hpp), and the changes do complete, learners included.
TEST(SimulationTest, SeedsReconfigureTheCluster) {
  std::size_t changes = 0, runs = 0;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    auto out = run(seed_options(seed));
    ASSERT_FALSE(out.violation) << "seed " << seed << ": " << *out.violation;
    changes += out.reconfigurations;
    runs += out.reconfigurations > 0 ? 1 : 0;
  }
  EXPECT_GT(runs, 30u);      // 50 expected: a quarter of the runs
  EXPECT_GT(changes, 150u);  // 261 measured
}

// Half of the log runs that do not reconfigure evict idle clients from the
// dedup table on a short TTL (see tests/sim/dedup_scenario.hpp): writes
// come back after their client was forgotten and are answered `expired`,
// never applied again, and no live client is ever refused.
TEST(SimulationTest, SeedsForgetIdleClientsWithoutLying) {
  std::size_t late = 0, expired = 0, runs = 0;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    auto out = run(seed_options(seed));
    ASSERT_FALSE(out.violation) << "seed " << seed << ": " << *out.violation;
    late += out.late_retries;
    expired += out.expired_answers;
    runs += out.expired_answers > 0 ? 1 : 0;
  }
  EXPECT_GT(runs, 20u);
  EXPECT_GT(late, 200u);
  EXPECT_GT(expired, 100u);
}

// Seed 7295 (5 nodes): learner 7's promote is chosen, its answer lost in a
// leader change, and the operator asks again under a new leader. That leader
// tracks a voter's progress less closely than a learner's, so before the fix
// it refused the retry as "too far behind" for ever and the reconfiguration
// never finished (a liveness failure); a crash losing chosen records that were
// not yet synced (tests/sim/sim_disk.hpp) leads there.
TEST(SimulationTest, ARetriedPromoteOfAVoterIsAnsweredByTheLog) {
  auto opts = seed_options(7295);
  auto out = run(opts);
  ASSERT_TRUE(no_violation(opts, out));
  EXPECT_GT(out.reconfigurations, 0u);
}

// Seed 159412 (3 nodes): at tick 394, after the network healed at 301, the
// operator asks leader 5 to remove itself and the simulation cuts it off.
// With the eight-fold quorum window of even seeds it steps down at 709 and
// learns it was removed at 830; a run that ended at 701 would call that a
// liveness failure (seeds 66890 and 108964 showed it before the runs' courses
// moved with the election backoff and the late promise's catch-up). The cut
// is a fault: the run has its liveness ticks from when the cut leader can
// have noticed, and it learns it was removed.
TEST(SimulationTest, ALeaderCutOffAfterTheNetworkHealedHasItsLivenessTicks) {
  auto opts = seed_options(159412);
  auto out = run(opts);
  ASSERT_TRUE(no_violation(opts, out));
  EXPECT_EQ(out.late_cuts, 1u);
  EXPECT_GT(out.ticks, opts.fault_ticks + opts.liveness_ticks);  // past the old end
}

// 10,000 seeds in four tests so that ctest can run them on both cores.
TEST(SimulationTest, Seeds1To2500) {
  run_seeds(1, 2500);
}
TEST(SimulationTest, Seeds2501To5000) {
  run_seeds(2501, 2500);
}
TEST(SimulationTest, Seeds5001To7500) {
  run_seeds(5001, 2500);
}
TEST(SimulationTest, Seeds7501To10000) {
  run_seeds(7501, 2500);
}

// The lock workload: the service machine under the same faults, with lock
// clients, fenced writes and watches (lock_workload.hpp).
options lock_seed_options(std::uint64_t seed) {
  auto opts = ballot::sim::lock_options(seed);
  opts.nodes = seed % 2 == 0 ? 3 : 5;
  return opts;
}

void run_lock_seeds(std::uint64_t first, std::uint64_t count) {
  for (auto seed = first; seed < first + count; ++seed) {
    auto opts = lock_seed_options(seed);
    auto out = run(opts);
    ASSERT_TRUE(no_violation(opts, out));
    EXPECT_GT(out.chosen_slots, 0u) << "seed " << seed;
  }
}

TEST(LockSimulationTest, SameSeedGivesSameTrace) {
  for (std::uint64_t seed : {7, 8, 1234}) {
    auto a = run(lock_seed_options(seed));
    auto b = run(lock_seed_options(seed));
    EXPECT_EQ(a.trace_hash, b.trace_hash) << "seed " << seed;
    EXPECT_EQ(a.locks.grants, b.locks.grants) << "seed " << seed;
  }
  EXPECT_NE(run(lock_seed_options(7)).trace_hash, run(lock_seed_options(9)).trace_hash);
}

// The seeds exercise what the checks are about: grants, expiries, leader
// changes, fenced writes, the fence refusing stale holders, watch events.
TEST(LockSimulationTest, SeedsCoverTheScenarios) {
  ballot::sim::lock_stats total;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    auto out = run(lock_seed_options(seed));
    ASSERT_FALSE(out.violation) << "seed " << seed << ": " << *out.violation;
    total.grants += out.locks.grants;
    total.expiries += out.locks.expiries;
    total.leader_changes += out.locks.leader_changes;
    total.writes += out.locks.writes;
    total.fenced += out.locks.fenced;
    total.stale_holders += out.locks.stale_holders;
    total.watch_events += out.locks.watch_events;
  }
  EXPECT_GT(total.grants, 1000u);
  EXPECT_GT(total.expiries, 100u);
  EXPECT_GT(total.leader_changes, 100u);
  EXPECT_GT(total.writes, 500u);
  EXPECT_GT(total.fenced, 20u);
  EXPECT_GT(total.stale_holders, 10u);
  EXPECT_GT(total.watch_events, 1000u);
}

// The simulated clients drive the product's acquire_waiter through its
// paths: grants found by a look, waits withdrawn at their deadline, and
// grants that raced the withdraw (reported with their token, not lost).
TEST(LockSimulationTest, SeedsCoverTheWaits) {
  ballot::sim::lock_stats total;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    auto out = run(lock_seed_options(seed));
    ASSERT_FALSE(out.violation) << "seed " << seed << ": " << *out.violation;
    total.waits_granted += out.locks.waits_granted;
    total.waits_withdrawn += out.locks.waits_withdrawn;
    total.late_grants += out.locks.late_grants;
  }
  // Seeds 1..200 gave 895, 203 and 91 when this was written.
  EXPECT_GT(total.waits_granted, 400u);
  EXPECT_GT(total.waits_withdrawn, 100u);
  EXPECT_GT(total.late_grants, 30u);
}

// Half the runs send keep-alives the way a gateway coalesces them, one
// keep_alive_many for the sessions handed over in the same tick; the checks
// (no healthy session expires, acknowledged deadlines hold, the lease bound)
// then apply to the batch's rule as to the single one.
TEST(LockSimulationTest, SeedsCoverCoalescedKeepAlives) {
  ballot::sim::lock_stats total;
  std::size_t coalescing_runs = 0;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    auto out = run(lock_seed_options(seed));
    ASSERT_FALSE(out.violation) << "seed " << seed << ": " << *out.violation;
    coalescing_runs += out.locks.ka_batches > 0 ? 1 : 0;
    total.ka_batches += out.locks.ka_batches;
    total.ka_multi_batches += out.locks.ka_multi_batches;
    total.ka_batched += out.locks.ka_batched;
    total.expiries += out.locks.ka_batches > 0 ? out.locks.expiries : 0;
  }
  EXPECT_GT(coalescing_runs, 60u);
  EXPECT_LT(coalescing_runs, 140u);
  EXPECT_GT(total.ka_batches, 1000u);
  EXPECT_GT(total.ka_multi_batches, 100u);
  EXPECT_GT(total.ka_batched, total.ka_batches);
  EXPECT_GT(total.expiries, 20u);  // sessions also end in the coalescing runs
}

// Time's faults and checks are exercised: wall clocks step, monotonic
// clocks jump, the lease check runs, expiries start lock-delays.
TEST(LockSimulationTest, SeedsCoverClockFaults) {
  ballot::sim::lock_stats total;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    auto out = run(lock_seed_options(seed));
    ASSERT_FALSE(out.violation) << "seed " << seed << ": " << *out.violation;
    total.clock_steps += out.locks.clock_steps;
    total.clock_jumps += out.locks.clock_jumps;
    total.lease_checks += out.locks.lease_checks;
    total.lock_delays += out.locks.lock_delays;
  }
  EXPECT_GT(total.clock_steps, 100u);
  EXPECT_GT(total.clock_jumps, 50u);
  EXPECT_GT(total.lease_checks, 10'000u);
  EXPECT_GT(total.lock_delays, 20u);
}

// 4,000 seeds in four tests of about four seconds each.
TEST(LockSimulationTest, Seeds1To1000) {
  run_lock_seeds(1, 1000);
}
TEST(LockSimulationTest, Seeds1001To2000) {
  run_lock_seeds(1001, 1000);
}
TEST(LockSimulationTest, Seeds2001To3000) {
  run_lock_seeds(2001, 1000);
}
TEST(LockSimulationTest, Seeds3001To4000) {
  run_lock_seeds(3001, 1000);
}

}  // namespace
