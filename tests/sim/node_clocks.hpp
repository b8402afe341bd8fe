#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "actors/paxos/lease_clock.hpp"
#include "actors/paxos/types.hpp"

namespace ballot::sim {

class lock_host;

/// The clocks of the simulated nodes in the lock workload, with their faults,
/// and the lease clock each node's driver keeps (as the replica actor does).
///
/// Per node, drawn per run:
///  - a wall clock: true time at the node's rate, plus a skew of up to 40 ms,
///    plus STEPS, forward or back, of up to two hours (NTP stepping, an
///    operator's `date -s`). Nothing in the product may read it; the
///    `lease_wall_clock` mutant stamps from it, as Ballot once did;
///  - a monotonic clock: true time at the node's rate (DRIFT of up to
///    `max_drift_ppm`), plus forward JUMPS of up to five seconds (a VM paused
///    by its host). Jumps are at least two of the longest TTLs apart, so a
///    session sees at most one between two keep-alives.
class node_clocks {
 public:
  /// `max_ttl_ms` spaces the jumps; `max_step_ms` is the lease clocks' bound.
  node_clocks(lock_host& host, std::size_t nodes, std::uint64_t max_ttl_ms,
              std::uint64_t max_step_ms);

  /// One tick of the fault phase at true time `now`: may step a wall clock
  /// or make a monotonic clock jump.
  void inject(std::uint64_t now);

  std::uint64_t wall_ms(paxos::node_id node, std::uint64_t now) const;
  std::uint64_t mono_ms(paxos::node_id node, std::uint64_t now) const;

  /// The node's process (re)starts at `now`: a fresh lease clock, knowing
  /// only the log time its state machine reached.
  void restart(paxos::node_id node, std::uint64_t now, std::uint64_t log_time_ms);
  /// Every tick, every live node: the lease clock reads the monotonic clock
  /// and follows the log.
  /// `leading`: the node leads (its lease time never lags the log).
  void observe(paxos::node_id node, std::uint64_t now, std::uint64_t log_time_ms, bool leading);
  /// The time the node, as leader, stamps into a command proposed now.
  std::uint64_t stamp(paxos::node_id node, std::uint64_t now, std::uint64_t log_time_ms);

  /// The node's clock rate in parts per million above (or below) true time.
  std::int64_t drift_ppm(paxos::node_id node) const { return at(node).drift_ppm; }
  std::int64_t max_drift_ppm() const { return max_drift_ppm_; }
  std::uint64_t max_step_ms() const { return max_step_; }
  std::size_t steps() const { return steps_; }
  std::size_t jumps() const { return jumps_; }
  /// A line for the run's trace header.
  std::string describe() const;

 private:
  struct clock {
    std::int64_t drift_ppm = 0;
    std::uint64_t skew_ms = 0;
    std::int64_t wall_offset_ms = 0;  ///< the sum of its steps
    std::uint64_t jumped_ms = 0;      ///< the sum of its monotonic jumps
    paxos::lease_clock lease{0};
  };
  const clock& at(paxos::node_id node) const { return clocks_.at(node); }

  lock_host& host_;
  std::map<paxos::node_id, clock> clocks_;
  std::uint64_t max_ttl_ = 0;
  std::uint64_t max_step_ = 0;
  std::int64_t max_drift_ppm_ = 0;
  std::uint64_t step_rate_ = 0, jump_rate_ = 0;  ///< per million ticks
  std::uint64_t next_jump_ = 0;                  ///< no jump before this true time
  std::size_t steps_ = 0, jumps_ = 0;
};

}  // namespace ballot::sim
