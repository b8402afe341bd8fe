#pragma once

// Concurrent key/value clients against a cluster of ballotd processes, and
// the checks every process test that uses them ends with: every
// acknowledged write reads back through every node, and the history of the
// shared keys is linearizable.
#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/process/cluster_fixture.hpp"
#include "tests/support/linearizability.hpp"

namespace ballot::testing {

using kv_op = kv_operation;

inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

/// Concurrent clients doing puts and gets on a few shared keys (for the
/// linearizability check) and writes of unique keys (for the durability check).
class workload {
 public:
  workload(cluster_processes& c, int clients) : cluster_(c) {
    for (int i = 0; i < clients; ++i)
      threads_.emplace_back([this, i] { run(i); });
  }

  void stop() {
    stop_ = true;
    for (auto& t : threads_)
      t.join();
    threads_.clear();
  }

  ~workload() {
    if (!threads_.empty())
      stop();
  }

  std::vector<kv_op> history;
  /// Unique keys whose put was acknowledged.
  std::vector<std::string> acked_unique;
  std::atomic<int> ok_writes{0};

 private:
  void run(int id) {
    ballot::client::client c{cluster_.client_options()};
    std::mt19937_64 rng(static_cast<std::uint64_t>(id) * 7919 + 1);
    int n = 0;
    while (!stop_) {
      ++n;
      auto roll = rng() % 10;
      kv_op o;
      o.client = static_cast<std::uint64_t>(id) + 1;
      if (roll < 2) {
        auto key = "u-" + std::to_string(id) + "-" + std::to_string(n);
        auto r = c.put(key, "x");
        if (r.ok()) {
          ok_writes++;
          std::lock_guard<std::mutex> g{mutex_};
          acked_unique.push_back(key);
        }
        continue;
      }
      o.key = "k" + std::to_string(rng() % 4);
      o.invoke_ns = now_ns();
      if (roll < 6) {
        o.op = kv_op::kind::put;
        o.value = std::to_string(id) + "." + std::to_string(n);
        auto r = c.put(o.key, o.value);
        o.return_ns = now_ns();
        if (r.ok()) {
          o.outcome = kv_op::result::ok;
          o.version = r.version;
          ok_writes++;
        } else if (r.code == kv::result_code::unavailable) {
          o.outcome = kv_op::result::unknown;  // may or may not have applied
        } else {
          o.outcome = kv_op::result::refused;
        }
      } else {
        o.op = kv_op::kind::get;
        auto r = c.get(o.key);
        o.return_ns = now_ns();
        if (r.code == kv::result_code::unavailable)
          continue;  // a read that failed had no effect
        o.outcome = r.ok() ? kv_op::result::ok : kv_op::result::absent;
        o.read_value = r.value;
        o.version = r.version;
      }
      std::lock_guard<std::mutex> g{mutex_};
      history.push_back(o);
    }
  }

  cluster_processes& cluster_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  std::mutex mutex_;
};

/// Checks what a finished `workload` did: its acknowledged unique keys are
/// readable through every node, and its history (with a final read of each
/// shared key) is linearizable; `name` labels the history file on failure.
/// `through`: the nodes to read every key through (default: all of them).
inline void check_workload(cluster_processes& cluster, workload& load, const std::string& name,
                           std::vector<std::string> through = {}) {
  if (through.empty())
    through = cluster.endpoints();
  // Durability: every acknowledged unique key is there, read through every node.
  for (auto& endpoint : through) {
    ballot::client::options o = cluster.client_options();
    o.endpoints = {endpoint};
    ballot::client::client c{o};
    for (auto& key : load.acked_unique) {
      auto r = c.get(key);
      ASSERT_TRUE(r.ok()) << "acknowledged key " << key << " missing via " << endpoint << ": "
                          << ballot::kv::to_string(r.code);
    }
  }

  // Linearizability of the shared keys, with a final read of each.
  ballot::client::client c{cluster.client_options()};
  for (int k = 0; k < 4; ++k) {
    kv_op o;
    o.key = "k" + std::to_string(k);
    o.client = 100;
    o.invoke_ns = now_ns();
    auto r = c.get(o.key);
    o.return_ns = now_ns();
    ASSERT_NE(r.code, kv::result_code::unavailable);
    o.outcome = r.ok() ? kv_op::result::ok : kv_op::result::absent;
    o.read_value = r.value;
    o.version = r.version;
    load.history.push_back(o);
  }
  // kv_store versions come from one store-wide revision: they never go back,
  // not even across deletes, which the checker can hold the cluster to.
  check_options strict;
  strict.budget = std::chrono::seconds(60);
  strict.versions_survive_deletes = true;
  auto verdict = check_kv_history(load.history, strict);
  if (!verdict.linearizable) {
    auto path = cluster.dir().parent_path() / ("ballot-" + name + "-history.txt");
    std::ofstream out(path);
    write_history(out, load.history);
    ADD_FAILURE() << "history of " << load.history.size() << " operations is not linearizable"
                  << (verdict.timed_out ? " (checker timed out)" : "") << ": "
                  << verdict.explanation << "\nhistory written to " << path;
  }
  std::printf("[ history ] %zu operations, %zu unique keys, %d writes acknowledged\n",
              load.history.size(), load.acked_unique.size(), load.ok_writes.load());
}

}  // namespace ballot::testing
