// Repair from peers with real processes, under concurrent clients: a
// follower whose synced vote has a flipped byte, and one whose data directory
// is gone, rejoin without exit 3, say in their log what they repaired, and
// vote again: with the other follower killed afterwards the cluster still
// commits. Every acknowledged write reads back; the history is linearizable.
#include <fstream>

#include "runtime/wal/codec.hpp"
#include "runtime/wal/segment.hpp"
#include "tests/process/kv_workload.hpp"

namespace {

using namespace ballot::testing;
namespace fs = std::filesystem;
namespace wal = ballot::wal;

/// Flips a byte in the payload of the last vote record of `dir`'s newest
/// segment; returns that segment's name ("" if it holds no vote).
std::string flip_last_vote(const fs::path& dir) {
  std::vector<fs::path> segs;
  for (auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".log")
      segs.push_back(e.path());
  std::sort(segs.begin(), segs.end());
  for (auto it = segs.rbegin(); it != segs.rend(); ++it) {
    std::ifstream in(*it, std::ios::binary);
    std::string bytes{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
    std::optional<std::uint64_t> vote_at;
    wal::scan_frames(bytes, [&](std::uint64_t off, std::string_view payload) {
      if (std::holds_alternative<wal::vote_record>(wal::decode(payload)))
        vote_at = off;
    });
    if (!vote_at)
      continue;
    auto at = *vote_at + wal::frame_header_size + 4;
    bytes.at(at) = static_cast<char>(bytes.at(at) ^ 0x5a);
    std::ofstream out(*it, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return it->filename().string();
  }
  return "";
}

/// Node `id` logs that it repaired, within `wait`.
void expect_repaired(cluster_processes& c, std::size_t id, std::chrono::seconds wait = 20s) {
  bool repaired = c.node(id).wait_for_error("repaired", wait);
  EXPECT_TRUE(repaired) << "node " << id << " did not repair:\n" << c.node(id).err();
  if (!repaired)
    for (std::size_t other = 1; other <= 3; ++other)
      if (other != id)
        std::printf("--- node %zu:\n%s\n", other, c.node(other).err().c_str());
}

std::size_t other_follower(std::size_t leader, std::size_t victim) {
  for (std::size_t id = 1; id <= 3; ++id)
    if (id != leader && id != victim)
      return id;
  return 0;
}

/// Kills follower `victim`, damages its data directory with `damage`,
/// restarts it and waits for its repair, all under concurrent clients; then
/// kills the other follower, so that the cluster can only commit with the
/// repaired node's votes. Every acknowledged write must read back and the
/// history must be linearizable.
template <class Damage>
void repair_under_load(cluster_processes& c, Damage&& damage, const std::string& expect_log) {
  auto leader = c.leader();
  ASSERT_NE(leader, 0u);
  std::size_t victim = leader % 3 + 1;
  workload load{c, 4};
  std::this_thread::sleep_for(1s);
  c.kill9(victim);
  damage(victim);
  std::this_thread::sleep_for(500ms);  // the cluster goes on without it
  c.start(victim);
  EXPECT_TRUE(c.node(victim).wait_for_error(expect_log, 10s)) << c.node(victim).err();
  expect_repaired(c, victim);
  auto other = other_follower(c.leader(), victim);
  c.kill9(other);
  int before = load.ok_writes;
  std::this_thread::sleep_for(1500ms);
  EXPECT_GT(load.ok_writes.load(), before)
    << "no commit with the repaired node's votes; leader's stderr:\n"
    << c.node(c.leader() ? c.leader() : leader).err();
  c.start(other);
  std::this_thread::sleep_for(500ms);
  load.stop();
  check_workload(c, load, "repair");
}

TEST(ProcessRepairTest, FlippedByteInAFollowersSyncedVoteIsRepairedFromPeers) {
  cluster_processes c;
  c.start_all();
  std::string seg;
  repair_under_load(
    c,
    [&](std::size_t victim) {
      seg = flip_last_vote(c.data_dir(victim));
      ASSERT_FALSE(seg.empty()) << "no vote record in node " << victim << "'s log";
    },
    "damaged synced data");
  // The log line names the damaged segment.
  for (std::size_t id = 1; id <= 3; ++id) {
    const auto& err = c.node(id).err();
    if (err.find("damaged synced data") != std::string::npos) {
      EXPECT_NE(err.find(seg), std::string::npos) << err;
    }
  }
}

TEST(ProcessRepairTest, AWipedFollowerDataDirectoryRejoinsAndVotesAgain) {
  cluster_processes c;
  c.start_all();
  repair_under_load(
    c, [&](std::size_t victim) { fs::remove_all(c.data_dir(victim)); }, "asking the peers");
}

}  // namespace
