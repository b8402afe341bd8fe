#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

/// The `balance` workload of ballot-bench: a balancer actor over local worker
/// actors, driven by closed-loop clients (each sends its next request when
/// the last one is answered). It measures the balancer's own cost: the
/// workers answer at once. This header is free of CAF.
namespace ballot::bench {

struct balance_workload_options {
  std::size_t clients = 16;
  std::chrono::duration<double> duration{5.0};  ///< the measured window
  std::chrono::duration<double> warmup{1.0};    ///< unmeasured, before it
  std::size_t workers = 8;
  /// A policy name of ballot::balance::parse_policy_kind: "least-outstanding"
  /// (the default), "power-of-two" ("p2c"), "round-robin", "ring-hash", ...
  std::string policy = "least-outstanding";
  /// Distinct request keys, drawn uniformly (hashing policies route by them).
  std::size_t keys = 1000;
  /// Scheduler threads of the actor system (0: CAF's default, one per core).
  std::size_t threads = 0;
};

struct balance_workload_result {
  std::uint64_t ops = 0;     ///< requests answered with a reply in the measured window
  std::uint64_t errors = 0;  ///< requests answered with an error in the measured window
  double seconds = 0;        ///< length of the measured window
  std::string policy;        ///< the policy's canonical name
  /// Non-empty if the workload did not run (e.g. an unknown policy name).
  std::string error;
};

/// One request answered in the measured window: its latency and whether it
/// got a reply (else an error). Called on the calling thread, after the run.
using balance_latency_sample = std::function<void(std::uint32_t latency_us, bool ok)>;

/// Once per second of the run, on the calling thread: the requests answered
/// in that second and whether it was still warm-up.
using balance_progress = std::function<void(int second, std::uint64_t answered, bool warmup)>;

/// Runs the workload (warm-up, then the measured window) and returns once
/// the actor system is down.
balance_workload_result run_balance_workload(const balance_workload_options& opts,
                                             const balance_latency_sample& on_sample,
                                             const balance_progress& on_second = {});

}  // namespace ballot::bench
