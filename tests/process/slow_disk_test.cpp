// Disks slower than an election timeout, on real ballotd processes: every
// node's fsync and fdatasync sleep 300 ms first (an LD_PRELOAD shim), while
// the default 10 ms ticks time an election out after 100-200 ms.
//
// A candidate's prepare leaves once its own promise is on disk, and a voter
// answers once its promise is on disk: an election needs two syncs in a row,
// 600 ms here. Before candidates backed off, each gave up before its quorum
// answered and tried again with a higher ballot, for ever: with the backoff
// switched off (config::election_backoff 0) this test finds no leader in
// 30 s, and a CI run once had none for 20 s with one slow voter.
// The simulator checks the rules over seeds (slow disks in a quarter of its
// runs, and the mutants no_election_backoff, late_heartbeats, late_acks);
// this test checks that the product, with real timers, threads and disks,
// elects a leader, commits, and elects another when it is frozen.

#include "tests/process/cluster_fixture.hpp"

namespace {

using namespace ballot::testing;

/// Every node's election lines, for the failure messages and the trace.
std::string all_elections(cluster_processes& c) {
  std::string out;
  for (std::size_t id = 1; id <= 3; ++id)
    out += c.election_lines(id);
  return out;
}

TEST(SlowDiskProcessTest, ElectionsEndWhenEveryDiskSyncsSlowerThanAnElectionTimeout) {
  cluster_processes c;
  // Quiet about the slow syncs it was told about.
  c.extra_flags = {"--slow-fsync-ms", "2000"};
  for (std::size_t id = 1; id <= 3; ++id)
    c.launch_prefix[id] = {"/usr/bin/env", std::string{"LD_PRELOAD="} + SLOW_FSYNC_PRELOAD,
                           "BALLOT_TEST_FSYNC_DELAY_MS=300"};
  c.start_all();
  auto first = c.leader_other_than(0, 30s);
  ASSERT_NE(first, 0u) << "no leader in 30 s\n" << all_elections(c);

  auto opts = c.client_options();
  opts.timeout = 20s;
  ballot::client::client cl{opts};
  for (int i = 0; i < 5; ++i) {
    auto r = cl.put("slow-" + std::to_string(i), "v");
    ASSERT_TRUE(r.ok()) << i << ": " << ballot::kv::to_string(r.code) << " " << r.message << "\n"
                        << all_elections(c);
  }

  // Freeze the leader: the two others, both slow, elect one of themselves.
  c.node(first).kill(SIGSTOP);
  auto second = c.leader_other_than(first, 30s);
  c.node(first).kill(SIGCONT);
  ASSERT_NE(second, 0u) << "no new leader in 30 s while " << first << " was frozen\n"
                        << all_elections(c);
  auto r = cl.put("after", "v");
  ASSERT_TRUE(r.ok()) << ballot::kv::to_string(r.code) << " " << r.message << "\n"
                      << all_elections(c);
  auto got = cl.get("slow-4");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got.value, "v");
  std::printf("elections with 300 ms syncs:\n%s", all_elections(c).c_str());
}

}  // namespace
