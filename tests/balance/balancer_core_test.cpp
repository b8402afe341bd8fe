// One test per rule of the pure balancer core: back-pressure, timeouts,
// retries and their budget, outlier ejection, slow start, backends that go
// down, come back or leave. Time is a number the test sets; nothing sleeps.

#include "actors/balance/balancer_core.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "actors/balance/ejection.hpp"
#include "actors/balance/retry_budget.hpp"
#include "actors/balance/slow_start.hpp"

namespace {

using namespace ballot::balance;
using namespace std::chrono_literals;

/// Drives one core and sorts what it asks for.
class harness {
 public:
  explicit harness(core_config cfg, std::size_t backends = 3,
                   policy_kind kind = policy_kind::round_robin, std::uint32_t limit = 0,
                   bool limit_given = false) {
    std::vector<std::pair<backend_id, backend_options>> initial;
    for (backend_id id = 1; id <= backends; ++id) {
      backend_options o;
      o.name = "w" + std::to_string(id);
      if (limit_given)
        o.max_outstanding = limit;
      initial.emplace_back(id, o);
    }
    core.emplace(cfg, make_policy(kind), initial);
    collect();
  }

  void collect() {
    for (auto& a : core->take_actions()) {
      if (auto* d = std::get_if<dispatch>(&a)) {
        sent.push_back(*d);
        last_attempt[d->request] = *d;
      } else if (auto* c = std::get_if<complete>(&a)) {
        EXPECT_EQ(done.count(c->request), 0u) << "request " << c->request << " completed twice";
        done[c->request] = *c;
      } else if (auto* t = std::get_if<arm_deadline>(&a)) {
        deadlines[t->request] = t->at;
      } else if (auto* w = std::get_if<wake>(&a)) {
        wakes.push_back(w->at);
      }
    }
  }

  void submit(request_id id, bool idempotent = false, std::uint64_t key = 0) {
    core->submit(id, key, idempotent, now);
    collect();
  }
  void ok(request_id id) {
    core->succeeded(id, last_attempt.at(id).attempt, now);
    collect();
  }
  void fail(request_id id, const std::string& why = "boom") {
    core->failed(id, last_attempt.at(id).attempt, why, now);
    collect();
  }
  void time_out(request_id id) {
    core->timed_out(id, last_attempt.at(id).attempt, now);
    collect();
  }
  void advance(millis d) {
    now += d;
    core->tick(now);
    collect();
  }

  backend_id backend_of(request_id id) const { return last_attempt.at(id).backend; }
  std::uint32_t attempt_of(request_id id) const { return last_attempt.at(id).attempt; }
  bool completed(request_id id) const { return done.count(id) != 0; }
  bool succeeded(request_id id) const { return completed(id) && done.at(id).ok; }
  std::optional<errc> error_of(request_id id) const {
    if (!completed(id) || done.at(id).ok)
      return std::nullopt;
    return done.at(id).error.code;
  }
  std::string message_of(request_id id) const {
    return completed(id) ? done.at(id).error.message : std::string{};
  }

  /// Fails one request on backend `b` (submitting it, idempotent or not).
  void fail_on(backend_id b, request_id& next_id) {
    for (int guard = 0; guard < 100; ++guard) {
      auto id = next_id++;
      submit(id);
      if (!last_attempt.count(id) || last_attempt.at(id).request != id)
        continue;
      if (backend_of(id) == b) {
        fail(id);
        return;
      }
      ok(id);
    }
    ADD_FAILURE() << "never routed to backend " << b;
  }

  std::optional<balancer_core> core;
  millis now{0};
  std::vector<dispatch> sent;
  std::map<request_id, dispatch> last_attempt;
  std::map<request_id, complete> done;
  std::map<request_id, millis> deadlines;
  std::vector<millis> wakes;
};

core_config base_config() {
  core_config c;
  c.max_outstanding_per_backend = 0;
  c.max_queue = 16;
  c.request_timeout = 5000ms;
  c.attempt_timeout = 1000ms;
  c.max_attempts = 3;
  c.retry_budget_percent = 20;
  c.min_retry_concurrency = 3;
  c.consecutive_failures = 0;  // tests that eject turn it on
  c.slow_start_window = 0ms;   // tests that ramp turn it on
  return c;
}

// -- dispatch and back-pressure ------------------------------------------------

TEST(BalancerCoreTest, DispatchesAndRelaysTheReply) {
  harness h{base_config()};
  h.submit(1);
  ASSERT_EQ(h.sent.size(), 1u);
  EXPECT_EQ(h.sent[0].attempt, 1u);
  EXPECT_EQ(h.sent[0].timeout_at, 1000ms);
  EXPECT_EQ(h.core->outstanding(h.backend_of(1)), 1u);
  h.ok(1);
  ASSERT_TRUE(h.succeeded(1));
  EXPECT_EQ(h.done[1].backend, h.backend_of(1));
  EXPECT_EQ(h.core->outstanding(h.backend_of(1)), 0u);
  EXPECT_EQ(h.core->open_requests(), 0u);
}

TEST(BalancerCoreTest, QueuesAtTheConcurrencyLimitAndRefusesPastTheQueueBound) {
  auto cfg = base_config();
  cfg.max_outstanding_per_backend = 1;
  cfg.max_queue = 2;
  harness h{cfg, 2};
  for (request_id id = 1; id <= 4; ++id)
    h.submit(id);
  EXPECT_EQ(h.sent.size(), 2u);  // one per backend
  EXPECT_EQ(h.core->queued(), 2u);
  EXPECT_EQ(h.deadlines.size(), 2u);
  EXPECT_TRUE(h.completed(1) == false && h.completed(3) == false);

  h.submit(5);  // at once, without touching any backend
  ASSERT_EQ(h.error_of(5), errc::overloaded);
  EXPECT_NE(h.message_of(5).find("queue is full (2 waiting, bound 2)"), std::string::npos)
    << h.message_of(5);
  EXPECT_EQ(h.sent.size(), 2u);

  // Capacity frees up: the queue drains in order.
  h.ok(1);
  ASSERT_EQ(h.sent.size(), 3u);
  EXPECT_EQ(h.sent[2].request, 3u);
  h.ok(2);
  ASSERT_EQ(h.sent.size(), 4u);
  EXPECT_EQ(h.sent[3].request, 4u);
  EXPECT_EQ(h.core->queued(), 0u);
  EXPECT_EQ(h.core->stats().overloaded, 1u);
}

TEST(BalancerCoreTest, WithoutAQueueTheFirstRequestPastTheLimitIsRefused) {
  auto cfg = base_config();
  cfg.max_outstanding_per_backend = 2;
  cfg.max_queue = 0;
  harness h{cfg, 1};
  h.submit(1);
  h.submit(2);
  h.submit(3);
  EXPECT_EQ(h.sent.size(), 2u);
  EXPECT_EQ(h.error_of(3), errc::overloaded);
  EXPECT_NE(h.message_of(3).find("queueing is disabled"), std::string::npos) << h.message_of(3);
}

TEST(BalancerCoreTest, PerBackendLimitOverridesTheDefault) {
  auto cfg = base_config();
  cfg.max_outstanding_per_backend = 1;
  cfg.max_queue = 0;
  harness h{cfg, 1, policy_kind::round_robin, 3, true};
  for (request_id id = 1; id <= 4; ++id)
    h.submit(id);
  EXPECT_EQ(h.sent.size(), 3u);
  EXPECT_EQ(h.error_of(4), errc::overloaded);
}

TEST(BalancerCoreTest, NoBackendsFailsAtOnce) {
  harness h{base_config(), 0};
  h.submit(1);
  EXPECT_EQ(h.error_of(1), errc::no_backends);
  EXPECT_NE(h.message_of(1).find("no backend is registered"), std::string::npos);
}

// -- timeouts -------------------------------------------------------------------

TEST(BalancerCoreTest, AQueuedRequestTimesOutAtItsDeadline) {
  auto cfg = base_config();
  cfg.max_outstanding_per_backend = 1;
  harness h{cfg, 1};
  h.submit(1);
  h.now = 100ms;
  h.submit(2);
  ASSERT_EQ(h.deadlines.at(2), 5100ms);
  h.now = 5100ms;
  h.core->deadline_expired(2, h.now);
  h.collect();
  ASSERT_EQ(h.error_of(2), errc::timeout);
  EXPECT_NE(h.message_of(2).find("waiting in the queue"), std::string::npos) << h.message_of(2);
  EXPECT_EQ(h.core->queued(), 0u);
  // The deadline of a request that already left the queue is ignored.
  h.core->deadline_expired(1, h.now);
  h.collect();
  EXPECT_FALSE(h.completed(1));
}

TEST(BalancerCoreTest, AnAttemptTimeoutIsCappedByTheRequestDeadline) {
  auto cfg = base_config();
  cfg.request_timeout = 2500ms;
  cfg.attempt_timeout = 1000ms;
  harness h{cfg, 3};
  h.submit(1, true);
  EXPECT_EQ(h.sent.back().timeout_at, 1000ms);
  h.now = 1000ms;
  h.time_out(1);
  EXPECT_EQ(h.sent.back().timeout_at, 2000ms);
  h.now = 2000ms;
  h.time_out(1);
  EXPECT_EQ(h.sent.back().attempt, 3u);
  EXPECT_EQ(h.sent.back().timeout_at, 2500ms);
  h.now = 2500ms;
  h.time_out(1);
  ASSERT_EQ(h.error_of(1), errc::timeout);
}

TEST(BalancerCoreTest, ATimeoutFailsANonIdempotentRequestWithAClearError) {
  harness h{base_config()};
  h.submit(1, false);
  h.now = 1000ms;
  h.time_out(1);
  ASSERT_EQ(h.error_of(1), errc::timeout);
  EXPECT_NE(h.message_of(1).find("got no reply within 1000 ms"), std::string::npos)
    << h.message_of(1);
  EXPECT_NE(h.message_of(1).find("not idempotent"), std::string::npos);
  EXPECT_EQ(h.sent.size(), 1u);
}

TEST(BalancerCoreTest, LateAndDuplicateAnswersAreIgnored) {
  harness h{base_config()};
  h.submit(1, true);
  auto first = h.sent.back();
  h.now = 1000ms;
  h.time_out(1);
  ASSERT_EQ(h.sent.size(), 2u);
  // The reply of attempt 1 arrives after it was retried: not the caller's.
  h.core->succeeded(1, first.attempt, h.now);
  h.collect();
  EXPECT_FALSE(h.completed(1));
  h.ok(1);
  EXPECT_TRUE(h.succeeded(1));
  h.core->succeeded(1, 2, h.now);
  h.core->timed_out(1, 2, h.now);
  h.core->failed(42, 1, "nobody", h.now);
  h.collect();
  EXPECT_EQ(h.core->open_requests(), 0u);
  EXPECT_EQ(h.core->in_flight(), 0u);
}

// -- retries --------------------------------------------------------------------

TEST(BalancerCoreTest, RetriesAnIdempotentRequestOnAnotherBackend) {
  harness h{base_config(), 3};
  h.submit(1, true);
  auto first = h.backend_of(1);
  h.fail(1, "disk full");
  ASSERT_FALSE(h.completed(1));
  ASSERT_EQ(h.sent.size(), 2u);
  EXPECT_EQ(h.attempt_of(1), 2u);
  auto second = h.backend_of(1);
  EXPECT_NE(second, first);
  h.fail(1);
  auto third = h.backend_of(1);
  EXPECT_EQ(h.attempt_of(1), 3u);
  EXPECT_NE(third, first);
  EXPECT_NE(third, second);
  h.ok(1);
  EXPECT_TRUE(h.succeeded(1));
  EXPECT_EQ(h.done[1].attempts, 3u);
  EXPECT_EQ(h.core->stats().retries, 2u);
}

TEST(BalancerCoreTest, RetriesOnHashingPoliciesAlsoMoveToAnotherBackend) {
  harness h{base_config(), 4, policy_kind::ring_hash};
  h.submit(1, true, hash_key("user-17"));
  auto first = h.backend_of(1);
  h.fail(1);
  EXPECT_NE(h.backend_of(1), first);
}

TEST(BalancerCoreTest, NeverRetriesANonIdempotentRequest) {
  harness h{base_config(), 3};
  h.submit(1, false);
  h.fail(1, "disk full");
  ASSERT_EQ(h.error_of(1), errc::worker_error);
  EXPECT_EQ(h.sent.size(), 1u);
  auto msg = h.message_of(1);
  EXPECT_NE(msg.find("attempt 1 on backend 'w"), std::string::npos) << msg;
  EXPECT_NE(msg.find("failed: disk full"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not retried: the request is not idempotent"), std::string::npos) << msg;
}

TEST(BalancerCoreTest, StopsRetryingAfterMaxAttempts) {
  auto cfg = base_config();
  cfg.max_attempts = 2;
  harness h{cfg, 3};
  h.submit(1, true);
  h.fail(1);
  h.fail(1);
  ASSERT_EQ(h.error_of(1), errc::worker_error);
  EXPECT_EQ(h.sent.size(), 2u);
  EXPECT_NE(h.message_of(1).find("no attempts left (2 allowed)"), std::string::npos)
    << h.message_of(1);
}

TEST(BalancerCoreTest, WithOneBackendARetryGoesBackToIt) {
  harness h{base_config(), 1};
  h.submit(1, true);
  h.fail(1);
  ASSERT_EQ(h.sent.size(), 2u);
  EXPECT_EQ(h.backend_of(1), 1u);
}

TEST(BalancerCoreTest, ARetryWaitsForAnUntriedBackendRatherThanGoBack) {
  auto cfg = base_config();
  cfg.max_outstanding_per_backend = 1;
  harness h{cfg, 2};
  h.submit(1, true);
  h.submit(2, false);
  auto b1 = h.backend_of(1), b2 = h.backend_of(2);
  ASSERT_NE(b1, b2);
  h.fail(1);  // b1 is free again, but request 1 already failed there
  EXPECT_EQ(h.sent.size(), 2u);
  EXPECT_EQ(h.core->queued(), 1u);
  h.ok(2);  // b2 frees up: the retry goes there
  ASSERT_EQ(h.sent.size(), 3u);
  EXPECT_EQ(h.backend_of(1), b2);
  EXPECT_EQ(h.attempt_of(1), 2u);
}

TEST(BalancerCoreTest, RetryBudgetBoundsRetriesInFlight) {
  auto cfg = base_config();
  cfg.retry_budget_percent = 0;
  cfg.min_retry_concurrency = 1;
  harness h{cfg, 3};
  h.submit(1, true);
  h.submit(2, true);
  h.fail(1);  // the one retry the budget allows
  EXPECT_FALSE(h.completed(1));
  EXPECT_EQ(h.core->retries_in_flight(), 1u);
  h.fail(2);
  ASSERT_EQ(h.error_of(2), errc::retry_budget_exhausted);
  EXPECT_NE(h.message_of(2).find("1 retries in flight, limit 1"), std::string::npos)
    << h.message_of(2);
  // Once the retry completes, the budget is free again.
  h.ok(1);
  EXPECT_EQ(h.core->retries_in_flight(), 0u);
  h.submit(3, true);
  h.fail(3);
  EXPECT_FALSE(h.completed(3));
  EXPECT_EQ(h.attempt_of(3), 2u);
}

TEST(BalancerCoreTest, RetryBudgetGrowsWithTheOpenRequests) {
  EXPECT_EQ(retry_limit(0, 20, 3), 3u);
  EXPECT_EQ(retry_limit(100, 20, 3), 20u);
  EXPECT_EQ(retry_limit(14, 50, 0), 7u);

  auto cfg = base_config();
  cfg.retry_budget_percent = 50;
  cfg.min_retry_concurrency = 0;
  harness h{cfg, 3};
  for (request_id id = 1; id <= 10; ++id)
    h.submit(id, true);
  // 10 open requests: 5 may retry at once; the sixth finds the budget spent.
  for (request_id id = 1; id <= 6; ++id)
    h.fail(id);
  EXPECT_EQ(h.core->retries_in_flight(), 5u);
  for (request_id id = 1; id <= 5; ++id)
    EXPECT_FALSE(h.completed(id)) << id;
  EXPECT_EQ(h.error_of(6), errc::retry_budget_exhausted);
}

// -- outlier ejection ------------------------------------------------------------

TEST(BalancerCoreTest, EjectsABackendAfterConsecutiveFailuresAndTakesItBack) {
  auto cfg = base_config();
  cfg.consecutive_failures = 3;
  cfg.base_ejection = 1000ms;
  harness h{cfg, 3};
  request_id next = 1;
  for (int i = 0; i < 3; ++i)
    h.fail_on(2, next);
  ASSERT_TRUE(h.core->is_ejected(2));
  ASSERT_FALSE(h.wakes.empty());
  EXPECT_EQ(h.wakes.back(), h.now + 1000ms);
  // While ejected it gets nothing.
  auto before = h.sent.size();
  for (int i = 0; i < 20; ++i, ++next) {
    h.submit(next);
    h.ok(next);
  }
  for (auto i = before; i < h.sent.size(); ++i)
    EXPECT_NE(h.sent[i].backend, 2u);
  // Back when the time is up.
  h.advance(999ms);
  EXPECT_TRUE(h.core->is_ejected(2));
  h.advance(1ms);
  EXPECT_FALSE(h.core->is_ejected(2));
  std::set<backend_id> used;
  for (int i = 0; i < 6; ++i, ++next) {
    h.submit(next);
    used.insert(h.backend_of(next));
    h.ok(next);
  }
  EXPECT_TRUE(used.count(2));
}

TEST(BalancerCoreTest, EjectionsGrowLongerUpToTheMaximum) {
  EXPECT_EQ(ejection_duration(1000ms, 3500ms, 1), 1000ms);
  EXPECT_EQ(ejection_duration(1000ms, 3500ms, 3), 3000ms);
  EXPECT_EQ(ejection_duration(1000ms, 3500ms, 9), 3500ms);

  auto cfg = base_config();
  cfg.consecutive_failures = 2;
  cfg.base_ejection = 1000ms;
  cfg.max_ejection = 2500ms;
  harness h{cfg, 2};
  request_id next = 1;
  std::vector<millis> lengths;
  for (int round = 0; round < 4; ++round) {
    h.fail_on(1, next);
    h.fail_on(1, next);
    ASSERT_TRUE(h.core->is_ejected(1)) << "round " << round;
    auto began = h.now;
    while (h.core->is_ejected(1))
      h.advance(100ms);
    lengths.push_back(h.now - began);
  }
  EXPECT_EQ(lengths, (std::vector<millis>{1000ms, 2000ms, 2500ms, 2500ms}));
  EXPECT_EQ(h.core->stats().backends[0].ejections, 4u);
}

TEST(BalancerCoreTest, NeverEjectsMoreThanTheMaxShare) {
  EXPECT_EQ(max_ejected(1, 50), 0u);
  EXPECT_EQ(max_ejected(4, 50), 2u);
  EXPECT_EQ(max_ejected(5, 50), 2u);
  EXPECT_EQ(max_ejected(4, 100), 4u);

  auto cfg = base_config();
  cfg.consecutive_failures = 1;
  cfg.max_ejection_percent = 50;
  harness h{cfg, 4};
  request_id next = 1;
  for (backend_id b = 1; b <= 4; ++b)
    h.fail_on(b, next);
  std::size_t ejected = 0;
  for (backend_id b = 1; b <= 4; ++b)
    ejected += h.core->is_ejected(b) ? 1 : 0;
  EXPECT_EQ(ejected, 2u);
  EXPECT_TRUE(h.core->is_ejected(1));
  EXPECT_TRUE(h.core->is_ejected(2));
  EXPECT_FALSE(h.core->is_ejected(3));
  EXPECT_FALSE(h.core->is_ejected(4));
  // Once one returns, the next failure of a candidate ejects it.
  h.advance(1000ms);
  EXPECT_FALSE(h.core->is_ejected(1));
  EXPECT_FALSE(h.core->is_ejected(2));
  h.fail_on(3, next);
  EXPECT_TRUE(h.core->is_ejected(3));
}

TEST(BalancerCoreTest, ASuccessResetsTheFailureStreak) {
  auto cfg = base_config();
  cfg.consecutive_failures = 3;
  harness h{cfg, 1};
  request_id next = 1;
  h.fail_on(1, next);
  h.fail_on(1, next);
  h.submit(next);
  h.ok(next++);
  h.fail_on(1, next);
  h.fail_on(1, next);
  EXPECT_FALSE(h.core->is_ejected(1));
  EXPECT_EQ(h.core->stats().backends[0].consecutive_failures, 2u);
}

TEST(BalancerCoreTest, TimeoutsCountTowardsEjection) {
  auto cfg = base_config();
  cfg.consecutive_failures = 2;
  harness h{cfg, 2};
  request_id next = 1;
  for (int i = 0; i < 2; ++i) {
    for (;; ++next) {
      h.submit(next);
      if (h.backend_of(next) == 1)
        break;
      h.ok(next);
    }
    h.time_out(next++);
  }
  EXPECT_TRUE(h.core->is_ejected(1));
}

TEST(BalancerCoreTest, WhenEveryBackendIsEjectedRequestsFailAtOnce) {
  auto cfg = base_config();
  cfg.consecutive_failures = 1;
  cfg.max_ejection_percent = 100;
  harness h{cfg, 2};
  request_id next = 1;
  h.fail_on(1, next);
  h.fail_on(2, next);
  h.submit(next);
  ASSERT_EQ(h.error_of(next), errc::no_backends);
  EXPECT_NE(h.message_of(next).find("all 2 live backends are ejected"), std::string::npos)
    << h.message_of(next);
}

// -- slow start -----------------------------------------------------------------------

TEST(BalancerCoreTest, SlowStartRampsANewBackendsWeightLinearly) {
  EXPECT_EQ(slow_start_weight(100, 0ms, 1000ms, 10), 10u);
  EXPECT_EQ(slow_start_weight(100, 500ms, 1000ms, 10), 55u);
  EXPECT_EQ(slow_start_weight(100, 1000ms, 1000ms, 10), 100u);
  EXPECT_EQ(slow_start_weight(10, 0ms, 1000ms, 10), 1u);
  EXPECT_EQ(slow_start_weight(1, 0ms, 1000ms, 10), 1u);

  auto cfg = base_config();
  cfg.slow_start_window = 1000ms;
  harness h{cfg, 2, policy_kind::weighted_round_robin};
  // Backends given at the start take their full share at once.
  EXPECT_EQ(h.core->effective_weight(1), 10u);
  EXPECT_EQ(h.core->effective_weight(2), 10u);

  backend_options o;
  o.name = "late";
  o.weight = 10;
  ASSERT_TRUE(h.core->add_backend(3, o, h.now));
  h.collect();
  EXPECT_EQ(h.core->effective_weight(3), 10u);  // 10% of 100
  ASSERT_FALSE(h.wakes.empty());
  EXPECT_EQ(h.wakes.back(), 50ms);  // steps of a twentieth of the window

  // The policy sees the ramp: backend 3 gets 10/30 of the picks at first.
  auto share_of_3 = [&](int n) {
    int hits = 0;
    for (int i = 0; i < n; ++i) {
      request_id id = 1000 + h.sent.size();
      h.submit(id);
      hits += h.backend_of(id) == 3 ? 1 : 0;
      h.ok(id);
    }
    return hits;
  };
  EXPECT_EQ(share_of_3(30), 10);
  h.advance(500ms);
  EXPECT_EQ(h.core->effective_weight(3), 55u);
  h.advance(250ms);
  EXPECT_EQ(h.core->effective_weight(3), 78u);
  h.advance(250ms);
  EXPECT_EQ(h.core->effective_weight(3), 100u);
  EXPECT_EQ(share_of_3(120), 100);
  EXPECT_FALSE(h.core->stats().backends[2].slow_start);
}

TEST(BalancerCoreTest, SlowStartAsksForWakeUpsUntilTheRampEnds) {
  auto cfg = base_config();
  cfg.slow_start_window = 200ms;
  harness h{cfg, 1};
  ASSERT_TRUE(h.core->add_backend(2, {"new", 1, std::nullopt}, h.now));
  h.collect();
  int ticks = 0;
  while (!h.wakes.empty() && ticks < 100) {
    auto at = h.wakes.back();
    h.wakes.clear();
    h.advance(at - h.now);
    ++ticks;
  }
  EXPECT_EQ(ticks, 20);
  EXPECT_EQ(h.now, 200ms);
  EXPECT_EQ(h.core->effective_weight(2), slow_start_scale);
}

TEST(BalancerCoreTest, ABackendBackFromEjectionSlowStartsAgain) {
  auto cfg = base_config();
  cfg.consecutive_failures = 1;
  cfg.slow_start_window = 1000ms;
  harness h{cfg, 2};
  request_id next = 1;
  h.fail_on(1, next);
  ASSERT_TRUE(h.core->is_ejected(1));
  h.advance(1000ms);
  ASSERT_FALSE(h.core->is_ejected(1));
  EXPECT_EQ(h.core->effective_weight(1), 1u);
  EXPECT_TRUE(h.core->stats().backends[0].slow_start);
}

TEST(BalancerCoreTest, HashingPoliciesNeverSlowStart) {
  auto cfg = base_config();
  cfg.slow_start_window = 1000ms;
  harness h{cfg, 2, policy_kind::maglev};
  ASSERT_TRUE(h.core->add_backend(3, {"new", 2, std::nullopt}, h.now));
  h.collect();
  EXPECT_EQ(h.core->effective_weight(3), 2u);
  EXPECT_TRUE(h.wakes.empty());
}

TEST(BalancerCoreTest, ReweightChangesTheShare) {
  harness h{base_config(), 2, policy_kind::weighted_round_robin};
  ASSERT_TRUE(h.core->reweight(2, 3, h.now));
  h.collect();
  int to_2 = 0;
  for (request_id id = 1; id <= 40; ++id) {
    h.submit(id);
    to_2 += h.backend_of(id) == 2 ? 1 : 0;
    h.ok(id);
  }
  EXPECT_EQ(to_2, 30);
  EXPECT_FALSE(h.core->reweight(9, 3, h.now));
}

// -- backends going down, coming back, leaving ------------------------------------------

TEST(BalancerCoreTest, ABackendGoingDownFailsOrRetriesItsRequestsAtOnce) {
  harness h{base_config(), 2};
  h.submit(1, true);
  h.submit(2, false);
  auto dying = h.backend_of(1);
  // Make both requests sit on the same backend.
  request_id id = 2;
  while (h.backend_of(id) != dying) {
    h.ok(id);
    h.submit(++id, false);
  }
  ASSERT_TRUE(h.core->backend_down(dying, h.now));
  h.collect();
  // The idempotent one moved to the other backend; the other got a clear error.
  EXPECT_FALSE(h.completed(1));
  EXPECT_NE(h.backend_of(1), dying);
  EXPECT_EQ(h.attempt_of(1), 2u);
  ASSERT_EQ(h.error_of(id), errc::worker_down);
  EXPECT_NE(h.message_of(id).find("went down with the request in flight"), std::string::npos)
    << h.message_of(id);
  EXPECT_EQ(h.core->outstanding(dying), 0u);
  // It gets nothing new until it is back.
  for (request_id n = 100; n < 110; ++n) {
    h.submit(n);
    EXPECT_NE(h.backend_of(n), dying);
    h.ok(n);
  }
  EXPECT_FALSE(h.core->backend_down(dying, h.now));  // already down
  ASSERT_TRUE(h.core->backend_up(dying, h.now));
  h.collect();
  std::set<backend_id> used;
  for (request_id n = 200; n < 204; ++n) {
    h.submit(n);
    used.insert(h.backend_of(n));
    h.ok(n);
  }
  EXPECT_TRUE(used.count(dying));
}

TEST(BalancerCoreTest, ABackendGoingDownIsNotCountedAsAnOutlier) {
  auto cfg = base_config();
  cfg.consecutive_failures = 1;
  harness h{cfg, 2};
  h.submit(1);
  auto b = h.backend_of(1);
  h.core->backend_down(b, h.now);
  h.core->backend_up(b, h.now);
  h.collect();
  EXPECT_FALSE(h.core->is_ejected(b));
}

TEST(BalancerCoreTest, WhenTheLastBackendGoesDownQueuedRequestsFail) {
  auto cfg = base_config();
  cfg.max_outstanding_per_backend = 1;
  harness h{cfg, 1};
  h.submit(1);
  h.submit(2);
  h.submit(3, true);
  ASSERT_EQ(h.core->queued(), 2u);
  h.core->backend_down(1, h.now);
  h.collect();
  EXPECT_EQ(h.error_of(1), errc::worker_down);
  EXPECT_EQ(h.error_of(2), errc::no_backends);
  EXPECT_EQ(h.error_of(3), errc::no_backends);
  EXPECT_NE(h.message_of(2).find("all 1 backends are down"), std::string::npos) << h.message_of(2);
  EXPECT_EQ(h.core->open_requests(), 0u);
  h.submit(4);
  EXPECT_EQ(h.error_of(4), errc::no_backends);
}

TEST(BalancerCoreTest, AnIdempotentRequestWithNowhereToRetryGetsTheError) {
  harness h{base_config(), 1};
  h.submit(1, true);
  h.core->backend_down(1, h.now);
  h.collect();
  ASSERT_EQ(h.error_of(1), errc::worker_down);
  EXPECT_NE(h.message_of(1).find("no backend left to retry on"), std::string::npos)
    << h.message_of(1);
}

TEST(BalancerCoreTest, ARemovedBackendFinishesItsRequestsButGetsNoNewOnes) {
  harness h{base_config(), 2};
  h.submit(1);
  auto leaving = h.backend_of(1);
  ASSERT_TRUE(h.core->remove_backend(leaving, h.now));
  h.collect();
  EXPECT_FALSE(h.completed(1));
  EXPECT_TRUE(h.core->stats().backends[leaving - 1].draining);
  for (request_id n = 2; n < 8; ++n) {
    h.submit(n);
    EXPECT_NE(h.backend_of(n), leaving);
    h.ok(n);
  }
  h.ok(1);
  EXPECT_TRUE(h.succeeded(1));
  EXPECT_EQ(h.core->stats().backends.size(), 1u);  // forgotten once drained
  EXPECT_FALSE(h.core->remove_backend(leaving, h.now));
}

TEST(BalancerCoreTest, AddedBackendTakesQueuedRequests) {
  auto cfg = base_config();
  cfg.max_outstanding_per_backend = 1;
  harness h{cfg, 1};
  h.submit(1);
  h.submit(2);
  ASSERT_EQ(h.core->queued(), 1u);
  ASSERT_TRUE(h.core->add_backend(7, {"seven", 1, std::nullopt}, h.now));
  h.collect();
  EXPECT_EQ(h.core->queued(), 0u);
  EXPECT_EQ(h.backend_of(2), 7u);
  EXPECT_FALSE(h.core->add_backend(7, {"seven", 1, std::nullopt}, h.now));  // already up
}

TEST(BalancerCoreTest, StatsCountEveryOutcome) {
  auto cfg = base_config();
  cfg.max_outstanding_per_backend = 1;
  cfg.max_queue = 0;
  harness h{cfg, 1};
  h.submit(1);
  h.submit(2);  // overloaded
  h.ok(1);
  h.submit(3);
  h.fail(3);
  auto s = h.core->stats();
  EXPECT_EQ(s.submitted, 3u);
  EXPECT_EQ(s.succeeded, 1u);
  EXPECT_EQ(s.overloaded, 1u);
  EXPECT_EQ(s.worker_errors, 1u);
  ASSERT_EQ(s.backends.size(), 1u);
  EXPECT_EQ(s.backends[0].name, "w1");
  EXPECT_EQ(s.backends[0].served, 1u);
  EXPECT_EQ(s.backends[0].failures, 1u);
}

TEST(BalancerCoreTest, ReusingAnOpenRequestIdIsRejected) {
  harness h{base_config()};
  h.submit(1);
  EXPECT_THROW(h.core->submit(1, 0, false, h.now), std::invalid_argument);
}

}  // namespace
