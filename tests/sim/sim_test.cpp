// The simulator as a test: many seeds of mixed faults on 3 and 5 replicas,
// and determinism (one seed, one trace).
#include <gtest/gtest.h>

#include "tests/sim/simulation.hpp"

namespace {

using ballot::sim::options;
using ballot::sim::run;

options seed_options(std::uint64_t seed) {
  options opts;
  opts.seed = seed;
  opts.nodes = seed % 2 == 0 ? 3 : 5;
  return opts;
}

void run_seeds(std::uint64_t first, std::uint64_t count) {
  for (auto seed = first; seed < first + count; ++seed) {
    auto opts = seed_options(seed);
    auto out = run(opts);
    ASSERT_FALSE(out.violation) << "seed " << seed << ": " << *out.violation
                                << "\n  replay: " << ballot::sim::replay_command(opts);
    // A run that commits nothing proves nothing.
    EXPECT_GT(out.chosen_slots, 0u) << "seed " << seed;
  }
}

TEST(SimulationTest, SameSeedGivesSameTrace) {
  for (std::uint64_t seed : {7, 8, 1234}) {
    auto a = run(seed_options(seed));
    auto b = run(seed_options(seed));
    EXPECT_EQ(a.trace_hash, b.trace_hash) << "seed " << seed;
    EXPECT_EQ(a.chosen_slots, b.chosen_slots) << "seed " << seed;
  }
  EXPECT_NE(run(seed_options(7)).trace_hash, run(seed_options(9)).trace_hash);
}

// 10,000 seeds in four tests so that ctest can run them on both cores.
TEST(SimulationTest, Seeds1To2500) {
  run_seeds(1, 2500);
}
TEST(SimulationTest, Seeds2501To5000) {
  run_seeds(2501, 2500);
}
TEST(SimulationTest, Seeds5001To7500) {
  run_seeds(5001, 2500);
}
TEST(SimulationTest, Seeds7501To10000) {
  run_seeds(7501, 2500);
}

}  // namespace
