#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/metrics/registry.hpp"

namespace ballot::metrics {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(MetricsRegistryTest, CountersAndGaugesRenderWithHelpTypeAndLabels) {
  registry reg;
  auto& requests = reg.add_counter("ballot_requests_total", "Client calls.", {"op", "result"});
  auto& role = reg.add_gauge("ballot_role", "1 leader, 0 follower.");
  requests.with({"put", "ok"}).inc();
  requests.with({"put", "ok"}).inc(2);
  requests.with({"get", "notFound"}).inc();
  role.with().set(1);
  auto text = reg.render();
  EXPECT_TRUE(contains(text, "# HELP ballot_requests_total Client calls.\n"));
  EXPECT_TRUE(contains(text, "# TYPE ballot_requests_total counter\n"));
  EXPECT_TRUE(contains(text, "ballot_requests_total{op=\"put\",result=\"ok\"} 3\n"));
  EXPECT_TRUE(contains(text, "ballot_requests_total{op=\"get\",result=\"notFound\"} 1\n"));
  EXPECT_TRUE(contains(text, "# TYPE ballot_role gauge\nballot_role 1\n"));
}

TEST(MetricsRegistryTest, HistogramBucketsAreCumulativeAndCountIsTheInfBucket) {
  registry reg;
  auto& h = reg.add_histogram("ballot_fsync_seconds", "Syncs.", {0.001, 0.01, 0.1});
  auto& s = h.with();
  s.observe(0.0005);
  s.observe(0.001);  // on a bound: counted in that bucket (le)
  s.observe(0.05);
  s.observe(3);
  auto snap = s.read();
  ASSERT_EQ(snap.cumulative.size(), 4u);
  EXPECT_EQ(snap.cumulative[0], 2u);
  EXPECT_EQ(snap.cumulative[1], 2u);
  EXPECT_EQ(snap.cumulative[2], 3u);
  EXPECT_EQ(snap.cumulative[3], 4u);
  EXPECT_EQ(snap.count, 4u);
  EXPECT_NEAR(snap.sum, 3.0515, 1e-12);
  auto text = reg.render();
  EXPECT_TRUE(contains(text, "ballot_fsync_seconds_bucket{le=\"0.001\"} 2\n"));
  EXPECT_TRUE(contains(text, "ballot_fsync_seconds_bucket{le=\"+Inf\"} 4\n"));
  EXPECT_TRUE(contains(text, "ballot_fsync_seconds_count 4\n"));
  EXPECT_TRUE(contains(text, "ballot_fsync_seconds_sum 3.0515"));
}

TEST(MetricsRegistryTest, LabelValuesAreEscaped) {
  registry reg;
  reg.add_gauge("ballot_x", "X.", {"name"}).with({"a\"b\\c\nd"}).set(2.5);
  EXPECT_TRUE(contains(reg.render(), "ballot_x{name=\"a\\\"b\\\\c\\nd\"} 2.5\n"));
}

TEST(MetricsRegistryTest, CardinalityIsBoundedByAnOverflowSeries) {
  registry reg;
  auto& f = reg.add_counter("ballot_by_name_total", "By name.", {"name"}, 3);
  for (int i = 0; i < 100; ++i)
    f.with({"n" + std::to_string(i)}).inc();
  auto text = reg.render();
  EXPECT_TRUE(contains(text, "ballot_by_name_total{name=\"n0\"} 1\n"));
  EXPECT_TRUE(contains(text, "ballot_by_name_total{name=\"n2\"} 1\n"));
  EXPECT_FALSE(contains(text, "name=\"n3\""));
  EXPECT_TRUE(contains(text, "ballot_by_name_total{name=\"other\"} 97\n"));
  // A very long label value is cut, not stored whole.
  registry reg2;
  reg2.add_gauge("ballot_long", "L.", {"v"}).with({std::string(10'000, 'x')}).set(1);
  EXPECT_LT(reg2.render().size(), 400u);
}

TEST(MetricsRegistryTest, BadNamesAndDuplicatesAreRefused) {
  registry reg;
  EXPECT_THROW(reg.add_counter("ballot_requests", "no _total suffix"), std::invalid_argument);
  EXPECT_THROW(reg.add_gauge("1abc", "bad name"), std::invalid_argument);
  EXPECT_THROW(reg.add_gauge("ballot_ok", "bad label", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(reg.add_histogram("ballot_h", "le is reserved", {1}, {"le"}), std::invalid_argument);
  EXPECT_THROW(reg.add_histogram("ballot_h2", "bounds", {2, 1}), std::invalid_argument);
  reg.add_gauge("ballot_once", "once");
  EXPECT_THROW(reg.add_gauge("ballot_once", "twice"), std::invalid_argument);
  auto& f = reg.add_gauge("ballot_two", "two labels", {"a", "b"});
  EXPECT_THROW(f.with({"only one"}), std::invalid_argument);
}

TEST(MetricsRegistryTest, CollectorsWriteAtRenderTimeAndCanBeRemoved) {
  registry reg;
  int calls = 0;
  auto id = reg.add_collector([&calls](text_writer& out) {
    ++calls;
    out.family("ballot_collected", "Computed at scrape.", kind::gauge);
    out.sample("ballot_collected", {{"k", "v"}}, 7.0);
  });
  EXPECT_TRUE(contains(reg.render(), "ballot_collected{k=\"v\"} 7\n"));
  EXPECT_EQ(calls, 1);
  reg.remove_collector(id);
  EXPECT_FALSE(contains(reg.render(), "ballot_collected"));
  EXPECT_EQ(calls, 1);
}

TEST(MetricsRegistryTest, ConcurrentUpdatesAreNotLost) {
  registry reg;
  auto& c = reg.add_counter("ballot_c_total", "c").with();
  auto& g = reg.add_gauge("ballot_g", "g").with();
  auto& h = reg.add_histogram("ballot_h_seconds", "h", latency_buckets()).with();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 20'000; ++i) {
        c.inc();
        g.add(1);
        h.observe(0.001);
      }
    });
  // Scrapes meanwhile see a consistent histogram (count == +Inf bucket).
  for (int i = 0; i < 50; ++i) {
    auto snap = h.read();
    EXPECT_EQ(snap.count, snap.cumulative.back());
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(c.value(), 80'000u);
  EXPECT_EQ(g.value(), 80'000.0);
  EXPECT_EQ(h.read().count, 80'000u);
  EXPECT_NEAR(h.read().sum, 80.0, 1e-6);
}

TEST(MetricsRegistryTest, ValuesFormatAsPrometheusReadsThem) {
  EXPECT_EQ(format_value(3), "3");
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(1.0 / 0.0), "+Inf");
  EXPECT_EQ(format_value(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(format_value(0.0 / 0.0), "NaN");
  EXPECT_EQ(power_of_two_buckets(8), (std::vector<double>{1, 2, 4, 8}));
}

}  // namespace
}  // namespace ballot::metrics
