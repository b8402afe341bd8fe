// Write-ahead log throughput: appends of N votes (one 100-byte command each)
// followed by one sync, on a temporary directory under /tmp (or $WAL_BENCH_DIR).
// Each iteration is one group commit; records/s and syncs/s are per wall-clock
// second, since the time goes to waiting for the disk, not to the CPU.
#include <benchmark/benchmark.h>

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "runtime/wal/wal_storage.hpp"

namespace {

using namespace ballot;

class bench_dir {
 public:
  bench_dir() {
    const char* base = std::getenv("WAL_BENCH_DIR");
    std::string pattern = std::string{base != nullptr ? base : "/tmp"} + "/ballot-wal-bench-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr)
      std::abort();
    path_ = pattern;
  }
  ~bench_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// N votes for slots 1..N. Appending the same ready again is fine for the log
/// (a later vote for a slot overwrites on replay) and keeps setup out of the loop.
paxos::ready votes(std::int64_t n) {
  paxos::ready rd;
  for (std::int64_t i = 1; i <= n; ++i) {
    auto slot = static_cast<paxos::slot_index>(i);
    rd.accepted.push_back(
      {slot, {{1, 1}, paxos::value{{paxos::command{1, slot, std::string(100, 'c')}}}}});
  }
  return rd;
}

/// One ready of N votes, then one sync, per iteration.
void BM_wal_append_sync(benchmark::State& state) {
  bench_dir dir;
  wal::wal_options opts;
  opts.dir = dir.path();
  wal::wal_storage st{opts};
  st.load();
  auto n = state.range(0);
  auto rd = votes(n);
  for (auto _ : state) {
    st.append(rd);
    st.sync();
  }
  state.counters["records/s"] =
    benchmark::Counter(static_cast<double>(state.iterations() * n), benchmark::Counter::kIsRate);
  state.counters["syncs/s"] =
    benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_wal_append_sync)->Arg(1)->Arg(16)->Arg(256)->UseRealTime()->MinTime(2.0);

/// The same appends without syncing: the CPU cost of encoding, checksumming
/// and writing, i.e. the ceiling that group commit approaches.
void BM_wal_append_only(benchmark::State& state) {
  bench_dir dir;
  wal::wal_options opts;
  opts.dir = dir.path();
  wal::wal_storage st{opts};
  st.load();
  auto n = state.range(0);
  auto rd = votes(n);
  for (auto _ : state) {
    st.append(rd);
  }
  state.counters["records/s"] =
    benchmark::Counter(static_cast<double>(state.iterations() * n), benchmark::Counter::kIsRate);
}
// Short: this one writes hundreds of MB per second to the shared disk.
BENCHMARK(BM_wal_append_only)->Arg(1)->Arg(16)->Arg(256)->UseRealTime()->MinTime(0.2);

}  // namespace

BENCHMARK_MAIN();
