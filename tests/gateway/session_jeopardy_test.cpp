// The client library's session as the driver of the session_keeper core,
// end to end: a client that reaches the cluster through a relay the test
// freezes reports jeopardy (state and callback), healthy again when the
// relay thaws before the TTL, and expired (final, with on_lost) when it
// does not.

#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/client/session.hpp"
#include "runtime/discovery/registration.hpp"
#include "tests/gateway/cluster_fixture.hpp"
#include "tests/gateway/run_ballotctl.hpp"
#include "tests/process/freezable_relay.hpp"

namespace {

using namespace ballot;
using namespace std::chrono_literals;
using client::session_health;
using steady = std::chrono::steady_clock;

class SessionJeopardyTest : public test_support::ClusterFixture {};

/// The health changes the session called back with, and when.
struct health_log {
  std::mutex m;
  std::vector<std::pair<session_health, steady::time_point>> changes;
  std::vector<std::string> lost;

  void add(session_health h) {
    std::lock_guard<std::mutex> guard{m};
    changes.emplace_back(h, steady::now());
  }
  std::vector<session_health> seen() {
    std::lock_guard<std::mutex> guard{m};
    std::vector<session_health> out;
    for (auto& c : changes)
      out.push_back(c.first);
    return out;
  }
};

bool await_health(client::session& s, session_health want, std::chrono::milliseconds limit) {
  auto deadline = steady::now() + limit;
  while (s.health() != want && steady::now() < deadline)
    std::this_thread::sleep_for(2ms);
  return s.health() == want;
}

std::uint16_t port_of(const std::string& endpoint) {
  return static_cast<std::uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
}

TEST_F(SessionJeopardyTest, ACutOffSessionReportsJeopardyThenHealthyOrExpired) {
  start_all_gateways();
  ballot::testing::freezable_relay relay{port_of(endpoint_of(1))};
  auto c = make_client({relay.endpoint()});
  // TTL 2 s, jeopardy 1 s before: keep-alives every 333 ms.
  auto timing = client::keeper_config::defaults_for(2000ms);
  timing.jeopardy_margin = 1000ms;
  timing.interval = 333ms;
  timing.retry = 83ms;
  health_log log;
  auto s = client::session::open(
    *c, timing,
    [&](const std::string& why) {
      std::lock_guard<std::mutex> guard{log.m};
      log.lost.push_back(why);
    },
    [&](session_health h) { log.add(h); });
  ASSERT_NE(s, nullptr);

  // Connected for more than a TTL: healthy throughout.
  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(s->health(), session_health::healthy);
  EXPECT_TRUE(log.seen().empty());

  // Cut off: jeopardy comes between TTL - margin - interval and TTL - margin
  // after the freeze (plus scheduling), and the callback says so.
  auto frozen = steady::now();
  relay.freeze();
  ASSERT_TRUE(await_health(*s, session_health::jeopardy, 3s));
  auto in_jeopardy = steady::now() - frozen;
  EXPECT_GE(in_jeopardy, 600ms);
  EXPECT_LE(in_jeopardy, 1500ms);
  EXPECT_TRUE(s->in_jeopardy());
  EXPECT_FALSE(s->lost());
  // Back before the TTL: the stuck keep-alives get through and confirm.
  relay.thaw();
  ASSERT_TRUE(await_health(*s, session_health::healthy, 2s));
  std::this_thread::sleep_for(20ms);  // the callback runs after the state changed
  EXPECT_EQ(log.seen(),
            (std::vector<session_health>{session_health::jeopardy, session_health::healthy}));

  // Cut off for good: jeopardy, then expired a margin later, for good.
  relay.freeze();
  ASSERT_TRUE(await_health(*s, session_health::expired, 4s));
  relay.thaw();
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(s->health(), session_health::expired);
  EXPECT_TRUE(s->lost());
  auto seen = log.seen();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[2], session_health::jeopardy);
  EXPECT_EQ(seen[3], session_health::expired);
  {
    std::lock_guard<std::mutex> guard{log.m};
    auto margin = log.changes[3].second - log.changes[2].second;
    EXPECT_GE(margin, 700ms);  // the margin, give or take a busy machine
    EXPECT_LE(margin, 1500ms);
    ASSERT_EQ(log.lost.size(), 1u);
    EXPECT_NE(log.lost[0].find("presumed expired"), std::string::npos) << log.lost[0];
  }
}

/// Polls `pred` every 2 ms until it holds or `limit` passes.
template <class Pred>
bool eventually(std::chrono::milliseconds limit, Pred pred) {
  auto deadline = steady::now() + limit;
  while (!pred() && steady::now() < deadline)
    std::this_thread::sleep_for(2ms);
  return pred();
}

TEST_F(SessionJeopardyTest, ACutOffRegistrationFollowsItsSessionKeeperThenRegistersAgain) {
  start_all_gateways();
  ballot::testing::freezable_relay relay{port_of(endpoint_of(1))};
  auto c = make_client({relay.endpoint()}, 1s);
  auto direct = make_client({endpoint_of(2)});
  std::mutex m;
  std::vector<std::string> logged;
  discovery::registration_options ro;
  ro.ttl = 2000ms;  // the keeper's defaults: jeopardy at 1.5 s, keep-alives every 500 ms
  ro.retry = 100ms;
  ro.log = [&](const std::string& what) {
    std::lock_guard<std::mutex> guard{m};
    logged.push_back(what);
  };
  discovery::registration r{*c, "reg/w", "v1", ro};
  ASSERT_TRUE(r.wait_registered(5s));
  auto first = r.session();
  EXPECT_EQ(r.health(), session_health::healthy);
  std::this_thread::sleep_for(2500ms);  // kept alive past a TTL
  EXPECT_EQ(r.health(), session_health::healthy);

  // Cut off: jeopardy TTL - margin after the last confirmed send (at most an
  // interval before the freeze), logged; then expired a margin later.
  auto frozen = steady::now();
  relay.freeze();
  ASSERT_TRUE(eventually(3s, [&] { return r.health() == session_health::jeopardy; }));
  auto jeopardy = steady::now();
  EXPECT_GE(jeopardy - frozen, 800ms);
  EXPECT_LE(jeopardy - frozen, 1500ms + 300ms);
  ASSERT_TRUE(eventually(2s, [&] { return r.health() == session_health::expired; }));
  auto expired = steady::now();
  EXPECT_GE(expired - jeopardy, 300ms);
  EXPECT_LE(expired - jeopardy, 500ms + 300ms);
  EXPECT_TRUE(eventually(1s, [&] { return !r.registered(); }));
  {
    std::lock_guard<std::mutex> guard{m};
    bool said = false;
    for (auto& line : logged)
      said = said || line.find("jeopardy") != std::string::npos;
    EXPECT_TRUE(said);
  }

  // Back: a new session, the key put again under it.
  relay.thaw();
  ASSERT_TRUE(eventually(10s, [&] { return r.registered() && r.session() != first; }));
  EXPECT_EQ(r.health(), session_health::healthy);
  EXPECT_EQ(r.puts(), 2u);
  EXPECT_EQ(direct->get("reg/w").value, "v1");
}

TEST_F(SessionJeopardyTest, BallotctlKillsACommandThatIgnoresSigtermAfterTheGrace) {
  start_all_gateways();
  ballot::testing::freezable_relay relay{port_of(endpoint_of(1))};
  auto started = ::testing::TempDir() + "jeopardy-started-" + std::to_string(getpid());
  std::remove(started.c_str());
  // TTL 2 s, SIGTERM 0.8 s before it, SIGKILL 0.3 s after that. CMD ignores
  // SIGTERM (its short sleeps do not hold ballotctl's stdout for long).
  auto run = std::async(std::launch::async, [&] {
    return test_support::ballotctl(
      "--timeout 5 --endpoints " + relay.endpoint() +
      " lock stubborn --ttl 2 --jeopardy-margin 0.8 --kill-grace 0.3 -- sh -c \"trap '' TERM; "
      "touch " +
      started + "; while :; do sleep 0.05; done\" 2>&1");
  });
  auto deadline = steady::now() + 10s;
  while (!std::ifstream{started} && steady::now() < deadline)
    std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(std::ifstream{started}) << "CMD did not start";
  std::this_thread::sleep_for(2500ms);  // healthy for more than a TTL
  auto frozen = steady::now();
  relay.freeze();
  ASSERT_EQ(run.wait_for(10s), std::future_status::ready);
  auto stopped_after = steady::now() - frozen;
  auto r = run.get();
  EXPECT_EQ(r.exit_code, 75) << r.out;
  EXPECT_NE(r.out.find("jeopardy"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sending SIGKILL"), std::string::npos) << r.out;
  // Killed a grace after jeopardy, which came TTL - margin after the last
  // confirmed send (at most an interval before the freeze): before the
  // cluster could expire the session (TTL after that send).
  EXPECT_GE(stopped_after, 800ms);
  EXPECT_LE(stopped_after, 1900ms);
  std::remove(started.c_str());
}

TEST_F(SessionJeopardyTest, BadTimingIsRefusedBeforeAnythingIsSent) {
  // No gateway runs: a request would fail, the validation comes first.
  client::options opts;
  opts.endpoints = {"127.0.0.1:1"};
  client::client c{opts};
  auto timing = client::keeper_config::defaults_for(1000ms);
  timing.jeopardy_margin = 1000ms;
  try {
    client::session::open(c, timing, nullptr, nullptr);
    FAIL() << "a margin equal to the TTL was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string{e.what()}.find("jeopardy margin 1000 ms"), std::string::npos) << e.what();
  }
}

}  // namespace
