// Three ballotd processes under concurrent clients; the leader is killed with
// SIGKILL mid-load and restarted. Every acknowledged write must survive and
// the recorded history must be linearizable.
#include <atomic>
#include <fstream>
#include <mutex>
#include <random>

#include "tests/process/kv_workload.hpp"

namespace {

using namespace ballot::testing;
using ballot::kv::result_code;
using op = kv_operation;

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

  check_workload(cluster, load, "failover");
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

TEST(ProcessFailoverTest, ANodeWithoutQuorumAnswersUnavailableAtItsRequestTimeout) {
  // One node of three: no leader can be elected. The node's own deadline
  // (--request-timeout-ms) ends the call with its reason, well before the
  // client's; with the old fixed 2 s the client would have given up first.
  cluster_processes cluster;
  cluster.extra_flags = {"--request-timeout-ms", "300"};
  cluster.start(1);
  auto o = cluster.client_options();
  o.endpoints = {cluster.client_endpoint(1)};
  o.timeout = 1800ms;
  ballot::client::client c{o};
  auto r = c.put("k", "v");
  EXPECT_EQ(r.code, result_code::unavailable) << r.message;
  EXPECT_NE(r.message.find("gave up after 300 ms"), std::string::npos) << r.message;
}

}  // namespace
