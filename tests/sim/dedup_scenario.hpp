#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <string>

#include "actors/paxos/lease_clock.hpp"
#include "actors/paxos/types.hpp"

namespace ballot::sim {

/// Half of the log workload's runs that do not reconfigure (`enabled_for`
/// false in the others) evict idle clients from the dedup table
/// (issue 9): a TTL of about a second of log time, a dedup window of 2, 4 or
/// 64, leaders that stamp their lease clock into each command (the log time),
/// and clients that behave as the client library does, scaled down:
///  - a write retries for at most `retry_limit_ms` (the library's longest
///    call), then it is given up (its outcome unknown);
///  - a client that wrote nothing for `fresh_after_ms` takes a fresh id;
///  - now and then a client sleeps for up to two TTLs;
///  - now and then an old write past the first window comes back one to two
///    TTLs later ("late retry", a stale copy from a network or a buggy
///    client): whatever the table forgot, it must never apply twice.
/// A node's monotonic clock may jump forward by up to three TTLs, so the log
/// time jumps when it leads: a jump must age nobody by more than the step bound.
///
/// Everything is drawn from a generator of its own: the other half of the
/// log runs follow the course they had before.
class dedup_scenario {
 public:
  dedup_scenario(std::uint64_t seed, bool enabled_for);

  bool enabled() const { return ttl_ms_ != 0; }
  std::uint64_t ttl_ms() const { return ttl_ms_; }
  std::size_t window() const { return window_; }
  /// The core's `dedup_max_step_ms`.
  std::uint64_t max_step_ms() const { return ttl_ms_ / 8; }
  std::uint64_t retry_limit_ms() const { return ttl_ms_ / 4; }
  std::uint64_t fresh_after_ms() const { return ttl_ms_ / 4; }
  /// A client whose last acknowledged write was first sent less than this
  /// ago is live: its next write is never refused `expired`. Log time may
  /// run ahead of true time by a few step bounds (a jump, a lagging leader
  /// caught up), and the TTL leaves room for them.
  std::uint64_t live_ms() const { return ttl_ms_ / 2; }
  /// A write first sent this long before another applies is still in the
  /// table then (the same room for log time running ahead).
  std::uint64_t remembered_ms() const { return ttl_ms_ * 5 / 8; }

  /// The lease clocks of the nodes, as the replica actor keeps them (no
  /// bound per reading here: a jump passes whole, the worst case).
  void restart(paxos::node_id node, std::uint64_t now, std::uint64_t log_time_ms);
  /// `leading`: the node leads (its lease time never lags the log).
  void observe(paxos::node_id node, std::uint64_t now, std::uint64_t log_time_ms, bool leading);
  std::uint64_t stamp(paxos::node_id node, std::uint64_t now, std::uint64_t log_time_ms);
  /// One tick of the fault phase: may make a node's clock jump.
  void inject(std::uint64_t now, std::size_t nodes, const std::function<void(std::string)>& trace);

  /// Draws: a late retry of a write past the first window (and its delay),
  /// a client's sleep after a write.
  bool late_retry() { return rng_() % 100 < 40; }
  std::uint64_t late_delay() { return ttl_ms_ + rng_() % ttl_ms_; }
  bool sleeps() { return rng_() % 100 < 5; }
  std::uint64_t sleep_ms() { return rng_() % (2 * ttl_ms_); }

  std::string describe() const;

 private:
  std::uint64_t mono(paxos::node_id node, std::uint64_t now) { return now + jumped_[node]; }

  std::mt19937_64 rng_;
  std::uint64_t ttl_ms_ = 0;
  std::size_t window_ = 64;
  bool jumps_ = false;
  std::uint64_t next_jump_ = 0;
  std::map<paxos::node_id, paxos::lease_clock> clocks_;
  std::map<paxos::node_id, std::uint64_t> jumped_;
};

}  // namespace ballot::sim
