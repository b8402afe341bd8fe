#include "runtime/metrics/balancer_metrics.hpp"

#include "caf/all.hpp"

#include "actors/balance/type_ids.hpp"

namespace ballot::metrics {

struct balancer_metrics::shared {
  shared(caf::actor_system& s, std::chrono::milliseconds t) : sys(s), timeout(t) {}
  caf::actor_system& sys;
  std::chrono::milliseconds timeout;
  std::mutex mutex;
  std::map<std::string, caf::actor> balancers;
};

void write_balancer_stats(text_writer& out,
                          const std::vector<std::pair<std::string, balance::core_stats>>& stats) {
  auto per_backend = [&](const char* name, const char* help, kind k, auto value) {
    out.family(name, help, k);
    for (auto& [balancer, s] : stats)
      for (auto& b : s.backends)
        out.sample(name, {{"balancer", balancer}, {"backend", b.name}},
                   static_cast<std::uint64_t>(value(b)));
  };
  per_backend("ballot_balancer_backend_outstanding", "Requests outstanding at the backend now.",
              kind::gauge, [](const balance::backend_stats& b) { return b.outstanding; });
  per_backend(
    "ballot_balancer_backend_picks_total",
    "Attempts the balancer sent to the backend (answered, failed or outstanding).", kind::counter,
    [](const balance::backend_stats& b) { return b.served + b.failures + b.outstanding; });
  per_backend("ballot_balancer_backend_ejections_total",
              "Times the backend was ejected as an outlier.", kind::counter,
              [](const balance::backend_stats& b) { return b.ejections; });
  per_backend("ballot_balancer_backend_up",
              "1 if the backend takes requests (up and not ejected), else 0.", kind::gauge,
              [](const balance::backend_stats& b) { return b.up && !b.ejected ? 1 : 0; });
  out.family("ballot_balancer_queued", "Requests waiting in the balancer's queue.", kind::gauge);
  for (auto& [balancer, s] : stats)
    out.sample("ballot_balancer_queued", {{"balancer", balancer}}, s.queued);
}

balancer_metrics::balancer_metrics(registry& reg, caf::actor_system& sys,
                                   std::chrono::milliseconds timeout)
    : reg_(reg), shared_(std::make_shared<shared>(sys, timeout)) {
  collector_ = reg_.add_collector([s = shared_](text_writer& out) {
    std::map<std::string, caf::actor> balancers;
    {
      std::lock_guard<std::mutex> guard{s->mutex};
      balancers = s->balancers;
    }
    std::vector<std::pair<std::string, balance::core_stats>> stats;
    caf::scoped_actor self{s->sys};
    for (auto& [name, b] : balancers) {
      self->request(b, s->timeout, balance::balance_stats_atom_v)
        .receive([&](balance::core_stats& cs) { stats.emplace_back(name, std::move(cs)); },
                 [](caf::error&) {
                   // Busy or gone: left out of this scrape.
                 });
    }
    write_balancer_stats(out, stats);
  });
}

balancer_metrics::~balancer_metrics() {
  reg_.remove_collector(collector_);
}

void balancer_metrics::add(const std::string& name, caf::actor balancer) {
  std::lock_guard<std::mutex> guard{shared_->mutex};
  shared_->balancers[name] = std::move(balancer);
}

void balancer_metrics::remove(const std::string& name) {
  std::lock_guard<std::mutex> guard{shared_->mutex};
  shared_->balancers.erase(name);
}

}  // namespace ballot::metrics
