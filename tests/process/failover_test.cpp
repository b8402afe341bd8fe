// Three ballotd processes under concurrent clients; the leader is killed with
// SIGKILL mid-load and restarted. Every acknowledged write must survive and
// the recorded history must be linearizable.
#include <atomic>
#include <fstream>
#include <mutex>
#include <random>

#include "tests/process/cluster_fixture.hpp"
#include "tests/support/linearizability.hpp"

namespace {

using namespace ballot::testing;
using ballot::kv::result_code;
using op = kv_operation;

std::int64_t now_ns() {
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

  std::vector<op> history;
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
      op o;
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
        o.op = op::kind::put;
        o.value = std::to_string(id) + "." + std::to_string(n);
        auto r = c.put(o.key, o.value);
        o.return_ns = now_ns();
        if (r.ok()) {
          o.outcome = op::result::ok;
          o.version = r.version;
          ok_writes++;
        } else if (r.code == result_code::unavailable) {
          o.outcome = op::result::unknown;  // may or may not have applied
        } else {
          o.outcome = op::result::refused;
        }
      } else {
        o.op = op::kind::get;
        auto r = c.get(o.key);
        o.return_ns = now_ns();
        if (r.code == result_code::unavailable)
          continue;  // a read that failed had no effect
        o.outcome = r.ok() ? op::result::ok : op::result::absent;
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

TEST(ProcessFailoverTest, KillingTheLeaderLosesNoAcknowledgedWriteAndStaysLinearizable) {
  cluster_processes cluster;
  cluster.start_all();
  auto leader = cluster.leader();
  ASSERT_NE(leader, 0u) << "no leader elected";

  workload load{cluster, 6};
  std::this_thread::sleep_for(1500ms);
  int before_kill = load.ok_writes;
  cluster.kill9(leader);
  std::this_thread::sleep_for(2000ms);
  int while_down = load.ok_writes;
  cluster.start(leader);
  std::this_thread::sleep_for(1500ms);
  load.stop();

  EXPECT_GT(before_kill, 0) << "nothing committed before the kill";
  EXPECT_GT(while_down, before_kill) << "the two survivors made no progress";

  // Durability: every acknowledged unique key is there, read through every node.
  for (auto& endpoint : cluster.endpoints()) {
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
    op o;
    o.key = "k" + std::to_string(k);
    o.client = 100;
    o.invoke_ns = now_ns();
    auto r = c.get(o.key);
    o.return_ns = now_ns();
    ASSERT_NE(r.code, result_code::unavailable);
    o.outcome = r.ok() ? op::result::ok : op::result::absent;
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
    auto path = cluster.dir().parent_path() / "ballot-failover-history.txt";
    std::ofstream out(path);
    write_history(out, load.history);
    ADD_FAILURE() << "history of " << load.history.size() << " operations is not linearizable"
                  << (verdict.timed_out ? " (checker timed out)" : "") << ": "
                  << verdict.explanation << "\nhistory written to " << path;
  }
  std::printf("[ history ] %zu operations, %zu unique keys, %d writes acknowledged\n",
              load.history.size(), load.acked_unique.size(), load.ok_writes.load());
}

TEST(ProcessFailoverTest, KillingEveryNodeMidWriteKeepsEveryAcknowledgedWrite) {
  cluster_processes cluster;
  cluster.start_all();
  ASSERT_NE(cluster.leader(), 0u);
  std::vector<std::string> acked;
  {
    workload load{cluster, 6};
    std::this_thread::sleep_for(1500ms);
    for (std::size_t id = 1; id <= 3; ++id)
      cluster.kill9(id);
    load.stop();
    acked = load.acked_unique;
  }
  ASSERT_FALSE(acked.empty());
  for (std::size_t id = 1; id <= 3; ++id)
    cluster.start(id);
  ballot::client::client c{cluster.client_options()};
  for (auto& key : acked) {
    auto r = c.get(key);
    ASSERT_TRUE(r.ok()) << "acknowledged key " << key
                        << " lost after kill -9 of every node: " << ballot::kv::to_string(r.code);
  }
}

TEST(ProcessFailoverTest, FrozenLeaderIsReplacedAndStepsDownWhenThawed) {
  // SIGSTOP keeps the leader's connections open: only the protocol's own
  // heartbeats can tell that it is gone.
  cluster_processes cluster;
  cluster.start_all();
  auto leader = cluster.leader();
  ASSERT_NE(leader, 0u);
  ballot::client::client c{cluster.client_options()};
  ASSERT_TRUE(c.put("before", "1").ok());
  cluster.node(leader).kill(SIGSTOP);
  std::vector<std::string> live;
  for (std::size_t id = 1; id <= 3; ++id)
    if (id != leader)
      live.push_back(cluster.client_endpoint(id));
  auto o = cluster.client_options();
  o.endpoints = live;
  o.timeout = 10s;
  ballot::client::client survivors{o};
  auto during = survivors.put("during", "2");
  EXPECT_TRUE(during.ok()) << ballot::kv::to_string(during.code) << ": " << during.message;
  auto st = survivors.status();
  ASSERT_TRUE(st.ok());
  EXPECT_NE(st.leader_id, leader);
  cluster.node(leader).kill(SIGCONT);
  std::this_thread::sleep_for(1s);
  // The thawed node learned of the new leader and serves the new write.
  auto o1 = cluster.client_options();
  o1.endpoints = {cluster.client_endpoint(leader)};
  ballot::client::client thawed{o1};
  auto r = thawed.get("during");
  EXPECT_TRUE(r.ok()) << ballot::kv::to_string(r.code);
  EXPECT_EQ(r.value, "2");
}

}  // namespace
