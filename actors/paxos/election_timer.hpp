#pragma once

#include <cstdint>
#include <random>

namespace ballot::paxos {

/// Failure detection in ticks: fires when nothing was heard from a leader for
/// a random number of ticks in [min, max). The randomness keeps two followers
/// from starting dueling elections in lockstep; it is seeded by the caller so
/// a simulated run replays exactly.
class election_timer {
 public:
  election_timer(std::uint32_t min_ticks, std::uint32_t max_ticks, std::uint64_t seed)
      : min_(min_ticks), max_(max_ticks > min_ticks ? max_ticks : min_ticks + 1), rng_(seed) {
    reset();
  }

  /// Heard from a live leader (or granted a vote): start waiting afresh.
  void reset() {
    elapsed_ = 0;
    timeout_ = std::uniform_int_distribution<std::uint32_t>(min_, max_ - 1)(rng_);
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
  std::mt19937_64 rng_;
  std::uint32_t elapsed_ = 0;
  std::uint32_t timeout_ = 0;
};

}  // namespace ballot::paxos
