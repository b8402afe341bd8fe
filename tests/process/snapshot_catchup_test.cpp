// A snapshot to a wiped follower travels in chunks (issue 9): with a 32 KiB
// chunk (the hidden BALLOT_PEER_SNAPSHOT_CHUNK_BYTES) a state of 8 MiB
// crosses in hundreds of acknowledged frames while the cluster keeps
// answering puts; the follower ends with the leader's state, byte count for
// byte count, and every value reads back intact after the leader is gone.
#include <atomic>
#include <regex>

#include "tests/process/cluster_fixture.hpp"
#include "tests/process/metric_sum.hpp"
#include "tests/process/snapshot_cluster.hpp"
#include "tests/support/random_bytes.hpp"

namespace {

using namespace ballot::testing;

constexpr std::size_t chunk_bytes = 32 << 10;
constexpr int big_values = 64;
constexpr std::size_t big_value_bytes = 128 << 10;

std::string value_of(int i) {
  return ballot::test_support::random_bytes(big_value_bytes,
                                            0x5eedca7cu + static_cast<unsigned>(i));
}

/// The chunk count in the leader's "snapshot transfer ... complete" line.
long chunks_sent(const std::string& log) {
  std::smatch m;
  std::regex done{
    "snapshot transfer [0-9]+ to member [0-9]+ complete: ([0-9]+) bytes in ([0-9]+) "
    "chunks"};
  long most = 0;
  for (std::sregex_iterator it{log.begin(), log.end(), done}, end; it != end; ++it)
    most = std::max(most, std::stol((*it)[2]));
  return most;
}

TEST(ProcessSnapshotTransferTest, AWipedFollowerCatchesUpSeveralMiBInChunksUnderLoad) {
  cluster_processes c;
  c.extra_flags = {"--snapshot-interval", "16"};
  auto metrics = with_metrics_and_chunks(c, 3, chunk_bytes);
  auto victim = fill_then_wipe_a_follower(c, 3, big_values, value_of);
  ASSERT_NE(victim, 0u);
  auto opts = c.client_options();
  opts.timeout = 15s;
  ballot::client::client cl{opts};

  // A writer of small values for the whole catch-up: every put answered.
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::atomic<long> slowest_ms{0};
  std::thread writer{[&] {
    ballot::client::client w{opts};
    for (int i = 0; !stop; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      auto r = w.put("during-" + std::to_string(i), std::to_string(i));
      auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
      slowest_ms = std::max<long>(slowest_ms, ms);
      (r.ok() ? ok : failed)++;
      std::this_thread::sleep_for(10ms);
    }
  }};
  c.start(victim);
  bool received = c.node(victim).wait_for_error("snapshot_transfer_received", 45s);
  bool installed = c.node(victim).wait_for_error("snapshot_installed", 10s);
  std::this_thread::sleep_for(500ms);
  stop = true;
  writer.join();
  ASSERT_TRUE(received) << c.node(victim).err();
  EXPECT_TRUE(installed) << c.node(victim).err();
  EXPECT_GT(ok.load(), 10);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_LT(slowest_ms.load(), 5000);

  // Many chunks, none larger than the bound: the leader's line says how many.
  std::string all;
  for (std::size_t id = 1; id <= 3; ++id)
    if (id != victim)
      all += c.node(id).err();
  auto state = static_cast<double>(big_values * big_value_bytes);
  EXPECT_GE(chunks_sent(all), static_cast<long>(state / chunk_bytes)) << all;

  // The follower holds the state of a member that was never wiped: the same
  // bytes of keys and values (not simply the leader's: once the victim led
  // and read 0 against itself before its gauge was first refreshed).
  auto now_leader = c.leader();
  ASSERT_NE(now_leader, 0u);
  auto reference = never_wiped_member(now_leader, victim, 3);
  auto [want, got] = state_bytes_once_agreed(metrics[reference], metrics[victim], 10s);
  EXPECT_GT(want, state);
  EXPECT_EQ(got, want);

  // Without that member the other two, the victim one of them, serve every
  // value, intact.
  c.kill9(reference);
  for (int i = 0; i < big_values; i += 7) {
    auto r = cl.get("big-" + std::to_string(i));
    ASSERT_TRUE(r.ok()) << i << ": " << r.message;
    EXPECT_TRUE(r.value == value_of(i)) << i;
  }
  auto r = cl.get("during-" + std::to_string(ok.load() - 1));
  EXPECT_TRUE(r.ok()) << r.message;
}

}  // namespace
