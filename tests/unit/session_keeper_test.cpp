// The client's session lease core on a fake clock: when keep-alives go out,
// which confirmation anchors the lease, and when the client must believe it
// is in jeopardy or expired.
#include "actors/lock/session_keeper.hpp"

#include <deque>
#include <stdexcept>
#include <utility>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using ballot::lock::keeper_config;
using ballot::lock::session_health;
using ballot::lock::session_keeper;

using time_point = session_keeper::time_point;

/// The fake clock: milliseconds after an arbitrary origin.
time_point at(std::int64_t ms) {
  return time_point{} + 1000s + std::chrono::milliseconds(ms);
}

/// TTL 3 s, jeopardy 1 s before it, a keep-alive every 600 ms, retried every
/// 200 ms while unanswered, at most 3 in flight.
keeper_config timing() {
  keeper_config c;
  c.ttl = 3000ms;
  c.jeopardy_margin = 1000ms;
  c.interval = 600ms;
  c.retry = 200ms;
  c.max_in_flight = 3;
  return c;
}

TEST(SessionKeeperTest, DefaultsLeaveThreeKeepAlivesBeforeJeopardy) {
  auto c = keeper_config::defaults_for(10s);
  EXPECT_EQ(c.jeopardy_margin, 2500ms);
  EXPECT_EQ(c.interval, 2500ms);
  EXPECT_EQ(c.retry, 625ms);
  EXPECT_EQ(validate(c), "");
  // The smallest TTL ballotctl accepts still gives a usable timing.
  EXPECT_EQ(validate(keeper_config::defaults_for(100ms)), "");
}

TEST(SessionKeeperTest, ValidationNamesTheBadValue) {
  auto bad = [](auto change) {
    auto c = timing();
    change(c);
    return validate(c);
  };
  EXPECT_EQ(bad([](keeper_config&) {}), "");
  EXPECT_NE(bad([](keeper_config& c) { c.ttl = 0ms; }).find("ttl 0 ms"), std::string::npos);
  EXPECT_NE(bad([](keeper_config& c) { c.jeopardy_margin = 0ms; }).find("margin 0 ms"),
            std::string::npos);
  EXPECT_NE(bad([](keeper_config& c) { c.jeopardy_margin = 3000ms; }).find("margin 3000 ms"),
            std::string::npos);
  EXPECT_NE(bad([](keeper_config& c) { c.jeopardy_margin = 4000ms; }).find("4000 ms"),
            std::string::npos);
  // A keep-alive due only at jeopardy could never keep the session out of it.
  EXPECT_NE(bad([](keeper_config& c) { c.interval = 2000ms; }).find("interval 2000 ms"),
            std::string::npos);
  EXPECT_EQ(bad([](keeper_config& c) { c.interval = 1999ms; }), "");
  EXPECT_NE(bad([](keeper_config& c) { c.retry = 0ms; }).find("retry 0 ms"), std::string::npos);
  EXPECT_NE(bad([](keeper_config& c) { c.retry = 601ms; }).find("retry 601 ms"), std::string::npos);
  EXPECT_NE(bad([](keeper_config& c) { c.max_in_flight = 0; }).find("in flight 0"),
            std::string::npos);
  auto c = timing();
  c.jeopardy_margin = 3000ms;
  EXPECT_THROW((session_keeper{c, at(0)}), std::invalid_argument);
}

TEST(SessionKeeperTest, HealthFollowsTheOpensSendTime) {
  session_keeper k{timing(), at(0)};
  EXPECT_EQ(k.health(at(1999)), session_health::healthy);
  EXPECT_EQ(k.health(at(2000)), session_health::jeopardy);
  EXPECT_EQ(k.health(at(2999)), session_health::jeopardy);
  EXPECT_EQ(k.health(at(3000)), session_health::expired);
  EXPECT_FALSE(k.gone_by_cluster());
}

TEST(SessionKeeperTest, TheMarginIsConfigurable) {
  auto c = timing();
  c.jeopardy_margin = 500ms;
  session_keeper k{c, at(0)};
  EXPECT_EQ(k.health(at(2499)), session_health::healthy);
  EXPECT_EQ(k.health(at(2500)), session_health::jeopardy);
  EXPECT_EQ(k.jeopardy_at(), at(2500));
  EXPECT_EQ(k.expires_at(), at(3000));
}

TEST(SessionKeeperTest, FirstKeepAliveIsDueOneIntervalAfterTheOpen) {
  session_keeper k{timing(), at(0)};
  EXPECT_FALSE(k.send_due(at(0)));
  EXPECT_FALSE(k.send_due(at(599)));
  EXPECT_TRUE(k.send_due(at(600)));
  EXPECT_EQ(k.in_flight(), 1u);
}

TEST(SessionKeeperTest, AConfirmationAnchorsAtTheSendTimeNotTheReplyTime) {
  session_keeper k{timing(), at(0)};
  auto t = k.send_due(at(600));
  ASSERT_TRUE(t);
  k.confirmed(*t, at(1500));  // a slow reply
  EXPECT_EQ(k.confirmed_sent_at(), at(600));
  EXPECT_EQ(k.health(at(2599)), session_health::healthy);
  EXPECT_EQ(k.health(at(2600)), session_health::jeopardy);
  EXPECT_EQ(k.health(at(3600)), session_health::expired);
  // The next one was due an interval after that send: overdue already.
  EXPECT_EQ(k.next_wake(at(1500)), at(1500));
  EXPECT_TRUE(k.send_due(at(1500)));
}

TEST(SessionKeeperTest, TheNextKeepAliveIsDueAnIntervalAfterTheConfirmedSend) {
  session_keeper k{timing(), at(0)};
  auto t = k.send_due(at(600));
  ASSERT_TRUE(t);
  k.confirmed(*t, at(650));
  EXPECT_FALSE(k.send_due(at(1199)));
  EXPECT_TRUE(k.send_due(at(1200)));
}

TEST(SessionKeeperTest, AnOldKeepAlivesConfirmationDoesNotExtendPastItsOwnSendTimePlusTtl) {
  session_keeper k{timing(), at(0)};
  auto a = k.send_due(at(600));
  auto b = k.send_due(at(800));
  auto c = k.send_due(at(1000));
  ASSERT_TRUE(a && b && c);
  // Only the oldest is ever confirmed, late: the lease counts from its send.
  k.confirmed(*a, at(1900));
  k.unanswered(*b, at(1900));
  k.unanswered(*c, at(1900));
  EXPECT_EQ(k.jeopardy_at(), at(2600));
  EXPECT_EQ(k.health(at(2600)), session_health::jeopardy);
  EXPECT_EQ(k.health(at(3600)), session_health::expired);
}

TEST(SessionKeeperTest, OutOfOrderConfirmationsKeepTheNewestSendTime) {
  session_keeper k{timing(), at(0)};
  auto a = k.send_due(at(600));
  auto b = k.send_due(at(800));
  ASSERT_TRUE(a && b);
  k.confirmed(*b, at(900));
  EXPECT_EQ(k.confirmed_sent_at(), at(800));
  k.confirmed(*a, at(950));  // older, answered later
  EXPECT_EQ(k.confirmed_sent_at(), at(800));
  EXPECT_EQ(k.jeopardy_at(), at(2800));
  EXPECT_EQ(k.in_flight(), 0u);
}

TEST(SessionKeeperTest, UnknownAndRepeatedTicketsAreIgnored) {
  session_keeper k{timing(), at(0)};
  auto a = k.send_due(at(600));
  ASSERT_TRUE(a);
  k.confirmed(*a + 100, at(700));
  EXPECT_EQ(k.confirmed_sent_at(), at(0));
  k.unanswered(*a, at(700));
  k.confirmed(*a, at(710));  // already ended without an answer
  EXPECT_EQ(k.confirmed_sent_at(), at(0));
}

TEST(SessionKeeperTest, UnansweredKeepAlivesAreRetriedUpToTheCapInFlight) {
  session_keeper k{timing(), at(0)};
  ASSERT_TRUE(k.send_due(at(600)));
  EXPECT_FALSE(k.send_due(at(799)));
  auto second = k.send_due(at(800));
  ASSERT_TRUE(second);
  ASSERT_TRUE(k.send_due(at(1000)));
  EXPECT_EQ(k.in_flight(), 3u);
  // The cap: nothing more until one ends.
  EXPECT_FALSE(k.send_due(at(1200)));
  EXPECT_FALSE(k.send_due(at(1900)));
  k.unanswered(*second, at(1950));
  EXPECT_TRUE(k.send_due(at(1950)));
}

TEST(SessionKeeperTest, AConfirmationEndsJeopardy) {
  session_keeper k{timing(), at(0)};
  EXPECT_FALSE(k.take_change(at(100)));
  auto t = k.send_due(at(1950));
  ASSERT_TRUE(t);
  EXPECT_EQ(k.take_change(at(2000)), session_health::jeopardy);
  EXPECT_FALSE(k.take_change(at(2050)));
  k.confirmed(*t, at(2100));
  EXPECT_EQ(k.health(at(2100)), session_health::healthy);
  EXPECT_EQ(k.take_change(at(2100)), session_health::healthy);
  EXPECT_EQ(k.jeopardy_at(), at(3950));
}

TEST(SessionKeeperTest, ExpiryByTheTtlIsFinal) {
  session_keeper k{timing(), at(0)};
  auto late = k.send_due(at(2900));
  ASSERT_TRUE(late);
  EXPECT_EQ(k.take_change(at(3000)), session_health::expired);
  // The cluster applied a keep-alive sent before the TTL passed, but the
  // client already had to presume the session gone.
  k.confirmed(*late, at(3100));
  EXPECT_EQ(k.health(at(3100)), session_health::expired);
  EXPECT_FALSE(k.take_change(at(3100)));
  EXPECT_FALSE(k.send_due(at(5000)));
  EXPECT_FALSE(k.next_wake(at(5000)));
  EXPECT_FALSE(k.gone_by_cluster());
}

TEST(SessionKeeperTest, AConfirmationArrivingAfterTheTtlDoesNotRevive) {
  // Nobody asked about health in between: the input itself sees the TTL passed.
  session_keeper k{timing(), at(0)};
  auto t = k.send_due(at(2500));
  ASSERT_TRUE(t);
  k.confirmed(*t, at(3001));
  EXPECT_EQ(k.health(at(3001)), session_health::expired);
}

TEST(SessionKeeperTest, TheClustersWordExpiresAtOnce) {
  session_keeper k{timing(), at(0)};
  auto t = k.send_due(at(600));
  ASSERT_TRUE(t);
  k.gone(at(650));
  EXPECT_EQ(k.health(at(650)), session_health::expired);
  EXPECT_TRUE(k.gone_by_cluster());
  EXPECT_EQ(k.in_flight(), 0u);
  EXPECT_EQ(k.take_change(at(650)), session_health::expired);
  EXPECT_FALSE(k.take_change(at(700)));
  k.confirmed(*t, at(700));
  EXPECT_EQ(k.health(at(700)), session_health::expired);
}

TEST(SessionKeeperTest, TimeNeverRunsBackwards) {
  session_keeper k{timing(), at(0)};
  EXPECT_EQ(k.take_change(at(3000)), session_health::expired);
  // A caller whose clock reading is older than one already seen.
  EXPECT_EQ(k.health(at(100)), session_health::expired);
  session_keeper j{timing(), at(0)};
  auto t = j.send_due(at(1200));
  ASSERT_TRUE(t);
  // A send decided on a stale reading is recorded at the newest one seen:
  // it went out after that reading anyway.
  auto u = j.send_due(at(1100));
  EXPECT_FALSE(u);  // 1100 < 1200 + retry: not due
  EXPECT_EQ(j.health(at(100)), session_health::healthy);
}

TEST(SessionKeeperTest, NextWakeIsTheNearestDueMoment) {
  session_keeper k{timing(), at(0)};
  EXPECT_EQ(k.next_wake(at(0)), at(600));  // the first keep-alive
  auto a = k.send_due(at(600));
  ASSERT_TRUE(a);
  EXPECT_EQ(k.next_wake(at(600)), at(800));  // the retry, while unanswered
  ASSERT_TRUE(k.send_due(at(800)));
  ASSERT_TRUE(k.send_due(at(1000)));
  EXPECT_EQ(k.next_wake(at(1000)), at(2000));  // at the cap: jeopardy is next
  EXPECT_EQ(k.next_wake(at(2100)), at(3000));  // in jeopardy: expiry is next
  k.confirmed(*a, at(1100));
  EXPECT_EQ(k.next_wake(at(1100)), at(1200));  // 600 + interval
  EXPECT_EQ(k.next_wake(at(1300)), at(1300));  // overdue: now
  k.gone(at(1300));
  EXPECT_FALSE(k.next_wake(at(1300)));
}

TEST(SessionKeeperTest, AfterStopSendingOnlyJeopardyAndExpiryFallDue) {
  session_keeper k{timing(), at(0)};
  auto a = k.send_due(at(600));
  ASSERT_TRUE(a);
  k.stop_sending();
  EXPECT_FALSE(k.sending());
  EXPECT_FALSE(k.send_due(at(800)));          // the retry would be due
  EXPECT_FALSE(k.send_due(at(1300)));         // and the regular beat
  EXPECT_EQ(k.next_wake(at(800)), at(2000));  // jeopardy, not the retry at 800
  // A keep-alive already out still counts when it is confirmed.
  k.confirmed(*a, at(900));
  EXPECT_EQ(k.next_wake(at(900)), at(2600));
  EXPECT_EQ(k.health(at(2600)), session_health::jeopardy);
  EXPECT_EQ(k.next_wake(at(2600)), at(3600));
  EXPECT_EQ(k.take_change(at(3600)), session_health::expired);
  EXPECT_FALSE(k.next_wake(at(3600)));
}

/// A driver loop on the fake clock: replies after `rtt`, none once `cut`.
struct simulation {
  session_keeper k{timing(), at(0)};
  std::deque<std::pair<time_point, std::uint64_t>> replies;
  std::int64_t rtt_ms = 50;
  std::int64_t cut_at_ms = -1;
  std::optional<std::int64_t> jeopardy_ms, expired_ms;
  std::int64_t last_confirmed_send_ms = 0;

  void run_until(std::int64_t end_ms) {
    for (std::int64_t now = 0; now <= end_ms; ++now) {
      while (!replies.empty() && replies.front().first <= at(now)) {
        k.confirmed(replies.front().second, at(now));
        replies.pop_front();
        last_confirmed_send_ms = (k.confirmed_sent_at() - at(0)) / 1ms;
      }
      if (auto t = k.send_due(at(now)); t && (cut_at_ms < 0 || now < cut_at_ms - rtt_ms))
        replies.emplace_back(at(now + rtt_ms), *t);
      if (auto h = k.take_change(at(now))) {
        if (*h == session_health::jeopardy && !jeopardy_ms)
          jeopardy_ms = now;
        if (*h == session_health::expired && !expired_ms)
          expired_ms = now;
      }
    }
  }
};

TEST(SessionKeeperTest, RegularKeepAlivesKeepTheSessionHealthy) {
  simulation s;
  s.run_until(60000);
  EXPECT_FALSE(s.jeopardy_ms);
  EXPECT_FALSE(s.expired_ms);
}

TEST(SessionKeeperTest, CutOffTheClientIsInJeopardyMarginBeforeTheClusterMayExpire) {
  simulation s;
  s.cut_at_ms = 10000;
  s.run_until(20000);
  ASSERT_TRUE(s.jeopardy_ms);
  ASSERT_TRUE(s.expired_ms);
  // The cluster's deadline is at least the last confirmed send + TTL.
  EXPECT_EQ(*s.jeopardy_ms, s.last_confirmed_send_ms + 2000);
  EXPECT_EQ(*s.expired_ms, s.last_confirmed_send_ms + 3000);
  // ...and the last confirmed send was within an interval of the cut.
  EXPECT_GE(s.last_confirmed_send_ms, 10000 - 600 - 50);
}

}  // namespace
