#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "actors/paxos/replica.hpp"
#include "tests/sim/lock_workload.hpp"
#include "tests/sim/oracle.hpp"

namespace ballot::sim {

/// What one simulated run looks like. Everything not given here is drawn
/// from the seed, so (seed, nodes) names a run exactly.
struct options {
  /// What the replicas run: `log` is a recording state machine (the Paxos
  /// invariants); `lock` is the product's service machine with lock clients
  /// (sessions, locks, fenced writes, watches; see lock_workload.hpp).
  enum class workload { log, lock };

  workload work = workload::log;
  std::uint64_t seed = 1;
  std::size_t nodes = 3;
  /// Ticks with faults (drop, duplicate, delay, partition, crash), then the
  /// network heals, every node restarts and clients only finish what is pending.
  std::uint64_t fault_ticks = 300;
  /// Liveness bound: after healing, every pending command commits and every
  /// replica converges within this many ticks.
  std::uint64_t liveness_ticks = 400;
  /// Clients (in the lock workload: client processes, three endpoints each).
  std::size_t clients = 6;
  /// Print every event (for replaying a failing seed).
  bool trace = false;
};

struct outcome {
  std::optional<std::string> violation;
  std::uint64_t trace_hash = 0;
  std::uint64_t ticks = 0;
  std::size_t chosen_slots = 0;
  std::size_t acked = 0;
  std::size_t messages = 0;
  std::size_t crashes = 0;
  /// Crashes that also lost the data directory or damaged it (see lose_disk).
  std::size_t disk_faults = 0;
  std::size_t partitions = 0;
  /// Forged messages injected (see forger.hpp), and those a replica took
  /// instead of refusing (none, but in a mutant).
  std::size_t forged = 0;
  std::size_t forged_taken = 0;
  /// Membership changes acknowledged (log workload, half of the runs).
  std::size_t reconfigurations = 0;
  /// Log workload: reads sent to a leader the moment it was elected, and
  /// reads that reached a leader on the minority side of a partition.
  std::size_t fresh_leader_reads = 0;
  std::size_t minority_leader_reads = 0;
  /// Log workload, runs that evict idle clients: late retries sent, and
  /// answers `expired` (to them and to clients the table forgot).
  std::size_t late_retries = 0;
  std::size_t expired_answers = 0;
  /// Leaders the operator's removal cut off after the network healed (see
  /// RECONFIGURATION.md): each moves the run's end (log and lock workloads).
  std::size_t late_cuts = 0;
  /// Nodes whose disks sync slower than an election timeout (a quarter of
  /// the runs: a majority of the nodes), and the leaderships the run saw.
  std::size_t slow_disks = 0;
  std::size_t leaderships = 0;
  /// Lock workload only.
  lock_stats locks;
};

/// The defaults of the lock workload: longer to settle after healing (hung
/// clients' sessions must expire and waiters be granted in turn).
options lock_options(std::uint64_t seed);

/// Runs one seeded simulation of `nodes` replica cores over a fake network and
/// fake disks, checking the oracle's invariants after every step.
outcome run(const options& opts);

/// The one command that replays a run.
std::string replay_command(const options& opts,
                           const std::string& program = "build/bin/ballot-sim");

}  // namespace ballot::sim
