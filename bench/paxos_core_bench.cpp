// The ceiling for the real cluster: commands committed per second by three
// replica cores over an instant in-memory network (no CAF, no disk, no
// sockets), for 1, 16 and 256 commands batched per slot.
#include <benchmark/benchmark.h>

#include "tests/support/local_cluster.hpp"

namespace {

using namespace ballot::paxos;

constexpr std::uint64_t commands_per_round = 16384;

void BM_CommitThreeReplicas(benchmark::State& state) {
  config cfg;
  cfg.max_batch = static_cast<std::size_t>(state.range(0));
  cfg.window = 32;
  std::string payload(16, 'x');
  std::uint64_t committed = 0;
  for (auto _ : state) {
    // A fresh group per round keeps the never-truncated log (and memory) small.
    state.PauseTiming();
    ballot::testing::local_cluster c{3, cfg};
    auto leader = *c.elect();
    state.ResumeTiming();
    for (std::uint64_t i = 1; i <= commands_per_round; ++i)
      c.propose(leader, command{1, i, payload});
    c.deliver();
    if (c.log(leader).size() != commands_per_round) {
      state.SkipWithError("not every command committed");
      break;
    }
    committed += commands_per_round;
  }
  state.counters["commands_per_s"] =
    benchmark::Counter(static_cast<double>(committed), benchmark::Counter::kIsRate);
  state.counters["batch"] = static_cast<double>(cfg.max_batch);
}

BENCHMARK(BM_CommitThreeReplicas)->Arg(1)->Arg(16)->Arg(256)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
