// A wiped member takes one snapshot transfer at a time (issue 9): every
// other member may decide to send it the state, but its links share one
// slot. Five real ballotd processes with 1 KiB chunks (the hidden
// BALLOT_PEER_SNAPSHOT_CHUNK_BYTES), so 8 MiB of values (a snapshot of about
// 16 MiB, with their history) crosses in thousands of frames: the first sender is frozen
// mid-transfer, holding the slot, and another live member's transfer is refused busy meanwhile;
// then the first sender dies, and the member catches up from a live one, byte for byte.
#include <signal.h>

#include <regex>

#include "tests/process/cluster_fixture.hpp"
#include "tests/process/metric_sum.hpp"
#include "tests/process/snapshot_cluster.hpp"
#include "tests/support/random_bytes.hpp"

namespace {

using namespace ballot::testing;

constexpr std::size_t members = 5;
constexpr int big_values = 64;
constexpr std::size_t big_value_bytes = 128 << 10;

std::string value_of(int i) {
  return ballot::test_support::random_bytes(big_value_bytes,
                                            0x5eed5107u + static_cast<unsigned>(i));
}

/// The member named by the first line of `log` matching `pattern` (its one
/// group), or 0.
std::size_t member_in(const std::string& log, const std::string& pattern) {
  std::smatch m;
  if (!std::regex_search(log, m, std::regex{pattern}))
    return 0;
  return std::stoul(m[1]);
}

TEST(ProcessSnapshotContentionTest, AWipedMemberTakesOneTransferAndCatchesUpWhenItsSenderDies) {
  cluster_processes c{members};
  c.extra_flags = {"--snapshot-interval", "16"};
  auto metrics = with_metrics_and_chunks(c, members, 1024);
  auto victim = fill_then_wipe_a_follower(c, members, big_values, value_of);
  ASSERT_NE(victim, 0u);
  c.start(victim);

  // The first transfer the wiped member takes: freeze its sender mid-way.
  auto& v = c.node(victim);
  ASSERT_TRUE(v.wait_for_error("receiving snapshot transfer", 30s)) << v.err();
  auto first = member_in(v.err(), "receiving snapshot transfer [0-9]+ from member ([0-9]+)");
  ASSERT_NE(first, 0u);
  ASSERT_NE(first, victim);
  c.node(first).kill(SIGSTOP);
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(v.err().find("received whole"), std::string::npos)
    << "the transfer ended before its sender could be frozen; make the state larger";

  // Another live member sends meanwhile (the member asks the leader, a new
  // one if the frozen sender led): refused busy, nothing buffered for it.
  EXPECT_TRUE(v.wait_for_error("refused (busy)", 20s)) << v.err();
  auto refused = member_in(v.err(), "snapshot chunk from member ([0-9]+) refused \\(busy\\)");
  EXPECT_NE(refused, first);

  // The first sender dies mid-transfer: its connection resets, the partial
  // transfer is dropped and the slot is free; the busy member's replica
  // sends the snapshot again, and this time it gets through.
  c.kill9(first);
  EXPECT_TRUE(v.wait_for_error("from member " + std::to_string(first) + " dropped", 10s))
    << v.err();
  ASSERT_TRUE(v.wait_for_error("received whole", 60s)) << v.err();
  EXPECT_TRUE(v.wait_for_error("snapshot_installed", 10s)) << v.err();
  auto from = member_in(v.err(), "from member ([0-9]+) received whole");
  EXPECT_NE(from, first);
  EXPECT_NE(from, 0u);

  // The member holds the state of the live member that was never wiped (the
  // leader, unless the caught-up victim leads by now): the same bytes of keys
  // and values.
  auto now_leader = c.leader();
  ASSERT_NE(now_leader, 0u);
  ASSERT_NE(now_leader, first);
  auto reference = never_wiped_member(now_leader, victim, members, first);
  auto [want, got] = state_bytes_once_agreed(metrics[reference], metrics[victim], 15s);
  EXPECT_GT(want, static_cast<double>(big_values * big_value_bytes));
  EXPECT_EQ(got, want);
}

}  // namespace
