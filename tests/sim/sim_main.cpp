// ballot-sim: runs seeded simulations of the Paxos core under faults.
//
//   ballot-sim --seeds 20000 --progress      soak: many seeds, 3 and 5 nodes
//   ballot-sim --seed 42 --nodes 5 --trace   replay one run event by event
//   ballot-sim --workload lock --seeds 2000  the lock service under the same faults
//
// Exit status: 0 when every run kept every invariant, 1 when one did not
// (with --expect-violation the other way round: used to prove that the
// simulator catches deliberately broken cores), 2 on bad flags.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/sim/simulation.hpp"

namespace {

const char* usage =
  "usage: ballot-sim [--workload log|lock] [--seed N | --seeds COUNT [--first N]]\n"
  "                  [--nodes 3|5|mixed] [--fault-ticks T] [--liveness-ticks T] [--clients C]\n"
  "                  [--trace] [--progress] [--expect-violation]\n"
  "\n"
  "Runs seeded deterministic simulations of Ballot's Multi-Paxos core with a\n"
  "faulty network (drop, duplicate, delay, reorder, partition) and crashing\n"
  "nodes, checking safety invariants after every step and liveness after the\n"
  "faults stop. A failing run prints the one command that replays it.\n"
  "\n"
  "  --workload log|lock log: a recording state machine, Paxos invariants (default);\n"
  "                      lock: the lock service with sessions, locks, fenced writes\n"
  "                      to a simulated store and watches, and its invariants\n"
  "  --seed N            run exactly this seed\n"
  "  --seeds COUNT       run COUNT seeds starting at --first (default 1)\n"
  "  --nodes 3|5|mixed   replicas per run; mixed alternates 3 and 5 (default)\n"
  "  --fault-ticks T     ticks of faults before the network heals (default 300)\n"
  "  --liveness-ticks T  ticks allowed to finish after healing (default 400; 800\n"
  "                      with --workload lock)\n"
  "  --clients C         concurrent clients (default 6)\n"
  "  --trace             print every event of the run\n"
  "  --progress          print a progress line every 1000 seeds\n"
  "  --expect-violation  succeed only if some seed breaks an invariant\n";

[[noreturn]] void bad_flag(const std::string& flag, const std::string& value) {
  std::fprintf(stderr, "ballot-sim: invalid value '%s' for %s\n\n%s", value.c_str(), flag.c_str(),
               usage);
  std::exit(2);
}

std::uint64_t number(const std::string& flag, const char* text) {
  char* end = nullptr;
  auto value = std::strtoull(text, &end, 10);
  if (*text == '\0' || *end != '\0' || *text == '-')
    bad_flag(flag, text);
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  ballot::sim::options base;
  std::uint64_t first = 1;
  std::uint64_t count = 1;
  std::string nodes = "mixed";
  bool progress = false;
  bool expect_violation = false;
  bool liveness_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    auto arg = [&]() -> const char* {
      if (i + 1 >= argc)
        bad_flag(flag, "(missing)");
      return argv[++i];
    };
    if (flag == "--help" || flag == "-h") {
      std::fputs(usage, stdout);
      return 0;
    } else if (flag == "--seed") {
      first = number(flag, arg());
      count = 1;
    } else if (flag == "--seeds") {
      count = number(flag, arg());
    } else if (flag == "--first") {
      first = number(flag, arg());
    } else if (flag == "--nodes") {
      nodes = arg();
      if (nodes != "3" && nodes != "5" && nodes != "mixed")
        bad_flag(flag, nodes);
    } else if (flag == "--fault-ticks") {
      base.fault_ticks = number(flag, arg());
    } else if (flag == "--liveness-ticks") {
      base.liveness_ticks = number(flag, arg());
      liveness_given = true;
    } else if (flag == "--workload") {
      std::string w = arg();
      if (w == "log")
        base.work = ballot::sim::options::workload::log;
      else if (w == "lock")
        base.work = ballot::sim::options::workload::lock;
      else
        bad_flag(flag, w);
    } else if (flag == "--clients") {
      base.clients = number(flag, arg());
      if (base.clients == 0)
        bad_flag(flag, "0");
    } else if (flag == "--trace") {
      base.trace = true;
    } else if (flag == "--progress") {
      progress = true;
    } else if (flag == "--expect-violation") {
      expect_violation = true;
    } else {
      std::fprintf(stderr, "ballot-sim: unknown flag '%s'\n\n%s", flag.c_str(), usage);
      return 2;
    }
  }

  bool locks = base.work == ballot::sim::options::workload::lock;
  if (locks && !liveness_given)
    base.liveness_ticks = ballot::sim::lock_options(1).liveness_ticks;

  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  std::uint64_t failures = 0, slots = 0, acked = 0, messages = 0, crashes = 0, partitions = 0,
                disk_faults = 0;
  std::uint64_t fresh_reads = 0, minority_reads = 0, reconfigurations = 0;
  std::uint64_t late_retries = 0, expired_answers = 0;
  std::uint64_t ran = 0;
  ballot::sim::lock_stats lt;
  for (std::uint64_t seed = first; seed < first + count; ++seed) {
    auto opts = base;
    opts.seed = seed;
    opts.nodes = nodes == "mixed" ? (seed % 2 == 0 ? 3 : 5) : std::stoul(nodes);
    auto out = ballot::sim::run(opts);
    ++ran;
    slots += out.chosen_slots;
    acked += out.acked;
    messages += out.messages;
    crashes += out.crashes;
    disk_faults += out.disk_faults;
    partitions += out.partitions;
    fresh_reads += out.fresh_leader_reads;
    minority_reads += out.minority_leader_reads;
    reconfigurations += out.reconfigurations;
    late_retries += out.late_retries;
    expired_answers += out.expired_answers;
    lt.sessions += out.locks.sessions;
    lt.grants += out.locks.grants;
    lt.expiries += out.locks.expiries;
    lt.leader_changes += out.locks.leader_changes;
    lt.writes += out.locks.writes;
    lt.fenced += out.locks.fenced;
    lt.late_writes += out.locks.late_writes;
    lt.stale_holders += out.locks.stale_holders;
    lt.watch_events += out.locks.watch_events;
    lt.pauses += out.locks.pauses;
    lt.hangs += out.locks.hangs;
    lt.crashes += out.locks.crashes;
    lt.lost_grace += out.locks.lost_grace;
    lt.clock_steps += out.locks.clock_steps;
    lt.clock_jumps += out.locks.clock_jumps;
    lt.lease_checks += out.locks.lease_checks;
    lt.lock_delays += out.locks.lock_delays;
    if (out.violation) {
      ++failures;
      std::printf("FAIL seed %llu (%zu nodes, tick %llu): %s\n  replay: %s\n",
                  static_cast<unsigned long long>(seed), opts.nodes,
                  static_cast<unsigned long long>(out.ticks), out.violation->c_str(),
                  ballot::sim::replay_command(opts, argv[0]).c_str());
      if (expect_violation)
        break;
    } else if (count == 1) {
      std::printf(
        "seed %llu ok: %zu slots chosen, %zu commands acknowledged, %zu messages, "
        "%zu crashes, %zu partitions, trace hash %016llx\n",
        static_cast<unsigned long long>(seed), out.chosen_slots, out.acked, out.messages,
        out.crashes, out.partitions, static_cast<unsigned long long>(out.trace_hash));
      if (locks)
        std::printf(
          "  lock: %zu sessions, %zu grants, %zu expiries, %zu leader changes, %zu fenced "
          "writes accepted, %zu accesses fenced off, %zu watch events\n",
          out.locks.sessions, out.locks.grants, out.locks.expiries, out.locks.leader_changes,
          out.locks.writes, out.locks.fenced, out.locks.watch_events);
    }
    if (progress && ran % 1000 == 0)
      std::fprintf(stderr, "ballot-sim: %llu/%llu seeds, %llu failed, %.1f s\n",
                   static_cast<unsigned long long>(ran), static_cast<unsigned long long>(count),
                   static_cast<unsigned long long>(failures), elapsed());
  }
  double secs = elapsed();
  std::printf(
    "%llu seeds in %.1f s (%.0f seeds/s): %llu failed; %llu slots chosen, %llu commands "
    "acknowledged, %llu messages, %llu crashes (%llu with a lost or damaged disk), %llu "
    "partitions\n",
    static_cast<unsigned long long>(ran), secs, ran / (secs > 0 ? secs : 1),
    static_cast<unsigned long long>(failures), static_cast<unsigned long long>(slots),
    static_cast<unsigned long long>(acked), static_cast<unsigned long long>(messages),
    static_cast<unsigned long long>(crashes), static_cast<unsigned long long>(disk_faults),
    static_cast<unsigned long long>(partitions));
  if (!locks)
    std::printf(
      "reads: %llu sent to a leader as it was elected, %llu reached a leader cut off "
      "from the majority; %llu membership changes acknowledged; dedup: %llu late retries, "
      "%llu answers expired\n",
      static_cast<unsigned long long>(fresh_reads), static_cast<unsigned long long>(minority_reads),
      static_cast<unsigned long long>(reconfigurations),
      static_cast<unsigned long long>(late_retries),
      static_cast<unsigned long long>(expired_answers));
  if (locks)
    std::printf(
      "lock workload: %zu sessions, %zu grants, %zu expiries, %zu leader changes; store: %zu "
      "writes accepted, %zu accesses fenced off, %zu accesses by holders whose session had "
      "expired, %zu writes by a superseded holder before its successor's first access; %zu "
      "watch events checked; clients: %zu pauses, %zu hangs, %zu crashes; %zu expiries in a "
      "grace window whose leader_change was never chosen; clocks: %zu wall-clock steps, %zu "
      "monotonic jumps; %zu lease checks; %zu lock-delays started by an expiry\n",
      lt.sessions, lt.grants, lt.expiries, lt.leader_changes, lt.writes, lt.fenced,
      lt.stale_holders, lt.late_writes, lt.watch_events, lt.pauses, lt.hangs, lt.crashes,
      lt.lost_grace, lt.clock_steps, lt.clock_jumps, lt.lease_checks, lt.lock_delays);
  if (expect_violation) {
    if (failures == 0) {
      std::printf("expected a violation, but all %llu seeds passed\n",
                  static_cast<unsigned long long>(ran));
      return 1;
    }
    std::printf("caught after %llu seeds in %.2f s\n", static_cast<unsigned long long>(ran), secs);
    return 0;
  }
  return failures == 0 ? 0 : 1;
}
