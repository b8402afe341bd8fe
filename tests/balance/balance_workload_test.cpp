// The `balance` workload of ballot-bench runs, measures and stops by itself.

#include "bench/balance_workload.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace {

using namespace ballot::bench;

TEST(BalanceWorkloadTest, MeasuresEveryAnsweredRequestInTheWindow) {
  balance_workload_options o;
  o.clients = 4;
  o.workers = 8;
  o.policy = "p2c";
  o.warmup = std::chrono::milliseconds(200);
  o.duration = std::chrono::milliseconds(500);
  std::vector<std::uint32_t> latencies;
  int seconds = 0;
  auto r = run_balance_workload(
    o,
    [&](std::uint32_t us, bool ok) {
      EXPECT_TRUE(ok);
      latencies.push_back(us);
    },
    [&](int, std::uint64_t, bool) { ++seconds; });
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.policy, "power-of-two");
  EXPECT_GT(r.ops, 100u);
  EXPECT_EQ(r.errors, 0u);
  EXPECT_EQ(latencies.size(), r.ops);
  EXPECT_GE(seconds, 1);
}

TEST(BalanceWorkloadTest, RejectsAnUnknownPolicy) {
  balance_workload_options o;
  o.policy = "fastest";
  auto r = run_balance_workload(o, {});
  EXPECT_NE(r.error.find("unknown policy 'fastest'"), std::string::npos);
}

}  // namespace
