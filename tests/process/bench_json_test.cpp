// ballot-bench --json (SURFACE.md): the last stdout line is one JSON object
// with the summary's keys in their documented order, and numbers that add up.
#include <nlohmann/json.hpp>

#include "tests/support/process.hpp"

#include <gtest/gtest.h>

namespace {

using namespace ballot::testing;

TEST(BenchJsonTest, LastLineIsTheSummaryObjectWithTheDocumentedKeys) {
  process bench{{BENCH_BIN, "--embedded", "--workload", "put", "--clients", "2", "--duration", "1",
                 "--warmup", "0", "--json"}};
  auto code = bench.exit_code(std::chrono::seconds(60));
  ASSERT_EQ(code, std::optional<int>{0}) << bench.err();
  auto out = bench.out();
  while (!out.empty() && out.back() == '\n')
    out.pop_back();
  auto last = out.substr(out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1);
  auto j = nlohmann::ordered_json::parse(last);
  std::vector<std::string> keys;
  for (auto& [k, v] : j.items())
    keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"workload", "clients", "duration_s", "ops", "ops_per_s",
                                            "p50_us", "p90_us", "p99_us", "max_us", "errors"}));
  EXPECT_EQ(j["workload"], "put");
  EXPECT_EQ(j["clients"], 2);
  EXPECT_GT(j["ops"].get<std::uint64_t>(), 0u);
  EXPECT_GT(j["ops_per_s"].get<double>(), 0.0);
  EXPECT_LE(j["p50_us"].get<std::uint64_t>(), j["p99_us"].get<std::uint64_t>());
  EXPECT_LE(j["p99_us"].get<std::uint64_t>(), j["max_us"].get<std::uint64_t>());
  EXPECT_NEAR(j["duration_s"].get<double>(), 1.0, 0.5);
}

}  // namespace
