// Balancer metrics for embedders: a real balancer actor on CAF's scheduler
// with two workers, asked through the registry's collector.
#include <string>

#include <gtest/gtest.h>

#include "caf/all.hpp"

#include "actors/balance/balancer_actor.hpp"
#include "actors/balance/request.hpp"
#include "actors/balance/type_ids.hpp"
#include "runtime/metrics/balancer_metrics.hpp"

namespace ballot::metrics {
namespace {

caf::behavior echo_worker(caf::event_based_actor*) {
  return {[](const std::string& job) { return job; }};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(BalancerMetricsTest, PicksOutstandingAndEjectionsPerBackendReachTheRegistry) {
  caf::actor_system_config cfg;
  balance::configure(cfg);
  caf::actor_system sys{cfg};
  balance::balancer_config bc;
  bc.policy = balance::policy_kind::round_robin;
  bc.workers.push_back({"w1", sys.spawn(echo_worker), 1, std::nullopt});
  bc.workers.push_back({"w2", sys.spawn(echo_worker), 1, std::nullopt});
  auto balancer = balance::spawn_balancer(sys, bc);
  registry reg;
  {
    balancer_metrics m{reg, sys, std::chrono::seconds(2)};
    m.add("front", balancer);
    caf::scoped_actor self{sys};
    for (int i = 0; i < 10; ++i)
      self
        ->request(balancer, std::chrono::seconds(2),
                  balance::balance_request{"", true, caf::make_message(std::string{"job"})})
        .receive([](const std::string&) {}, [](caf::error& e) { FAIL() << caf::to_string(e); });
    auto text = reg.render();
    EXPECT_TRUE(contains(text, "# TYPE ballot_balancer_backend_picks_total counter")) << text;
    EXPECT_TRUE(
      contains(text, "ballot_balancer_backend_picks_total{balancer=\"front\",backend=\"w1\"} 5"))
      << text;
    EXPECT_TRUE(
      contains(text, "ballot_balancer_backend_picks_total{balancer=\"front\",backend=\"w2\"} 5"))
      << text;
    EXPECT_TRUE(
      contains(text, "ballot_balancer_backend_outstanding{balancer=\"front\",backend=\"w1\"} 0"));
    EXPECT_TRUE(contains(
      text, "ballot_balancer_backend_ejections_total{balancer=\"front\",backend=\"w2\"} 0"));
    EXPECT_TRUE(contains(text, "ballot_balancer_backend_up{balancer=\"front\",backend=\"w1\"} 1"));
    m.remove("front");
    EXPECT_FALSE(contains(reg.render(), "balancer=\"front\""));
  }
  // Gone with its owner: the registry renders without it.
  EXPECT_FALSE(contains(reg.render(), "ballot_balancer_"));
  caf::anon_send_exit(balancer, caf::exit_reason::user_shutdown);
}

}  // namespace
}  // namespace ballot::metrics
