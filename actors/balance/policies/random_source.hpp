#pragma once

#include <cstdint>

namespace ballot::balance {

/// The policies' pseudo-random generator: splitmix64, seeded from
/// `policy_options::seed`. Small (8 bytes), fast, statistically good enough
/// for load balancing, and the same sequence on every platform, so a policy is
/// reproducible from its seed (std:: distributions are not portable).
class random_source {
 public:
  explicit random_source(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    state_ += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  /// Uniform in [0, bound), bound > 0, without modulo bias. Lemire's
  /// multiply-and-shift: one multiplication, a division only in the rare
  /// rejection case, which keeps a pick in the nanoseconds.
  std::uint64_t below(std::uint64_t bound) {
    __extension__ using u128 = unsigned __int128;
    u128 m = static_cast<u128>(next()) * bound;
    auto low = static_cast<std::uint64_t>(m);
    if (low < bound) {
      std::uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
      while (low < threshold) {
        m = static_cast<u128>(next()) * bound;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

 private:
  std::uint64_t state_;
};

}  // namespace ballot::balance
