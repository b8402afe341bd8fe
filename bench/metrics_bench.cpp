// What metrics cost on the request path and per scrape: the gateway's
// accounting of one call (series cached, one counter, one histogram), a
// histogram observation, and rendering a node's whole registry.
#include <chrono>

#include <benchmark/benchmark.h>

#include "runtime/ballotd/node_metrics.hpp"
#include "runtime/gateway/gateway_metrics.hpp"
#include "runtime/metrics/registry.hpp"

namespace {

using namespace ballot;

void BM_counter_inc(benchmark::State& state) {
  static metrics::registry reg;
  static auto& c = reg.add_counter("bench_c_total", "c").with();
  for (auto _ : state)
    c.inc();
}
BENCHMARK(BM_counter_inc)->Threads(1)->Threads(2);

void BM_histogram_observe(benchmark::State& state) {
  static metrics::registry reg;
  static auto& h = reg.add_histogram("bench_h_seconds", "h", metrics::latency_buckets()).with();
  double v = 0.0001;
  for (auto _ : state) {
    h.observe(v);
    v = v < 1 ? v * 1.7 : 0.0001;
  }
}
BENCHMARK(BM_histogram_observe)->Threads(1)->Threads(2);

/// One client call as the gateway counts it, clock readings included.
void BM_gateway_call_done(benchmark::State& state) {
  static metrics::registry reg;
  static gateway::gateway_metrics m{reg};
  for (auto _ : state) {
    auto started = std::chrono::steady_clock::now();
    m.call_done(gateway::gateway_metrics::op::put, 0, std::chrono::steady_clock::now() - started);
  }
}
BENCHMARK(BM_gateway_call_done)->Threads(1)->Threads(2);

/// A scrape of a cluster node's registry (one replica, two peers, a few ops).
void BM_render_node(benchmark::State& state) {
  ballotd::node_metrics m;
  auto probe = m.probe_for(1, true);
  probe->on_sync(std::chrono::microseconds(300));
  probe->on_commit(std::chrono::milliseconds(2));
  probe->on_read(std::chrono::milliseconds(1));
  probe->on_batch(16);
  m.log_for(1).progress(1 << 20, 2);
  m.peer_probed(2, std::chrono::microseconds(200));
  m.peer_probed(3, std::nullopt);
  for (auto op : {gateway::gateway_metrics::op::put, gateway::gateway_metrics::op::get,
                  gateway::gateway_metrics::op::acquire})
    m.gateway()->call_done(op, 0, std::chrono::milliseconds(1));
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto text = m.registry().render();
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_render_node);

}  // namespace

BENCHMARK_MAIN();
