#pragma once

#include <cstdint>
#include <random>

namespace ballot::paxos {

/// Failure detection in ticks: fires when nothing was heard from a leader for
/// a random number of ticks in [min, max). The randomness keeps two followers
/// from starting dueling elections in lockstep; it is seeded by the caller so
/// a simulated run replays exactly.
///
/// Each election started without a leader heard since the last one doubles
/// the range, up to 2^max_backoff times (randomized exponential backoff):
/// when a voter's disk takes longer to record a promise than a timeout, a
/// candidate that restarts at every timeout never collects its quorum, and
/// two of them outbid each other for ever (a CI run saw no leader for 20 s
/// with 150 ms syncs against 100-200 ms timeouts). Hearing a leader settles
/// it back to [min, max).
class election_timer {
 public:
  election_timer(std::uint32_t min_ticks, std::uint32_t max_ticks, std::uint64_t seed,
                 std::uint32_t max_backoff = 0)
      : min_(min_ticks),
        max_(max_ticks > min_ticks ? max_ticks : min_ticks + 1),
        // Past 2^8 the waits are hours at any sane tick; also keeps the shift in range.
        max_shift_(max_backoff < 8 ? max_backoff : 8),
        rng_(seed) {
    reset();
  }

  /// Heard from a live leader (or granted a vote): start waiting afresh.
  void reset() {
    elapsed_ = 0;
    timeout_ = std::uniform_int_distribution<std::uint64_t>(
      std::uint64_t{min_} << shift_, (std::uint64_t{max_} << shift_) - 1)(rng_);
  }

  /// This replica starts an election: the next wait, and those after it
  /// until a leader is heard, are drawn from a range twice as long.
  void back_off() {
#ifndef BALLOT_MUTANT_NO_ELECTION_BACKOFF
    if (shift_ < max_shift_)
      ++shift_;
#endif
    reset();
  }

  /// Heard from an established leader (or became one): the configured range again.
  void settle() {
    shift_ = 0;
  }

  /// The current range is [min, max) times 2^backoff().
  std::uint32_t backoff() const {
    return shift_;
  }

  /// Advances one tick; true when the timeout has expired (and restarts it).
  bool tick() {
    if (++elapsed_ < timeout_)
      return false;
    reset();
    return true;
  }

 private:
  std::uint32_t min_;
  std::uint32_t max_;
  std::uint32_t max_shift_;
  std::uint32_t shift_ = 0;
  std::mt19937_64 rng_;
  std::uint64_t elapsed_ = 0;
  std::uint64_t timeout_ = 0;
};

}  // namespace ballot::paxos
