#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>

namespace ballot::paxos {

/// The time a leader stamps into the commands it proposes (log time, in ms),
/// measured with a monotonic clock instead of the wall clock. Pure: the
/// driver reads its monotonic clock and passes the reading in.
///
/// Every replica keeps one, leader or not, so that a new leader starts from
/// a good estimate of the log's time instead of a stale one:
///  - a follower's is the newest stamp it applied plus what elapsed since
///    (`follow` sets it there, even back): never ahead of the log's time.
///    Log time may have lost time at a fail-over (a leader that applied the
///    last stamp late measures from then); a follower that kept its own
///    clock would be ahead by as much, and leading next it would jump log
///    time forward and expire a healthy session before its keeper's
///    deadline (seed 2118 of the lock workload, 2026-12-07);
///  - a leader's never lags the log (its own stamps, and what it applies);
///  - between two readings it runs with the elapsed monotonic time, each
///    reading counting at most `max_step_ms`. A wall-clock step therefore
///    changes nothing, and a jump of the monotonic clock itself (a VM paused
///    by its host, a process frozen with SIGSTOP) counts as one step, not as
///    its length: the replica did not run as the cluster's leader meanwhile
///    (its followers would have elected another), so that time must not be
///    held against clients whose keep-alives it could not see. The driver
///    reads every tick, so normal readings are a tick apart, far below it.
///
/// At the start of a leadership its value is the log time the replica
/// reached plus what elapsed since it reached it (bounded per reading as
/// above); the leader's first command, `leader_change`, grants every live
/// session a grace from there, so whatever this estimate gets wrong across a
/// fail-over costs no healthy session. Stamps never go backwards.
class lease_clock {
 public:
  explicit lease_clock(std::uint64_t max_step_ms) : max_step_(max_step_ms) {}

  /// The monotonic clock reads `mono_ms`. The first reading only sets the
  /// origin (a new process knows nothing of the time before it).
  void advance(std::uint64_t mono_ms) {
    if (last_mono_ && mono_ms > *last_mono_) {
      auto elapsed = mono_ms - *last_mono_;
#ifndef BALLOT_MUTANT_LEASE_NO_BOUND
      elapsed = std::min(elapsed, max_step_);
#endif
      now_ += elapsed;
    }
    // A reading below the last one (impossible for a monotonic clock, but
    // cheap to survive) moves nothing and becomes the new origin.
    last_mono_ = mono_ms;
  }

  /// The state machine's log reached `log_time_ms` (the largest stamp it
  /// applied). `leading`: this replica stamps the log; its lease time is
  /// never behind it. Otherwise a newer stamp sets the lease time.
  void follow(std::uint64_t log_time_ms, bool leading) {
    if (!leading && log_time_ms > followed_)
      now_ = log_time_ms;
    followed_ = std::max(followed_, log_time_ms);
    now_ = std::max(now_, log_time_ms);
  }

  /// An empty log has no time yet: this sets where lease time starts (the
  /// first leader's wall clock), without counting as a stamp.
  void start_at(std::uint64_t ms) {
    now_ = std::max(now_, ms);
  }

  /// The stamp for a command proposed now.
  std::uint64_t stamp(std::uint64_t mono_ms) {
    advance(mono_ms);
    return now_;
  }

  /// The lease time as of the last reading.
  std::uint64_t now() const {
    return now_;
  }
  std::uint64_t max_step_ms() const {
    return max_step_;
  }

 private:
  std::uint64_t max_step_;
  std::uint64_t now_ = 0;
  /// The newest stamp applied.
  std::uint64_t followed_ = 0;
  std::optional<std::uint64_t> last_mono_;
};

}  // namespace ballot::paxos
