// The operator port of real ballotd processes: Prometheus metrics checked by
// promtool under load, values that move when the leader dies, /health on a
// node cut off from its peers, /status against ballotctl, and the status page
// rendered by a real browser (headless chromium).
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/process/cluster_fixture.hpp"
#include "tests/support/http_get.hpp"

namespace ballot::testing {
namespace {

/// Runs a shell command; its exit status and everything it printed.
std::pair<int, std::string> run(const std::string& command) {
  std::string out;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr)
    return {-1, "popen failed"};
  char buf[4096];
  while (auto n = std::fread(buf, 1, sizeof buf, p))
    out.append(buf, n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

bool have(const std::string& tool) {
  return run("command -v " + tool).first == 0;
}

/// The value of the sample `series` (name and labels exactly as printed), or -1.
double sample(const std::string& text, const std::string& series) {
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos)
    return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

/// The sum of every sample of `name` (any labels), or -1 if none.
double sum_of(const std::string& text, const std::string& name) {
  std::regex line{"\n" + name + "(\\{[^}]*\\})? ([0-9.e+-]+)"};
  double total = -1;
  for (std::sregex_iterator it{text.begin(), text.end(), line}, end; it != end; ++it)
    total = (total < 0 ? 0 : total) + std::stod((*it)[2]);
  return total;
}

/// A three-node cluster with the operator port on for every node.
class MetricsProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (std::size_t id = 1; id <= 3; ++id) {
      ports_[id] = free_port();
      cluster_.node_flags[id] = {"--metrics", "127.0.0.1:" + std::to_string(ports_[id])};
    }
    cluster_.start_all();
    ASSERT_NE(cluster_.leader(), 0u) << "no leader elected";
  }

  std::string scrape(std::size_t id) {
    auto a = http_get(ports_[id], "/metrics");
    EXPECT_EQ(a.status, 200) << "node " << id << ": " << a.body;
    return a.body;
  }

  /// Polls `check` every 100 ms until it holds or `wait` passes.
  template <class F>
  bool eventually(F check, std::chrono::milliseconds wait) {
    auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
      if (check())
        return true;
      std::this_thread::sleep_for(100ms);
    }
    return check();
  }

  cluster_processes cluster_;
  std::map<std::size_t, std::uint16_t> ports_;
};

TEST_F(MetricsProcessTest, PromtoolAcceptsEveryNodeUnderLoadAndValuesMove) {
  if (!have("promtool"))
    GTEST_SKIP() << "promtool not installed (Debian package prometheus; .ci/install-deps adds it)";
  std::atomic<bool> stop{false};
  std::atomic<int> puts{0};
  std::thread load{[&] {
    client::client c{cluster_.client_options()};
    auto session = c.open_session(std::chrono::seconds(10));
    std::uint64_t i = 0;
    while (!stop) {
      if (c.put("k" + std::to_string(i++ % 50), "value").ok())
        ++puts;
      c.get("k1");
      if (session.ok() && i % 10 == 0)
        c.acquire(session.session, "lock-" + std::to_string(i % 3), lock::lock_mode::exclusive,
                  std::chrono::milliseconds(0));
    }
  }};
  std::this_thread::sleep_for(2500ms);
  for (std::size_t id = 1; id <= 3; ++id) {
    auto text = scrape(id);
    auto file = cluster_.dir() / ("scrape-" + std::to_string(id) + ".txt");
    std::ofstream{file} << text;
    auto [code, out] = run("promtool check metrics < " + file.string());
    EXPECT_EQ(code, 0) << "node " << id << ": promtool says:\n" << out;
    EXPECT_EQ(out.find("error"), std::string::npos) << out;
    EXPECT_EQ(out.find("should"), std::string::npos) << "lint: " << out;
    // Each node sees its own replica commit and sync.
    auto r = "{replica=\"" + std::to_string(id) + "\"}";
    EXPECT_GT(sample(text, "ballot_commit_index" + r), 0) << text;
    EXPECT_GT(sample(text, "ballot_wal_fsync_duration_seconds_count" + r), 0);
    EXPECT_GT(sample(text, "ballot_wal_bytes_total" + r), 0);
    EXPECT_GE(sample(text, "ballot_wal_segments" + r), 1);
    EXPECT_EQ(sum_of(text, "ballot_role"), 1) << "one role per replica";
    EXPECT_EQ(sum_of(text, "ballot_peer_up"), 2) << "both peers answer";
    EXPECT_EQ(sum_of(text, "ballot_peer_link_up"), 2) << "both links are up";
  }
  stop = true;
  load.join();
  ASSERT_GT(puts.load(), 10);
  // The client spreads its calls: the nodes together answered every put.
  double put_ok = 0;
  for (std::size_t id = 1; id <= 3; ++id)
    put_ok +=
      std::max(0.0, sample(scrape(id), "ballot_client_requests_total{op=\"put\",result=\"ok\"}"));
  EXPECT_GE(put_ok, puts.load());
  auto leader = cluster_.leader();
  auto text = scrape(leader);
  auto r = "{replica=\"" + std::to_string(leader) + "\"}";
  EXPECT_EQ(sample(text, "ballot_role{replica=\"" + std::to_string(leader) + "\",role=\"leader\"}"),
            1);
  EXPECT_GT(sample(text, "ballot_commit_duration_seconds_count" + r), 0);
  EXPECT_GT(sample(text, "ballot_proposal_batch_size_count" + r), 0);
  EXPECT_GT(sample(text, "ballot_read_index_duration_seconds_count" + r), 0);
}

TEST_F(MetricsProcessTest, KillingTheLeaderCountsALeaderChangeAndAPeerDown) {
  auto leader = cluster_.leader();
  ASSERT_NE(leader, 0u);
  std::size_t survivor = leader == 1 ? 2 : 1;
  auto before = sample(scrape(survivor),
                       "ballot_leader_changes_total{replica=\"" + std::to_string(survivor) + "\"}");
  ASSERT_GE(before, 0);
  auto peer = "ballot_peer_up{peer=\"" + std::to_string(leader) + "\"}";
  ASSERT_TRUE(eventually([&] { return sample(scrape(survivor), peer) == 1; }, 5s));
  cluster_.kill9(leader);
  EXPECT_TRUE(eventually([&] { return sample(scrape(survivor), peer) == 0; }, 10s))
    << scrape(survivor);
  // The transport's own link state says so too (a killed peer's socket closes).
  EXPECT_TRUE(eventually(
    [&] {
      return sample(scrape(survivor),
                    "ballot_peer_link_up{peer=\"" + std::to_string(leader) + "\"}") == 0;
    },
    10s))
    << scrape(survivor);
  EXPECT_TRUE(eventually(
    [&] {
      return sample(scrape(survivor), "ballot_leader_changes_total{replica=\"" +
                                        std::to_string(survivor) + "\"}") > before;
    },
    15s))
    << scrape(survivor);
  EXPECT_GT(sum_of(scrape(survivor), "ballot_peer_probe_failures_total"), 0);
}

TEST_F(MetricsProcessTest, HealthIs503OnANodeCutOffFromItsPeersAnd200Again) {
  for (std::size_t id = 1; id <= 3; ++id)
    EXPECT_TRUE(eventually([&] { return http_get(ports_[id], "/health").status == 200; }, 10s))
      << "node " << id << ": " << http_get(ports_[id], "/health").body;
  // Node 1 alone: its peers are frozen (SIGSTOP keeps their sockets open).
  cluster_.node(2).kill(SIGSTOP);
  cluster_.node(3).kill(SIGSTOP);
  http_answer cut;
  EXPECT_TRUE(eventually(
    [&] {
      cut = http_get(ports_[1], "/health");
      return cut.status == 503;
    },
    10s));
  EXPECT_FALSE(cut.body.empty()) << "503 without a reason";
  std::printf("cut-off node's /health: %d %s", cut.status, cut.body.c_str());
  cluster_.node(2).kill(SIGCONT);
  cluster_.node(3).kill(SIGCONT);
  EXPECT_TRUE(eventually([&] { return http_get(ports_[1], "/health").status == 200; }, 15s))
    << http_get(ports_[1], "/health").body;
}

TEST_F(MetricsProcessTest, StatusIsWhatBallotctlJsonStatusSays) {
  auto leader = cluster_.leader();
  // Node 1 learns of the leader from its heartbeats: compare once both
  // answers know it (one taken in between would say "no leader" rightly).
  nlohmann::json served, ctl;
  ASSERT_TRUE(eventually(
    [&] {
      auto a = http_get(ports_[1], "/status");
      auto [code, out] = run(std::string{BALLOTCTL_BIN} + " --endpoints " +
                             cluster_.client_endpoint(1) + " --json status");
      if (a.status != 200 || code != 0)
        return false;
      served = nlohmann::json::parse(a.body);
      ctl = nlohmann::json::parse(out);
      return served["leader"] == leader && ctl["leader"] == leader;
    },
    10s))
    << "served: " << served.dump() << "\nballotctl: " << ctl.dump();
  // The same keys in the same order, and the same facts.
  std::vector<std::string> served_keys, ctl_keys;
  for (auto& [k, v] : served.items())
    served_keys.push_back(k);
  for (auto& [k, v] : ctl.items())
    ctl_keys.push_back(k);
  EXPECT_EQ(served_keys, ctl_keys);
  EXPECT_EQ(served["leader"], leader);
  EXPECT_EQ(ctl["leader"], leader);
  EXPECT_EQ(served["node_id"], 1);
  EXPECT_EQ(served["answered_by"], ctl["answered_by"]);
  ASSERT_EQ(served["members"].size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(served["members"][i]["id"], ctl["members"][i]["id"]);
    EXPECT_EQ(served["members"][i]["up"], true);
    EXPECT_EQ(served["members"][i]["leader"], ctl["members"][i]["leader"]);
  }
}

TEST_F(MetricsProcessTest, ChromiumRendersTheStatusPageWithLeaderAndMembers) {
  std::string browser = have("chromium")           ? "chromium"
                        : have("chromium-browser") ? "chromium-browser"
                                                   : "";
  if (browser.empty())
    GTEST_SKIP() << "chromium not installed (Debian package chromium; .ci/install-deps adds it)";
  auto leader = cluster_.leader();
  // A lock with a holder, to see on the page (its token must not show).
  client::client c{cluster_.client_options()};
  auto session = c.open_session(std::chrono::seconds(30));
  ASSERT_TRUE(session.ok());
  auto held = c.acquire(session.session, "page-lock", lock::lock_mode::exclusive,
                        std::chrono::milliseconds(0));
  ASSERT_TRUE(held.ok());
  std::this_thread::sleep_for(1500ms);  // the page's lock list refreshes each second
  auto profile = cluster_.dir() / "chromium-profile";
  auto [code, dom] =
    run("timeout 90 " + browser + " --headless --no-sandbox --disable-gpu --no-first-run " +
        "--user-data-dir=" + profile.string() + " --virtual-time-budget=8000 --dump-dom " +
        "http://127.0.0.1:" + std::to_string(ports_[2]) + "/");
  ASSERT_EQ(code, 0) << dom;
  EXPECT_NE(dom.find("data-loaded=\"1\""), std::string::npos) << "the script did not render:\n"
                                                              << dom;
  EXPECT_NE(dom.find("<td id=\"leader\" class=\"\">" + std::to_string(leader) + "</td>"),
            std::string::npos)
    << dom;
  for (int id = 1; id <= 3; ++id)
    EXPECT_NE(dom.find("<tr data-member=\"" + std::to_string(id) + "\">"), std::string::npos)
      << "member " << id << " missing:\n"
      << dom;
  // The lock's row: its holder by session and mode, nothing else (no token).
  auto row =
    "<td>page-lock</td><td>" + std::to_string(session.session) + " (exclusive)</td><td>-</td>";
  EXPECT_NE(dom.find(row), std::string::npos) << row << " missing:\n" << dom;
  auto state = http_get(ports_[2], "/ui/state").body;
  EXPECT_NE(state.find("page-lock"), std::string::npos) << state;
  EXPECT_EQ(state.find("token"), std::string::npos) << "fencing tokens are not shown: " << state;
  EXPECT_EQ(state.find("secret"), std::string::npos) << state;
  EXPECT_GT(held.token, 0u);
}

}  // namespace
}  // namespace ballot::testing
