// Cluster identity with real ballotd processes (issue 12, part 7): a node
// configured as a member of cluster B but carrying cluster A's id is refused
// by B's members (drop reason foreign_cluster, visible in /metrics) and never
// joins B's quorum, while A and B both go on serving; a data directory
// started with flags that make another cluster id is refused (exit 2).
#include <thread>

#include "tests/backup/process_util.hpp"

namespace {

using namespace ballot::testing;
using namespace std::chrono_literals;

TEST(ClusterIdentityProcessTest, ANodeOfAnotherClusterIsRefusedWhileBothClustersWork) {
  cluster_processes a, b;
  a.extra_flags = {"--cluster-token", "cluster-A"};
  auto metrics_port = free_port();
  b.node_flags[1] = {"--cluster-token", "cluster-B", "--metrics",
                     "127.0.0.1:" + std::to_string(metrics_port)};
  b.node_flags[2] = {"--cluster-token", "cluster-B"};
  a.start_all();
  auto id_a = stored_cluster_id(a, 1);
  ASSERT_EQ(id_a.size(), 64u);
  EXPECT_EQ(stored_cluster_id(a, 2), id_a);
  // A new cluster starts only with all its members (each asks the others
  // whether it is new), so B starts whole; then its member 3 is replaced by
  // a node of cluster A: B's address for member 3, an empty directory, A's id.
  b.node_flags[3] = {"--cluster-token", "cluster-B"};
  b.start_all();
  auto id_b = stored_cluster_id(b, 1);
  EXPECT_NE(id_b, id_a);
  write_keys(b, 3, "b");  // B is under way: no member is blank any more
  b.kill9(3);
  std::filesystem::remove_all(b.data_dir(3));
  b.node_flags[3] = {"--cluster-id", id_a};
  b.start(3);
  EXPECT_EQ(stored_cluster_id(b, 3), id_a);

  // Both clusters serve: A with all three, B with the quorum of its two.
  write_keys(a, 5, "a");
  {
    auto o = b.client_options();
    o.endpoints = {b.client_endpoint(1), b.client_endpoint(2)};
    o.timeout = 10s;
    ballot::client::client cl{o};
    auto deadline = std::chrono::steady_clock::now() + 20s;
    bool ok = false;
    while (!ok && std::chrono::steady_clock::now() < deadline)
      ok = cl.put("in-b", "yes").ok();
    ASSERT_TRUE(ok) << "cluster B took no write with two of its members:\n"
                    << b.node(1).err() << "\n---\n"
                    << b.node(2).err();
  }
  // The foreign node never joins: it learns nothing of B.
  ballot::client::client foreign{only(b, 3)};
  auto got = foreign.get("in-b");
  EXPECT_FALSE(got.ok()) << "B's key was read through the foreign node";
  // B's member 1 counts it, in /metrics and in its log, naming both ids.
  long long n = -1;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while ((n = dropped(metrics_port, "foreign_cluster")) <= 0 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  EXPECT_GT(n, 0) << "no foreign_cluster drops in /metrics";
  auto log = b.node(1).err();
  EXPECT_NE(log.find("foreign_cluster"), std::string::npos) << log;
  EXPECT_NE(log.find(id_a), std::string::npos) << log;
  // A goes on serving through every node.
  check_keys(a, 5, "a");
}

TEST(ClusterIdentityProcessTest, FlagsThatMakeAnotherIdAreRefusedAtStartNamingBothIds) {
  cluster_processes c;
  c.extra_flags = {"--cluster-token", "first"};
  c.start(1);
  auto stored = stored_cluster_id(c, 1);
  c.kill9(1);
  auto args = [&](std::vector<std::string> more) {
    std::vector<std::string> argv{BALLOTD_BIN,
                                  "--id",
                                  "1",
                                  "--peers",
                                  c.peers(1),
                                  "--client",
                                  c.client_endpoint(1),
                                  "--data-dir",
                                  c.data_dir(1).string()};
    argv.insert(argv.end(), more.begin(), more.end());
    return argv;
  };
  auto r = run_program(args({"--cluster-token", "second"}), 20s);
  EXPECT_EQ(r.code, std::optional<int>{2}) << r.err;
  EXPECT_NE(r.err.find(stored), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--cluster-id " + stored), std::string::npos) << r.err;
  r = run_program(args({"--cluster-id", std::string(64, 'e')}), 20s);
  EXPECT_EQ(r.code, std::optional<int>{2}) << r.err;
  EXPECT_NE(r.err.find(std::string(64, 'e')), std::string::npos) << r.err;
  // The right token, or the stored id itself, starts it.
  c.extra_flags = {"--cluster-id", stored};
  c.start(1);
  EXPECT_EQ(stored_cluster_id(c, 1), stored);
}

}  // namespace
