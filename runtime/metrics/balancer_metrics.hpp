#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

#include "actors/balance/stats.hpp"
#include "runtime/metrics/registry.hpp"

/// Metrics of the library's balancer actors, for programs that embed them:
/// per backend the requests outstanding, the ejections, the picks (attempts
/// sent to it) and whether it is up, plus each balancer's queue. ballotd runs
/// no balancer; an embedder registers its own:
///
///     metrics::registry reg;
///     metrics::balancer_metrics balancers{reg, sys};
///     balancers.add("frontend", spawn_balancer(sys, cfg));
///     auto http = metrics::http_server::start(opts, {{"/metrics", ...reg.render()...}});
namespace ballot::metrics {

/// Writes the balancer families for `stats` (by balancer name). Pure.
void write_balancer_stats(text_writer& out,
                          const std::vector<std::pair<std::string, balance::core_stats>>& stats);

/// A collector in `reg` that asks each added balancer for its stats
/// (`balance_stats_atom`) at every render, waiting at most `timeout` for
/// each; one that does not answer in time is left out of that render.
class balancer_metrics {
 public:
  balancer_metrics(registry& reg, caf::actor_system& sys,
                   std::chrono::milliseconds timeout = std::chrono::milliseconds(200));
  ~balancer_metrics();
  balancer_metrics(const balancer_metrics&) = delete;
  balancer_metrics& operator=(const balancer_metrics&) = delete;

  /// `name` becomes the `balancer` label (a name added again replaces it).
  void add(const std::string& name, caf::actor balancer);
  void remove(const std::string& name);

 private:
  struct shared;
  registry& reg_;
  std::shared_ptr<shared> shared_;
  std::uint64_t collector_ = 0;
};

}  // namespace ballot::metrics
