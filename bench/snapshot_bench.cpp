// The state machine's snapshot on the replica's thread (issue 9): the copy of
// the state that a checkpoint takes before encoding and writing move to the
// background. A pause longer than the election timeout (100-200 ms) costs the
// leader its leadership, so this is the time that matters.
//
// State: 128 values of 1 MiB and 100'000 values of 100 bytes (plus the watch
// history the key space keeps, up to its default 32 MiB), as in
// bench/checkpoint-bench.sh. The `auth` variant adds one user and role, which
// puts the auth section in front of the lock service's bytes.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstdio>
#include <memory>
#include <string>

#include "actors/auth/auth_codec.hpp"
#include "actors/kv/command_codec.hpp"
#include "actors/kv/key_space.hpp"
#include "actors/paxos/learner.hpp"
#include "actors/service/service_machine.hpp"

namespace {

using namespace ballot;

void put(service::service_machine& m, std::string key, std::string value) {
  m.apply(kv::encode(kv::request{kv::put_request{std::move(key), std::move(value), {}}}));
}

std::unique_ptr<service::service_machine> filled(bool with_auth) {
  auto m = std::make_unique<service::service_machine>();
  char name[32];
  for (int i = 0; i < 100'000; ++i) {
    std::snprintf(name, sizeof(name), "small/%06d", i);
    put(*m, name, std::string(100, static_cast<char>('a' + i % 26)));
  }
  for (int i = 0; i < 128; ++i) {
    std::snprintf(name, sizeof(name), "large/%03d", i);
    put(*m, name, std::string(1u << 20, static_cast<char>('A' + i % 26)));
  }
  if (with_auth) {
    m->apply(auth::encode(auth::command{auth::role_add{"reader"}}));
    m->apply(auth::encode(auth::command{auth::user_add{"alice", "hash"}}));
    m->apply(auth::encode(auth::command{auth::user_grant{"alice", "reader"}}));
  }
  return m;
}

const service::service_machine& state(bool with_auth) {
  static auto plain = filled(false);
  static auto authed = filled(true);
  return with_auth ? *authed : *plain;
}

/// Heap bytes in use (glibc's mallinfo2): unlike the resident size, not
/// confused by memory freed by an earlier run and reused.
double heap_bytes() {
  return static_cast<double>(mallinfo2().uordblks);
}

/// Memory per key of 100k keys of 100-byte values: heap growth while filling
/// a key space, divided by the keys. `history:0` keeps one event (the map
/// alone), `history:1` the default history (50k events, 32 MiB).
void BM_KeySpaceMemory(benchmark::State& st) {
  double per_key = 0;
  for (auto _ : st) {
    auto before = heap_bytes();
    auto ks =
      st.range(0) != 0 ? std::make_unique<kv::key_space>() : std::make_unique<kv::key_space>(1, 0);
    char name[32];
    for (int i = 0; i < 100'000; ++i) {
      std::snprintf(name, sizeof(name), "small/%06d", i);
      ks->put(name, std::string(100, static_cast<char>('a' + i % 26)), 0);
    }
    per_key = (heap_bytes() - before) / 100'000;
    benchmark::DoNotOptimize(ks);
  }
  st.counters["heap_bytes_per_key"] = per_key;
}
BENCHMARK(BM_KeySpaceMemory)->ArgName("history")->Arg(0)->Arg(1)->Iterations(1);

void BM_ServiceSnapshot(benchmark::State& st) {
  auto& m = state(st.range(0) != 0);
  std::size_t bytes = 0;
  for (auto _ : st) {
    auto snap = m.snapshot();
    bytes = snap->size();
    benchmark::DoNotOptimize(snap);
  }
  st.counters["snapshot_MiB"] = static_cast<double>(bytes) / (1 << 20);
  st.SetBytesProcessed(static_cast<std::int64_t>(bytes) * st.iterations());
}
BENCHMARK(BM_ServiceSnapshot)
  ->ArgName("auth")
  ->Arg(0)
  ->Arg(1)
  ->Unit(benchmark::kMillisecond)
  ->Iterations(5);

/// What a checkpoint now costs the replica's thread (issue 9): freezing the
/// state (the small sections encoded, the key space copied with its values
/// shared), not encoding it.
void BM_ServiceFreeze(benchmark::State& st) {
  auto& m = state(st.range(0) != 0);
  std::size_t hint = 0;
  for (auto _ : st) {
    auto frozen = m.freeze();
    hint = frozen->size_hint();
    benchmark::DoNotOptimize(frozen);
    // Dropping the copy is the background thread's (it drops the image
    // once encoded), not the replica's: not timed.
    st.PauseTiming();
    frozen.reset();
    st.ResumeTiming();
  }
  st.counters["snapshot_MiB"] = static_cast<double>(hint) / (1 << 20);
}
BENCHMARK(BM_ServiceFreeze)
  ->ArgName("auth")
  ->Arg(0)
  ->Arg(1)
  ->Unit(benchmark::kMillisecond)
  ->Iterations(5);

/// The part that moved to the storage's background thread: encoding a
/// frozen state into the snapshot's bytes.
void BM_FrozenEncode(benchmark::State& st) {
  auto frozen = state(st.range(0) != 0).freeze();
  std::size_t bytes = 0;
  for (auto _ : st) {
    auto out = frozen->encode();
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  st.SetBytesProcessed(static_cast<std::int64_t>(bytes) * st.iterations());
}
BENCHMARK(BM_FrozenEncode)
  ->ArgName("auth")
  ->Arg(0)
  ->Arg(1)
  ->Unit(benchmark::kMillisecond)
  ->Iterations(5);

/// A state machine of no state whose results are as long as a put's: what
/// the learner's dedup table holds for each command.
struct result_machine : paxos::state_machine {
  std::string result;
  std::string apply(const std::string& /*payload*/) override { return result; }
  std::optional<std::string> snapshot() const override { return std::string{}; }
};

/// The result of a 100-byte put, as the service machine answers it.
std::string put_result() {
  service::service_machine m;
  return m.apply(kv::encode(kv::request{kv::put_request{"k", std::string(100, 'v'), {}}}));
}

/// A learner that applied `window` commands of each of `clients` clients.
std::unique_ptr<paxos::learner> busy_learner(result_machine& sm, std::size_t clients,
                                             std::size_t window) {
  auto l = std::make_unique<paxos::learner>(paxos::durable_state{}, sm, window);
  paxos::ready out;
  std::vector<paxos::learner::applied> done;
  paxos::slot_index slot = 0;
  for (std::uint64_t seq = 1; seq <= window; ++seq) {
    paxos::value val;
    for (std::uint64_t c = 1; c <= clients; ++c)
      val.commands.push_back({c, seq, std::string("x")});
    l->learn(++slot, val, out, done);
    done.clear();
    out = {};
  }
  return l;
}

/// The dedup table's part of a snapshot on the replica's thread: 256 clients
/// with a full window of 64 results each (the kit's 64 clients leave about
/// this many rows: each reconnection takes a fresh client id).
void BM_LearnerSnapshot(benchmark::State& st) {
  result_machine sm;
  sm.result = put_result();
  auto l = busy_learner(sm, static_cast<std::size_t>(st.range(0)), 64);
  std::size_t records = 0;
  for (auto _ : st) {
    auto snap = l->make_snapshot();
    benchmark::DoNotOptimize(snap);
    // Making the records is the storage thread's work once the snapshot
    // leaves the replica, and so is dropping them: not timed.
    st.PauseTiming();
    records = snap->clients.records().size();
    snap.reset();
    st.ResumeTiming();
  }
  st.counters["clients"] = static_cast<double>(records);
  st.counters["result_bytes"] = static_cast<double>(sm.result.size());
}
BENCHMARK(BM_LearnerSnapshot)
  ->ArgName("clients")
  ->Arg(64)
  ->Arg(256)
  ->Arg(1024)
  ->Unit(benchmark::kMicrosecond);

/// What the snapshot's shared rows cost later: one command of each of 256
/// clients right after a snapshot, with the snapshot still held (`held:1`:
/// each client's row is copied on its change) or already let go (`held:0`).
void BM_LearnerApplyAfterSnapshot(benchmark::State& st) {
  result_machine sm;
  sm.result = put_result();
  constexpr std::size_t clients = 256;
  auto l = busy_learner(sm, clients, 64);
  std::uint64_t seq = 64;
  paxos::slot_index slot = 64;
  paxos::ready out;
  std::vector<paxos::learner::applied> done;
  for (auto _ : st) {
    st.PauseTiming();
    auto snap = l->make_snapshot();
    if (st.range(0) == 0)
      snap.reset();
    paxos::value val;
    ++seq;
    for (std::uint64_t c = 1; c <= clients; ++c)
      val.commands.push_back({c, seq, std::string("x")});
    st.ResumeTiming();
    l->learn(++slot, val, out, done);
    st.PauseTiming();
    snap.reset();
    done.clear();
    out = {};
    st.ResumeTiming();
  }
}
BENCHMARK(BM_LearnerApplyAfterSnapshot)
  ->ArgName("held")
  ->Arg(0)
  ->Arg(1)
  ->Unit(benchmark::kMicrosecond);

void BM_ServiceRestore(benchmark::State& st) {
  auto snap = *state(false).snapshot();
  for (auto _ : st) {
    service::service_machine m;
    m.restore(snap);
    benchmark::DoNotOptimize(m);
  }
  st.SetBytesProcessed(static_cast<std::int64_t>(snap.size()) * st.iterations());
}
BENCHMARK(BM_ServiceRestore)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace

BENCHMARK_MAIN();
