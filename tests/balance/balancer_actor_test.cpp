// The balancer actor on CAF's deterministic test_coordinator: nothing runs
// unless the test runs it and time moves only when the test advances it, so
// a worker dies, hangs or fails exactly between the steps the test chooses.

#include "actors/balance/balancer_actor.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caf/all.hpp"

#include "actors/balance/type_ids.hpp"

namespace {

using namespace ballot::balance;
using namespace std::chrono_literals;

/// How a test worker answers `(std::string job)`, switchable at any time.
struct worker_control {
  enum mode_t { reply, fail, hang } mode = reply;
  int received = 0;
  std::vector<caf::typed_response_promise<std::string>> held;
};

/// Answers "<name>:<job>", or an error, or nothing (until it dies); `(int)`
/// gets an empty reply.
caf::behavior test_worker(caf::event_based_actor* self, std::string name,
                          std::shared_ptr<worker_control> ctl) {
  return {
    [=](const std::string& job) -> caf::result<std::string> {
      ++ctl->received;
      switch (ctl->mode) {
        case worker_control::reply:
          break;
        case worker_control::fail:
          return caf::make_error(caf::sec::runtime_error, name + " refuses " + job);
        case worker_control::hang: {
          auto promise = self->make_response_promise<std::string>();
          ctl->held.push_back(promise);
          return promise;
        }
      }
      return name + ":" + job;
    },
    [](int) {},
  };
}

/// The answer to one request, filled in when the scheduler runs the reply.
template <class T>
struct answer {
  std::optional<T> value;
  std::optional<caf::error> error;
  bool done() const { return value.has_value() || error.has_value(); }
  std::optional<failure> why() const { return error ? to_failure(*error) : std::nullopt; }
};

class BalancerActorTest : public ::testing::Test {
 protected:
  static caf::actor_system_config& configure_system(caf::actor_system_config& cfg) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.file-verbosity", caf::atom("quiet"));
    configure(cfg);
    return cfg;
  }

  BalancerActorTest()
      : sys(configure_system(cfg)),
        sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {}

  ~BalancerActorTest() override {
    // Whatever a test left open: the balancer answers it when it stops, and
    // the askers' own timeouts end the rest.
    if (balancer)
      caf::anon_send_exit(balancer, caf::exit_reason::user_shutdown);
    for (auto& [name, w] : workers)
      caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
    sched.run();
    sched.advance_time(std::chrono::seconds(3600));
    sched.run();
    for (auto& [name, ctl] : controls)
      ctl->held.clear();
  }

  caf::actor spawn_worker(const std::string& name) {
    auto ctl = std::make_shared<worker_control>();
    controls[name] = ctl;
    auto w = sys.spawn(test_worker, name, ctl);
    workers[name] = w;
    return w;
  }

  static core_config limits() {
    core_config c;
    c.max_outstanding_per_backend = 8;
    c.max_queue = 8;
    c.request_timeout = 3000ms;
    c.attempt_timeout = 1000ms;
    c.max_attempts = 3;
    c.consecutive_failures = 0;
    c.slow_start_window = 0ms;
    return c;
  }

  void start(std::vector<std::string> names, core_config lim = limits(),
             policy_kind kind = policy_kind::round_robin) {
    balancer_config bc;
    bc.policy = kind;
    bc.limits = lim;
    for (auto& n : names)
      bc.workers.push_back({n, spawn_worker(n), 1, std::nullopt});
    balancer = spawn_balancer(sys, bc);
    sched.run();
  }

  /// Sends a request from a one-shot actor (timeout one hour of test time).
  template <class T = std::string>
  std::shared_ptr<answer<T>> ask(balance_request req) {
    auto out = std::make_shared<answer<T>>();
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(balancer, std::chrono::seconds(3600), req)
        .then([=](T& x) { out->value = std::move(x); },
              [=](caf::error& err) { out->error = std::move(err); });
    });
    return out;
  }

  std::shared_ptr<answer<std::string>> job(const std::string& what, bool idempotent = false) {
    return ask(make_balance_request("", idempotent, what));
  }

  /// A request whose reply needs no time to pass.
  template <class T, class... Ts>
  T query(Ts... xs) {
    auto out = std::make_shared<answer<T>>();
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(balancer, std::chrono::seconds(3600), xs...)
        .then([=](T& x) { out->value = std::move(x); },
              [=](caf::error& err) { out->error = std::move(err); });
    });
    sched.run();
    EXPECT_TRUE(out->value.has_value())
      << "no reply" << (out->error ? ": " + sys.render(*out->error) : "");
    return out->value.value_or(T{});
  }

  core_stats stats() { return query<core_stats>(balance_stats_atom_v); }

  const backend_stats& backend(const core_stats& s, const std::string& name) {
    for (auto& b : s.backends)
      if (b.name == name)
        return b;
    static backend_stats none;
    ADD_FAILURE() << "no backend named " << name;
    return none;
  }

  void advance(std::chrono::milliseconds d) {
    sched.advance_time(d);
    sched.run();
  }

  /// Which worker holds a hanging request now ("" if none).
  std::string holder() {
    for (auto& [name, ctl] : controls)
      if (!ctl->held.empty())
        return name;
    return {};
  }

  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  caf::actor balancer;
  std::map<std::string, caf::actor> workers;
  std::map<std::string, std::shared_ptr<worker_control>> controls;
};

TEST_F(BalancerActorTest, RelaysRepliesAndSpreadsRequestsOverTheWorkers) {
  start({"a", "b", "c"});
  std::vector<std::shared_ptr<answer<std::string>>> answers;
  for (int i = 0; i < 6; ++i)
    answers.push_back(job("job" + std::to_string(i)));
  sched.run();
  std::map<std::string, int> served;
  for (auto& a : answers) {
    ASSERT_TRUE(a->value) << (a->error ? sys.render(*a->error) : "no answer");
    served[a->value->substr(0, 1)]++;
  }
  EXPECT_EQ(served, (std::map<std::string, int>{{"a", 2}, {"b", 2}, {"c", 2}}));
  auto s = stats();
  EXPECT_EQ(s.succeeded, 6u);
  EXPECT_EQ(s.in_flight, 0u);
}

TEST_F(BalancerActorTest, RelaysAnEmptyReply) {
  start({"a"});
  auto out = std::make_shared<bool>(false);
  sys.spawn([=](caf::event_based_actor* self) {
    self->request(balancer, std::chrono::seconds(3600), make_balance_request("", false, 42))
      .then([=]() { *out = true; }, [](caf::error&) {});
  });
  sched.run();
  EXPECT_TRUE(*out);
}

TEST_F(BalancerActorTest, AWorkerDyingMidRequestHasItsIdempotentRequestRetried) {
  start({"a", "b"});
  controls["a"]->mode = worker_control::hang;
  controls["b"]->mode = worker_control::hang;
  auto r = job("x", true);
  sched.run();
  auto first = holder();
  ASSERT_FALSE(first.empty());
  auto other = first == "a" ? "b" : "a";
  controls[other]->mode = worker_control::reply;
  ASSERT_FALSE(r->done());

  // The worker dies with the request: no time passes, yet the request moves.
  controls[first]->held.clear();
  caf::anon_send_exit(workers[first], caf::exit_reason::kill);
  sched.run();
  ASSERT_TRUE(r->value) << (r->error ? sys.render(*r->error) : "no answer");
  EXPECT_EQ(*r->value, std::string{other} + ":x");
  auto s = stats();
  EXPECT_FALSE(backend(s, first).up);
  EXPECT_EQ(s.retries, 1u);
  // New requests avoid the dead worker.
  for (int i = 0; i < 3; ++i) {
    auto more = job("y");
    sched.run();
    ASSERT_TRUE(more->value);
    EXPECT_EQ(*more->value, std::string{other} + ":y");
  }
}

TEST_F(BalancerActorTest, AWorkerDyingMidRequestFailsANonIdempotentRequestClearly) {
  start({"a", "b"});
  controls["a"]->mode = worker_control::hang;
  controls["b"]->mode = worker_control::hang;
  auto r = job("x", false);
  sched.run();
  auto first = holder();
  ASSERT_FALSE(first.empty());
  controls[first]->held.clear();
  caf::anon_send_exit(workers[first], caf::exit_reason::kill);
  sched.run();
  ASSERT_TRUE(r->error);
  auto why = r->why();
  ASSERT_TRUE(why);
  EXPECT_EQ(why->code, errc::worker_down);
  EXPECT_NE(why->message.find("backend '" + first + "' went down"), std::string::npos)
    << why->message;
  EXPECT_NE(why->message.find("not idempotent"), std::string::npos);
  // The system renders it in full.
  EXPECT_NE(sys.render(*r->error).find("balance: worker_down: attempt 1"), std::string::npos)
    << sys.render(*r->error);
}

TEST_F(BalancerActorTest, AHangingWorkerTimesOutAndTheRequestIsRetriedOrFailed) {
  start({"a", "b"});
  controls["a"]->mode = worker_control::hang;
  controls["b"]->mode = worker_control::hang;
  auto idem = job("i", true);
  auto once = job("o", false);
  sched.run();
  advance(999ms);
  EXPECT_FALSE(idem->done());
  EXPECT_FALSE(once->done());
  controls["a"]->mode = worker_control::reply;
  controls["b"]->mode = worker_control::reply;
  advance(1ms);
  // The idempotent one went to the other worker and got its reply.
  ASSERT_TRUE(idem->value) << (idem->error ? sys.render(*idem->error) : "no answer");
  ASSERT_TRUE(once->error);
  EXPECT_EQ(once->why()->code, errc::timeout);
  EXPECT_NE(once->why()->message.find("got no reply within 1000 ms"), std::string::npos)
    << once->why()->message;
}

TEST_F(BalancerActorTest, EveryRequestIsAnsweredWithinItsTimeoutEvenIfNoWorkerAnswers) {
  start({"a", "b"});
  controls["a"]->mode = worker_control::hang;
  controls["b"]->mode = worker_control::hang;
  std::vector<std::shared_ptr<answer<std::string>>> answers;
  for (int i = 0; i < 10; ++i)
    answers.push_back(job("j", i % 2 == 0));
  sched.run();
  advance(3000ms);  // the request timeout
  for (auto& a : answers) {
    ASSERT_TRUE(a->error);
    EXPECT_EQ(a->why()->code, errc::timeout) << sys.render(*a->error);
  }
}

TEST_F(BalancerActorTest, EjectsAFailingWorkerAndTakesItBackWhenTheTimeIsUp) {
  auto lim = limits();
  lim.consecutive_failures = 2;
  lim.base_ejection = 500ms;
  start({"a", "b"}, lim);
  controls["a"]->mode = worker_control::fail;
  for (int i = 0; i < 4; ++i) {
    auto r = job("x");
    sched.run();
    ASSERT_TRUE(r->done());
  }
  auto s = stats();
  EXPECT_TRUE(backend(s, "a").ejected);
  EXPECT_EQ(backend(s, "a").ejections, 1u);
  // Ejected: everything goes to b.
  auto received = controls["a"]->received;
  for (int i = 0; i < 4; ++i) {
    auto r = job("y");
    sched.run();
    ASSERT_TRUE(r->value);
    EXPECT_EQ(*r->value, "b:y");
  }
  EXPECT_EQ(controls["a"]->received, received);
  // Back after the ejection time (a timer of the balancer's own).
  controls["a"]->mode = worker_control::reply;
  advance(500ms);
  EXPECT_FALSE(backend(stats(), "a").ejected);
  std::map<std::string, int> served;
  for (int i = 0; i < 4; ++i) {
    auto r = job("z");
    sched.run();
    ASSERT_TRUE(r->value);
    served[r->value->substr(0, 1)]++;
  }
  EXPECT_EQ(served["a"], 2);
}

TEST_F(BalancerActorTest, AnswersOverloadedAtOnceAndTimesOutTheQueued) {
  auto lim = limits();
  lim.max_outstanding_per_backend = 1;
  lim.max_queue = 1;
  start({"a"}, lim);
  controls["a"]->mode = worker_control::hang;
  auto busy = job("1");
  auto queued = job("2");
  auto refused = job("3");
  sched.run();
  ASSERT_TRUE(refused->error);  // no time passed
  EXPECT_EQ(refused->why()->code, errc::overloaded);
  EXPECT_NE(refused->why()->message.find("the queue is full (1 waiting, bound 1)"),
            std::string::npos)
    << refused->why()->message;
  EXPECT_FALSE(queued->done());
  EXPECT_EQ(controls["a"]->received, 1);
  advance(1000ms);  // the first attempt times out; the queued one goes in
  ASSERT_TRUE(busy->error);
  EXPECT_EQ(busy->why()->code, errc::timeout);
  EXPECT_EQ(controls["a"]->received, 2);
  advance(2000ms);  // the queued request's deadline
  ASSERT_TRUE(queued->error);
  EXPECT_EQ(queued->why()->code, errc::timeout);
}

TEST_F(BalancerActorTest, RetriesStayWithinTheRetryBudget) {
  auto lim = limits();
  lim.retry_budget_percent = 0;
  lim.min_retry_concurrency = 1;
  start({"a", "b"}, lim);
  controls["a"]->mode = worker_control::fail;
  controls["b"]->mode = worker_control::hang;
  std::vector<std::shared_ptr<answer<std::string>>> answers;
  for (int i = 0; i < 4; ++i) {
    answers.push_back(job("r" + std::to_string(i), true));
    sched.run();
  }
  int exhausted = 0;
  for (auto& a : answers)
    if (a->error && a->why() && a->why()->code == errc::retry_budget_exhausted)
      ++exhausted;
  EXPECT_GE(exhausted, 1);
  auto s = stats();
  EXPECT_EQ(s.retries_in_flight, 1u);
  EXPECT_EQ(s.budget_exhausted, static_cast<std::uint64_t>(exhausted));
}

TEST_F(BalancerActorTest, WorkersAreAddedReweightedAndRemovedByMessage) {
  start({"a"}, limits(), policy_kind::weighted_round_robin);
  auto b = spawn_worker("b");
  EXPECT_EQ(query<std::string>(add_worker_atom_v, std::string{"b"}, b, std::uint32_t{3}), "b");
  EXPECT_TRUE(query<bool>(reweight_atom_v, std::string{"b"}, std::uint32_t{3}));
  std::map<std::string, int> served;
  for (int i = 0; i < 8; ++i) {
    auto r = job("w");
    sched.run();
    ASSERT_TRUE(r->value);
    served[r->value->substr(0, 1)]++;
  }
  EXPECT_EQ(served, (std::map<std::string, int>{{"a", 2}, {"b", 6}}));
  EXPECT_TRUE(query<bool>(remove_worker_atom_v, workers["a"]));
  EXPECT_FALSE(query<bool>(remove_worker_atom_v, std::string{"nobody"}));
  for (int i = 0; i < 3; ++i) {
    auto r = job("v");
    sched.run();
    ASSERT_TRUE(r->value);
    EXPECT_EQ(*r->value, "b:v");
  }
  EXPECT_EQ(stats().backends.size(), 1u);
  // Removing the last worker: requests fail at once, clearly.
  EXPECT_TRUE(query<bool>(remove_worker_atom_v, std::string{"b"}));
  auto r = job("none");
  sched.run();
  ASSERT_TRUE(r->error);
  EXPECT_EQ(r->why()->code, errc::no_backends);
}

TEST_F(BalancerActorTest, AWorkerAddedUnderTheNameOfADeadOneTakesItsPlace) {
  start({"a", "b"});
  caf::anon_send_exit(workers["a"], caf::exit_reason::kill);
  sched.run();
  EXPECT_FALSE(backend(stats(), "a").up);
  // A name that is up cannot be taken.
  auto dup = std::make_shared<answer<std::string>>();
  auto b2 = spawn_worker("b2");
  sys.spawn([=](caf::event_based_actor* self) {
    self
      ->request(balancer, std::chrono::seconds(3600), add_worker_atom_v, std::string{"b"}, b2,
                std::uint32_t{1})
      .then([=](std::string& x) { dup->value = x; }, [=](caf::error& err) { dup->error = err; });
  });
  sched.run();
  ASSERT_TRUE(dup->error);
  // The restarted "a" (a new actor) joins under the old name.
  auto a2 = spawn_worker("a2");
  EXPECT_EQ(query<std::string>(add_worker_atom_v, std::string{"a"}, a2, std::uint32_t{1}), "a");
  auto s = stats();
  EXPECT_TRUE(backend(s, "a").up);
  EXPECT_EQ(s.backends.size(), 2u);
  std::map<std::string, int> served;
  for (int i = 0; i < 4; ++i) {
    auto r = job("q");
    sched.run();
    ASSERT_TRUE(r->value);
    served[r->value->substr(0, 2)]++;
  }
  EXPECT_EQ(served["a2"], 2);
}

TEST_F(BalancerActorTest, AWorkerDyingTakesItsQueuedRequestsNowhere) {
  auto lim = limits();
  lim.max_outstanding_per_backend = 1;
  start({"a"}, lim);
  controls["a"]->mode = worker_control::hang;
  auto first = job("1", true);
  auto second = job("2", false);
  sched.run();
  controls["a"]->held.clear();
  caf::anon_send_exit(workers["a"], caf::exit_reason::kill);
  sched.run();
  ASSERT_TRUE(first->error);
  EXPECT_EQ(first->why()->code, errc::worker_down);
  ASSERT_TRUE(second->error);
  EXPECT_EQ(second->why()->code, errc::no_backends);
}

TEST_F(BalancerActorTest, StoppingTheBalancerAnswersItsOpenRequests) {
  start({"a"});
  controls["a"]->mode = worker_control::hang;
  auto r = job("x");
  sched.run();
  caf::anon_send_exit(balancer, caf::exit_reason::user_shutdown);
  sched.run();
  ASSERT_TRUE(r->error);
  EXPECT_EQ(r->why()->code, errc::shutdown);
  balancer = nullptr;
}

TEST_F(BalancerActorTest, SlowStartRampsAWorkerAddedAtRunTime) {
  auto lim = limits();
  lim.slow_start_window = 1000ms;
  start({"a"}, lim, policy_kind::weighted_round_robin);
  auto b = spawn_worker("b");
  query<std::string>(add_worker_atom_v, std::string{"b"}, b, std::uint32_t{1});
  auto s = stats();
  EXPECT_TRUE(backend(s, "b").slow_start);
  EXPECT_EQ(backend(s, "b").effective_weight, 1u);
  EXPECT_EQ(backend(s, "a").effective_weight, 10u);
  advance(500ms);  // the balancer's own wake-ups move the ramp on
  EXPECT_EQ(backend(stats(), "b").effective_weight, 6u);
  advance(500ms);
  s = stats();
  EXPECT_FALSE(backend(s, "b").slow_start);
  EXPECT_EQ(backend(s, "b").effective_weight, 10u);
}

}  // namespace
