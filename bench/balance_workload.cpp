#include "bench/balance_workload.hpp"

#include <atomic>
#include <memory>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "caf/all.hpp"

#include "actors/balance/balancer_actor.hpp"
#include "actors/balance/request.hpp"
#include "actors/balance/type_ids.hpp"

namespace ballot::bench {

namespace {

using clock_type = std::chrono::steady_clock;

/// What all clients share: the measured window and the stop flag.
struct run_state {
  clock_type::time_point open, close;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> answered{0};
  std::atomic<int> alive{0};
};

/// One client's samples (written by its actor only, read after the run).
using samples = std::vector<std::pair<std::uint32_t, bool>>;

struct client_state {
  static inline const char* name = "ballot.bench.balance_client";

  explicit client_state(caf::event_based_actor* self) : self(self) {}

  void issue() {
    if (run->stop) {
      self->quit();
      return;
    }
    auto began = clock_type::now();
    auto key = "k" + std::to_string(pick(rng));
    // The balancer answers within its request timeout; this one is a backstop.
    self
      ->request(balancer, std::chrono::seconds(60),
                balance::make_balance_request(std::move(key), true, seq++))
      .then([this, began](std::uint64_t) { done(began, true); },
            [this, began](caf::error&) { done(began, false); });
  }

  void done(clock_type::time_point began, bool ok) {
    auto ended = clock_type::now();
    run->answered.fetch_add(1, std::memory_order_relaxed);
    if (ended >= run->open && ended < run->close)
      log->emplace_back(
        static_cast<std::uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(ended - began).count()),
        ok);
    issue();
  }

  caf::event_based_actor* self;
  caf::actor balancer;
  std::shared_ptr<run_state> run;
  std::shared_ptr<samples> log;
  std::mt19937_64 rng;
  std::uniform_int_distribution<std::size_t> pick;
  std::uint64_t seq = 0;
};

caf::behavior bench_client(caf::stateful_actor<client_state>* self, caf::actor balancer,
                           std::shared_ptr<run_state> run, std::shared_ptr<samples> log,
                           std::size_t keys, std::uint64_t seed) {
  auto& st = self->state;
  st.balancer = std::move(balancer);
  st.run = run;
  st.log = std::move(log);
  st.rng.seed(seed);
  st.pick = std::uniform_int_distribution<std::size_t>(0, keys == 0 ? 0 : keys - 1);
  ++run->alive;
  self->attach_functor([run] { --run->alive; });
  st.issue();
  return {[](caf::unit_t) {}};  // everything happens in response handlers
}

caf::behavior bench_worker(caf::event_based_actor*) {
  return {[](std::uint64_t x) { return x; }};
}

}  // namespace

balance_workload_result run_balance_workload(const balance_workload_options& opts,
                                             const balance_latency_sample& on_sample,
                                             const balance_progress& on_second) {
  balance_workload_result result;
  auto kind = balance::parse_policy_kind(opts.policy);
  if (!kind) {
    result.error = "unknown policy '" + opts.policy + "'";
    return result;
  }
  result.policy = balance::to_string(*kind);
  auto run = std::make_shared<run_state>();
  std::vector<std::shared_ptr<samples>> logs;
  {
    caf::actor_system_config cfg;
    cfg.set("logger.file-verbosity", caf::atom("quiet"));
    if (opts.threads > 0)
      cfg.set("scheduler.max-threads", opts.threads);
    balance::configure(cfg);
    caf::actor_system sys{cfg};

    balance::balancer_config bc;
    bc.policy = *kind;
    bc.limits.request_timeout = std::chrono::seconds(10);
    bc.limits.attempt_timeout = std::chrono::seconds(5);
    std::vector<caf::actor> workers;
    for (std::size_t i = 0; i < std::max<std::size_t>(opts.workers, 1); ++i) {
      workers.push_back(sys.spawn(bench_worker));
      bc.workers.push_back({"worker-" + std::to_string(i), workers.back(), 1, std::nullopt});
    }
    auto balancer = balance::spawn_balancer(sys, bc);

    auto start = clock_type::now();
    run->open = start + std::chrono::duration_cast<clock_type::duration>(opts.warmup);
    run->close = run->open + std::chrono::duration_cast<clock_type::duration>(opts.duration);
    for (std::size_t c = 0; c < opts.clients; ++c) {
      logs.push_back(std::make_shared<samples>());
      sys.spawn(bench_client, balancer, run, logs.back(), opts.keys, c + 1);
    }
    std::uint64_t last = 0;
    for (int second = 1; clock_type::now() < run->close; ++second) {
      std::this_thread::sleep_until(std::min(start + std::chrono::seconds(second), run->close));
      auto now_answered = run->answered.load();
      if (on_second)
        on_second(second, now_answered - last, clock_type::now() <= run->open);
      last = now_answered;
    }
    run->stop = true;
    // Each client stops at its next answer; the balancer answers within its
    // request timeout.
    auto deadline = clock_type::now() + std::chrono::seconds(15);
    while (run->alive > 0 && clock_type::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    caf::anon_send_exit(balancer, caf::exit_reason::user_shutdown);
    for (auto& w : workers)
      caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  }  // joins the actor system's threads: the logs are ours now
  result.seconds = opts.duration.count();
  for (auto& log : logs) {
    for (auto [us, ok] : *log) {
      ++(ok ? result.ops : result.errors);
      if (on_sample)
        on_sample(us, ok);
    }
  }
  return result;
}

}  // namespace ballot::bench
