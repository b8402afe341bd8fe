#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "actors/balance/policies/policy.hpp"

/// Test doubles shared by the policy tests.
namespace ballot::balance::test {

/// A load_view the test sets directly: unknown ids are available and idle.
class fake_load final : public load_view {
 public:
  std::uint32_t outstanding(backend_id id) const override {
    auto it = state_.find(id);
    return it == state_.end() ? 0 : it->second.outstanding;
  }
  bool available(backend_id id) const override {
    auto it = state_.find(id);
    return it == state_.end() || it->second.available;
  }

  void set_outstanding(backend_id id, std::uint32_t n) { state_[id].outstanding = n; }
  void add(backend_id id, int delta) {
    state_[id].outstanding =
      static_cast<std::uint32_t>(static_cast<int>(state_[id].outstanding) + delta);
  }
  void set_available(backend_id id, bool yes) { state_[id].available = yes; }
  void clear() { state_.clear(); }

 private:
  struct entry {
    std::uint32_t outstanding = 0;
    bool available = true;
  };
  std::unordered_map<backend_id, entry> state_;
};

/// Backends 1..n with weight 1 (or the weights given).
inline std::vector<backend> backends(std::size_t n) {
  std::vector<backend> out;
  for (std::size_t i = 1; i <= n; ++i)
    out.push_back(backend{i, 1});
  return out;
}

inline std::vector<backend> backends(const std::vector<std::uint32_t>& weights) {
  std::vector<backend> out;
  for (std::size_t i = 0; i < weights.size(); ++i)
    out.push_back(backend{i + 1, weights[i]});
  return out;
}

/// A small deterministic generator for the tests themselves (splitmix64),
/// independent of the one inside the policies.
class test_rng {
 public:
  explicit test_rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  /// In [0, n); the tiny modulo bias is irrelevant here.
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

}  // namespace ballot::balance::test
