// A Jepsen-style run across real network stacks: three ballotd nodes, each in its own network
// namespace behind a ballot-netproxy that delays, stalls and resets its peer links; clients in
// the client namespace (talking to every node) and one client next to each node (talking to
// that node only), so that a partition always has clients on both sides. A seeded nemesis
// mixes faults for BALLOT_NETNS_SECONDS (30 s by default): the leader cut off into the
// minority, kill -9 and restart with the same data directory, both at once, and the proxy in
// front of the leader's peer port frozen. The history of puts and gets on a few keys must be
// linearizable, and the majority must make progress while the old leader is cut off.
#include <atomic>
#include <fstream>
#include <mutex>
#include <random>

#include "tests/netns/netns_cluster.hpp"
#include "tests/support/linearizability.hpp"
#include "tests/support/test_certs.hpp"

namespace {

using namespace ballot::testing;
using namespace ballot::testing::netns;
using ballot::kv::result_code;
using op = kv_operation;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

constexpr int key_count = 8;

/// Client threads that record every put and get they make. Each thread enters its namespace
/// before it makes its client, so the client's sockets and I/O thread live there too.
class workload {
 public:
  struct worker {
    std::string ns;
    std::vector<std::string> endpoints;
    bool majority_side;  // in the client namespace, talking to every node
  };

  explicit workload(std::vector<worker> workers, std::uint64_t seed)
      : workers_(std::move(workers)) {
    for (std::size_t i = 0; i < workers_.size(); ++i)
      threads_.emplace_back([this, i, seed] { run(i, seed); });
  }

  ~workload() { stop(); }

  void stop() {
    stop_ = true;
    for (auto& t : threads_)
      t.join();
    threads_.clear();
  }

  /// Operations by worker index `who`; the history and which worker made each operation.
  std::vector<op> history;
  std::vector<std::size_t> made_by;

 private:
  void run(std::size_t index, std::uint64_t seed) {
    auto& w = workers_[index];
    scoped_netns in{w.ns};
    ballot::client::options opts;
    opts.endpoints = w.endpoints;
    opts.timeout = std::chrono::milliseconds(1500);
    opts.attempt_timeout = std::chrono::milliseconds(600);
    ballot::client::client c{opts};
    std::mt19937_64 rng(seed * 1000 + index);
    for (int n = 1; !stop_; ++n) {
      op o;
      o.client = index + 1;
      o.key = "k" + std::to_string(rng() % key_count);
      o.invoke_ns = now_ns();
      bool failed = false;
      if (rng() % 2 == 0) {
        o.op = op::kind::put;
        o.value = std::to_string(index) + "." + std::to_string(n);
        auto r = c.put(o.key, o.value);
        o.return_ns = now_ns();
        if (r.ok()) {
          o.outcome = op::result::ok;
          o.version = r.version;
        } else {
          // Timed out or cut off: it may have applied, or may still apply later.
          o.outcome = op::result::unknown;
          failed = true;
        }
      } else {
        o.op = op::kind::get;
        auto r = c.get(o.key);
        o.return_ns = now_ns();
        failed = !r.ok() && r.code != result_code::not_found;
        o.outcome = r.ok() ? op::result::ok : op::result::absent;
        o.read_value = r.value;
        o.version = r.version;
      }
      if (!(failed && o.op == op::kind::get)) {  // a read that failed had no effect
        std::lock_guard<std::mutex> g{mutex_};
        history.push_back(o);
        made_by.push_back(index);
      }
      // Unknown writes are what make a history costly to check: a failing client slows down.
      if (failed)
        std::this_thread::sleep_for(std::chrono::milliseconds(150));
    }
  }

  std::vector<worker> workers_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  std::mutex mutex_;
};

/// An interval during which the node that was leader was cut off into the minority.
struct minority_window {
  std::int64_t from_ns, to_ns;
};

/// The whole run; with `peer_tls`, the members talk mutual TLS (certificates
/// from a CA made for the run) through the same proxies and faults.
void run_jepsen(bool peer_tls) {
  const int seconds = fault_seconds();
  const auto seed = fault_seed();
  std::printf(
    "[ nemesis ] %d s of faults, seed %llu (BALLOT_NETNS_SEED=%llu repeats the "
    "schedule)\n",
    seconds, static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  link_faults faults;
  faults.faults_for_s = seconds;
  faults.seed = seed;
  std::unique_ptr<test_certs> pki;
  if (peer_tls)
    pki = std::make_unique<test_certs>();
  netns_cluster nc{3, faults};
  auto& cluster = nc.cluster;
  if (pki)
    cluster.use_peer_tls(*pki);
  // The test's own calls (leader lookups, final reads) come from the client namespace.
  scoped_netns in_clients{nc.net.client_ns()};
  cluster.start_all();
  ASSERT_NE(cluster.leader(), 0u) << "no leader elected";

  std::vector<workload::worker> workers;
  for (int i = 0; i < 3; ++i)
    workers.push_back({nc.net.client_ns(), cluster.endpoints(), true});
  for (std::size_t id = 1; id <= 3; ++id)
    workers.push_back({nc.net.node_ns(id), {cluster.client_endpoint(id)}, false});
  workload load{workers, seed};

  std::mt19937_64 rng{seed};
  auto pick = [&](int lo, int hi) {
    return std::chrono::milliseconds(lo + static_cast<int>(rng() % (hi - lo + 1)));
  };
  auto current_leader = [&]() -> std::size_t {
    auto l = cluster.leader(std::chrono::seconds(3));
    return l != 0 ? l : 1 + rng() % 3;
  };
  std::vector<minority_window> windows;
  std::map<std::string, int> actions;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  for (int round = 0; std::chrono::steady_clock::now() < end; ++round) {
    auto leader = current_leader();
    auto other = 1 + (leader + rng() % 2) % 3;  // one of the two others
    // The first round always puts the leader in the minority.
    switch (round == 0 ? 0 : rng() % 5) {
      case 0: {  // the leader cut off, clients on both sides
        ++actions["leader isolated"];
        nc.net.isolate(leader);
        auto from = now_ns();
        std::this_thread::sleep_for(pick(3000, 5000));
        windows.push_back({from, now_ns()});
        nc.net.heal(leader);
        break;
      }
      case 1:  // kill -9 the leader, restart it on its data directory
        ++actions["leader killed"];
        cluster.kill9(leader);
        std::this_thread::sleep_for(pick(1000, 3000));
        cluster.start(leader);
        break;
      case 2:  // the leader cut off and a follower killed: no majority anywhere
        ++actions["leader isolated + follower killed"];
        nc.net.isolate(leader);
        cluster.kill9(other);
        std::this_thread::sleep_for(pick(1500, 3000));
        cluster.start(other);
        std::this_thread::sleep_for(pick(500, 1500));
        nc.net.heal(leader);
        break;
      case 3:  // the proxy in front of the leader's peer port frozen (SIGSTOP)
        ++actions["leader's peer proxy frozen"];
        nc.proxy(leader).kill(SIGSTOP);
        std::this_thread::sleep_for(pick(2000, 3500));
        nc.proxy(leader).kill(SIGCONT);
        break;
      case 4:  // the cut-off leader killed and restarted while still cut off
        ++actions["isolated leader killed and restarted alone"];
        nc.net.isolate(leader);
        std::this_thread::sleep_for(pick(1000, 2000));
        cluster.kill9(leader);
        cluster.start(leader);
        std::this_thread::sleep_for(pick(1000, 2000));
        nc.net.heal(leader);
        break;
    }
    nc.drain();
    if (::testing::Test::HasFatalFailure())
      return;
    std::this_thread::sleep_for(pick(1000, 2000));  // healthy for a moment
  }
  // Heal everything, let the cluster settle and the clients run on a little.
  nc.net.heal_all();
  for (std::size_t id = 1; id <= 3; ++id)
    nc.proxy(id).kill(SIGCONT);
  ASSERT_NE(cluster.leader(std::chrono::seconds(15)), 0u) << "no leader after the faults";
  std::this_thread::sleep_for(std::chrono::seconds(2));
  load.stop();

  ballot::client::client c{cluster.client_options()};
  for (int k = 0; k < key_count; ++k) {
    op o;
    o.key = "k" + std::to_string(k);
    o.client = 100;
    o.invoke_ns = now_ns();
    auto r = c.get(o.key);
    o.return_ns = now_ns();
    ASSERT_TRUE(r.ok() || r.code == result_code::not_found)
      << "final read of " << o.key << ": " << ballot::kv::to_string(r.code);
    o.outcome = r.ok() ? op::result::ok : op::result::absent;
    o.read_value = r.value;
    o.version = r.version;
    load.history.push_back(o);
    load.made_by.push_back(100);
  }

  // Progress: while the old leader was cut off, the majority side committed writes.
  int ok = 0, unknown = 0, reads = 0, majority_writes_in_windows = 0, minority_ops = 0;
  for (std::size_t i = 0; i < load.history.size(); ++i) {
    auto& o = load.history[i];
    reads += o.op == op::kind::get;
    ok += o.op == op::kind::put && o.outcome == op::result::ok;
    unknown += o.outcome == op::result::unknown;
    minority_ops += load.made_by[i] >= 3 && load.made_by[i] < 100;
    for (auto& w : windows)
      if (load.made_by[i] < 3 && o.op == op::kind::put && o.outcome == op::result::ok &&
          o.invoke_ns >= w.from_ns && o.return_ns <= w.to_ns)
        ++majority_writes_in_windows;
  }
  EXPECT_GT(ok, 50) << "too few acknowledged writes to mean anything";
  // The peer traffic really crossed the proxies (the nodes know each other only by them).
  for (std::size_t id = 1; id <= 3; ++id)
    EXPECT_NE(nc.proxy(id).out().find("accepted conn="), std::string::npos)
      << "no peer ever connected through node " << id << "'s proxy";
  EXPECT_GT(majority_writes_in_windows, 0)
    << "the majority committed nothing while the old leader was cut off";

  check_options strict;
  strict.budget = std::chrono::seconds(60);
  strict.versions_survive_deletes = true;
  auto verdict = check_kv_history(load.history, strict);
  std::string actions_text;
  for (auto& [what, n] : actions)
    actions_text += " " + what + " x" + std::to_string(n) + ";";
  if (!verdict.linearizable) {
    auto path = std::filesystem::temp_directory_path() /
                ("ballot-netns-history-" + std::to_string(seed) + ".txt");
    std::ofstream out(path);
    write_history(out, load.history);
    ADD_FAILURE() << "history of " << load.history.size() << " operations is not linearizable"
                  << (verdict.timed_out ? " (checker timed out)" : "") << ": "
                  << verdict.explanation << "\nhistory written to " << path << "\nnemesis (seed "
                  << seed << "):" << actions_text;
  }
  std::printf(
    "[ history ] %zu operations (%d reads, %d acknowledged writes, %d unknown "
    "writes; %d by clients next to a node), %d majority writes while the leader "
    "was cut off\n[ nemesis ]%s\n",
    load.history.size(), reads, ok, unknown, minority_ops, majority_writes_in_windows,
    actions_text.c_str());
}

TEST(NetnsJepsenTest, PartitionsKillsAndSlowLinksKeepTheHistoryLinearizable) {
  BALLOT_SKIP_WITHOUT_NETNS();
  run_jepsen(false);
}

// The same run with mutual TLS between the members (issue 11).
TEST(NetnsJepsenTest, WithPeerTlsPartitionsKillsAndSlowLinksKeepTheHistoryLinearizable) {
  BALLOT_SKIP_WITHOUT_NETNS();
  if (!test_certs::openssl_available())
    GTEST_SKIP() << "no openssl command to make the certificates";
  run_jepsen(true);
}

}  // namespace
