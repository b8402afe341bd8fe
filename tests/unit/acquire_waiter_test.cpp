// The pure core of a waiting acquire on a fake clock: when it looks for the
// grant, when it withdraws the wait, and what every answer means.
#include "actors/lock/acquire_waiter.hpp"

#include <stdexcept>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using ballot::lock::acquire_waiter;
using ballot::lock::lock_standing;
using ballot::lock::result_code;
using ballot::lock::wait_outcome;
using ballot::lock::waiter_config;
using ballot::lock::waiter_request;

using time_point = acquire_waiter::time_point;

time_point at(std::int64_t ms) {
  return time_point{} + 1000s + std::chrono::milliseconds(ms);
}

/// Wait 1 s; looks 10, 20, 40, 40 ... ms apart.
waiter_config timing() {
  waiter_config c;
  c.wait = 1000ms;
  c.first_look = 10ms;
  c.max_look = 40ms;
  return c;
}

const lock_standing waiting{0, true};
const lock_standing neither{0, false};
lock_standing holding(std::uint64_t token) {
  return {token, false};
}

/// A waiter whose acquire (sent at 0) was answered queued at `ms`.
acquire_waiter queued(std::int64_t ms = 0, waiter_config c = timing()) {
  acquire_waiter w{c, at(0)};
  w.acquired(result_code::queued, 0, at(ms));
  return w;
}

TEST(AcquireWaiterTest, ValidationNamesTheBadValue) {
  auto bad = [](auto change) {
    auto c = timing();
    change(c);
    return validate(c);
  };
  EXPECT_EQ(bad([](waiter_config&) {}), "");
  EXPECT_EQ(bad([](waiter_config& c) { c.max_look = 0ms; }), "");
  EXPECT_NE(bad([](waiter_config& c) { c.wait = 0ms; }).find("wait 0 ms"), std::string::npos);
  EXPECT_NE(bad([](waiter_config& c) { c.first_look = 0ms; }).find("first_look 0 ms"),
            std::string::npos);
  EXPECT_NE(bad([](waiter_config& c) { c.max_look = -1ms; }).find("max_look -1 ms"),
            std::string::npos);
  EXPECT_NE(bad([](waiter_config& c) { c.max_look = 5ms; }).find("below first_look"),
            std::string::npos);
  auto c = timing();
  c.wait = 0ms;
  EXPECT_THROW((acquire_waiter{c, at(0)}), std::invalid_argument);
}

TEST(AcquireWaiterTest, ImmediateAnswersEndTheCall) {
  struct {
    result_code code;
    wait_outcome out;
  } cases[] = {
    {result_code::ok, wait_outcome::granted},
    {result_code::already_held, wait_outcome::granted},
    {result_code::busy, wait_outcome::refused},
    {result_code::limit_reached, wait_outcome::refused},
    {result_code::no_session, wait_outcome::session_lost},
  };
  for (auto& c : cases) {
    acquire_waiter w{timing(), at(0)};
    EXPECT_EQ(w.due(at(0)), waiter_request::none) << "the acquire is in flight";
    w.acquired(c.code, 7, at(5));
    EXPECT_EQ(w.outcome(), c.out) << to_string(c.code);
    EXPECT_EQ(w.due(at(2000)), waiter_request::none);
    EXPECT_FALSE(w.next_wake());
    if (c.out == wait_outcome::granted) {
      EXPECT_EQ(w.token(), 7u);
    }
    if (c.out == wait_outcome::refused) {
      EXPECT_EQ(w.refusal(), c.code);
    }
  }
  acquire_waiter w{timing(), at(0)};
  w.acquire_failed(at(1000));
  EXPECT_EQ(w.outcome(), wait_outcome::unavailable);
}

TEST(AcquireWaiterTest, AlreadyWaitingStartsTheWaitToo) {
  acquire_waiter w{timing(), at(0)};
  w.acquired(result_code::already_waiting, 0, at(3));
  EXPECT_TRUE(w.waiting());
  EXPECT_EQ(w.due(at(3)), waiter_request::look);
}

TEST(AcquireWaiterTest, FirstLookAtOnceThenBackOffToTheMaximum) {
  auto w = queued(5);
  EXPECT_FALSE(w.finished());
  EXPECT_EQ(w.next_wake(), at(5));
  EXPECT_EQ(w.due(at(5)), waiter_request::look);
  // One request at a time.
  EXPECT_EQ(w.due(at(500)), waiter_request::none);
  EXPECT_FALSE(w.next_wake());
  std::int64_t now = 6;
  for (std::int64_t pause : {10, 20, 40, 40}) {
    w.looked(waiting, at(now));
    EXPECT_EQ(w.next_wake(), at(now + pause));
    EXPECT_EQ(w.due(at(now + pause - 1)), waiter_request::none);
    now += pause;
    EXPECT_EQ(w.due(at(now)), waiter_request::look);
  }
}

TEST(AcquireWaiterTest, ALookShowingTheHolderIsTheGrant) {
  auto w = queued();
  ASSERT_EQ(w.due(at(0)), waiter_request::look);
  w.looked(holding(42), at(1));
  EXPECT_EQ(w.outcome(), wait_outcome::granted);
  EXPECT_EQ(w.token(), 42u);
}

TEST(AcquireWaiterTest, NeitherHoldingNorWaitingIsDropped) {
  auto w = queued();
  ASSERT_EQ(w.due(at(0)), waiter_request::look);
  w.looked(neither, at(1));
  EXPECT_EQ(w.outcome(), wait_outcome::dropped);
}

TEST(AcquireWaiterTest, AFailedLookIsRetriedAfterThePause) {
  auto w = queued();
  ASSERT_EQ(w.due(at(0)), waiter_request::look);
  w.look_failed(at(100));
  EXPECT_FALSE(w.finished());
  EXPECT_EQ(w.next_wake(), at(110));
  EXPECT_EQ(w.due(at(110)), waiter_request::look);
}

TEST(AcquireWaiterTest, OnlyTheFirstLookWithoutMaxLook) {
  auto c = timing();
  c.max_look = 0ms;
  auto w = queued(0, c);
  ASSERT_EQ(w.due(at(0)), waiter_request::look);
  w.looked(waiting, at(1));
  // Nothing until the deadline, then the withdraw.
  EXPECT_EQ(w.next_wake(), at(1000));
  EXPECT_EQ(w.due(at(999)), waiter_request::none);
  EXPECT_EQ(w.due(at(1000)), waiter_request::withdraw);
}

TEST(AcquireWaiterTest, APushedGrantEndsTheWaitAnyTime) {
  auto w = queued();
  ASSERT_EQ(w.due(at(0)), waiter_request::look);
  w.granted(9, at(1));
  EXPECT_EQ(w.outcome(), wait_outcome::granted);
  EXPECT_EQ(w.token(), 9u);
  // The look's late answer changes nothing.
  w.looked(neither, at(2));
  EXPECT_EQ(w.outcome(), wait_outcome::granted);
  // Before the acquire is even answered (the feed was faster).
  acquire_waiter early{timing(), at(0)};
  early.granted(3, at(1));
  early.acquired(result_code::queued, 0, at(2));
  EXPECT_EQ(early.outcome(), wait_outcome::granted);
  EXPECT_EQ(early.token(), 3u);
}

TEST(AcquireWaiterTest, TheDeadlineWithdrawsTheWait) {
  auto w = queued();
  ASSERT_EQ(w.due(at(0)), waiter_request::look);
  w.looked(waiting, at(1));
  EXPECT_FALSE(w.withdraw_sent());
  EXPECT_EQ(w.due(at(1000)), waiter_request::withdraw);
  EXPECT_TRUE(w.withdraw_sent());
  EXPECT_EQ(w.due(at(1001)), waiter_request::none) << "one withdraw";
  w.withdrawn(result_code::ok, at(1002));
  EXPECT_EQ(w.outcome(), wait_outcome::timed_out);
}

TEST(AcquireWaiterTest, TheDeadlineWaitsForALookInFlight) {
  auto w = queued();
  ASSERT_EQ(w.due(at(0)), waiter_request::look);
  EXPECT_EQ(w.due(at(1500)), waiter_request::none);
  w.looked(waiting, at(1500));
  EXPECT_EQ(w.next_wake(), at(1000)) << "the deadline is due at once";
  EXPECT_EQ(w.due(at(1500)), waiter_request::withdraw);
}

TEST(AcquireWaiterTest, AGrantThatRacedTheWithdrawIsReportedWithItsToken) {
  auto w = queued();
  ASSERT_EQ(w.due(at(1000)), waiter_request::withdraw);
  w.withdrawn(result_code::not_waiting, at(1001));
  EXPECT_FALSE(w.finished());
  EXPECT_EQ(w.next_wake(), time_point::min());
  EXPECT_EQ(w.due(at(1001)), waiter_request::look);
  w.looked(holding(5), at(1002));
  EXPECT_EQ(w.outcome(), wait_outcome::granted);
  EXPECT_EQ(w.token(), 5u);
}

TEST(AcquireWaiterTest, AGrantPushedWhileWithdrawingIsStillAGrant) {
  auto w = queued();
  ASSERT_EQ(w.due(at(1000)), waiter_request::withdraw);
  w.granted(11, at(1001));
  EXPECT_EQ(w.outcome(), wait_outcome::granted);
  w.withdrawn(result_code::not_waiting, at(1002));
  EXPECT_EQ(w.outcome(), wait_outcome::granted);
  EXPECT_EQ(w.token(), 11u);
}

TEST(AcquireWaiterTest, WithdrawAnswersAfterNotWaiting) {
  auto after = [](lock_standing s) {
    auto w = queued();
    EXPECT_EQ(w.due(at(1000)), waiter_request::withdraw);
    w.withdrawn(result_code::not_waiting, at(1001));
    EXPECT_EQ(w.due(at(1001)), waiter_request::look);
    w.looked(s, at(1002));
    return w;
  };
  EXPECT_EQ(after(neither).outcome(), wait_outcome::dropped);
  auto contradiction = after(waiting);
  EXPECT_EQ(contradiction.outcome(), wait_outcome::failed);
  EXPECT_EQ(contradiction.refusal(), result_code::not_waiting);
  auto w = queued();
  ASSERT_EQ(w.due(at(1000)), waiter_request::withdraw);
  w.withdrawn(result_code::not_waiting, at(1001));
  ASSERT_EQ(w.due(at(1001)), waiter_request::look);
  w.look_failed(at(1002));
  EXPECT_EQ(w.outcome(), wait_outcome::uncertain);
}

TEST(AcquireWaiterTest, OtherWithdrawAnswers) {
  auto answered = [](result_code code) {
    auto w = queued();
    EXPECT_EQ(w.due(at(1000)), waiter_request::withdraw);
    w.withdrawn(code, at(1001));
    return w;
  };
  EXPECT_EQ(answered(result_code::no_session).outcome(), wait_outcome::session_lost);
  auto odd = answered(result_code::bad_request);
  EXPECT_EQ(odd.outcome(), wait_outcome::failed);
  EXPECT_EQ(odd.refusal(), result_code::bad_request);
}

TEST(AcquireWaiterTest, AWithdrawWithoutAnswerIsFollowedByALook) {
  auto failed_then = [](lock_standing s) {
    auto w = queued();
    EXPECT_EQ(w.due(at(1000)), waiter_request::withdraw);
    w.withdraw_failed(at(1100));
    EXPECT_FALSE(w.finished());
    EXPECT_EQ(w.due(at(1100)), waiter_request::look);
    w.looked(s, at(1101));
    return w;
  };
  auto held = failed_then(holding(8));
  EXPECT_EQ(held.outcome(), wait_outcome::granted);
  EXPECT_EQ(held.token(), 8u);
  EXPECT_EQ(failed_then(waiting).outcome(), wait_outcome::uncertain);
  EXPECT_EQ(failed_then(neither).outcome(), wait_outcome::uncertain);
}

TEST(AcquireWaiterTest, TheSessionsEndEndsTheWait) {
  auto w = queued();
  ASSERT_EQ(w.due(at(0)), waiter_request::look);
  w.session_gone(at(1));
  EXPECT_EQ(w.outcome(), wait_outcome::session_lost);
  EXPECT_EQ(w.due(at(2000)), waiter_request::none);
}

TEST(AcquireWaiterTest, WaitForeverNeverWithdraws) {
  auto w = queued();
  w.wait_forever();
  ASSERT_EQ(w.due(at(0)), waiter_request::look);
  w.looked(waiting, at(5000));
  EXPECT_EQ(w.next_wake(), at(5010));
  EXPECT_EQ(w.due(at(5010)), waiter_request::look);
}

TEST(AcquireWaiterTest, AnswersToRequestsNotInFlightAreIgnored) {
  auto w = queued();
  // No look was asked for: a stray answer must not end the wait.
  w.looked(neither, at(1));
  w.withdrawn(result_code::ok, at(2));
  w.acquired(result_code::busy, 0, at(3));
  EXPECT_FALSE(w.finished());
  EXPECT_EQ(w.due(at(3)), waiter_request::look);
}

}  // namespace
