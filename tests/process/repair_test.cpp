// Repair from peers with real processes: a follower whose synced vote has a
// flipped byte, and one whose data directory is gone, rejoin without exit 3,
// say in their log what they repaired, and vote again: with the other
// follower killed afterwards, the cluster still commits and every
// acknowledged write is there.
#include <fstream>

#include "runtime/wal/codec.hpp"
#include "runtime/wal/segment.hpp"
#include "tests/process/cluster_fixture.hpp"

namespace {

using namespace ballot::testing;
namespace fs = std::filesystem;
namespace wal = ballot::wal;

/// Writes `n` keys with the given prefix; every one must be acknowledged.
void write_keys(cluster_processes& c, const std::string& prefix, int n) {
  ballot::client::client cl{c.client_options()};
  for (int i = 0; i < n; ++i) {
    auto r = cl.put(prefix + std::to_string(i), "v" + std::to_string(i));
    ASSERT_TRUE(r.ok()) << prefix << i << ": " << r.message;
  }
}

void expect_keys(cluster_processes& c, const std::string& prefix, int n) {
  ballot::client::client cl{c.client_options()};
  for (int i = 0; i < n; ++i) {
    auto r = cl.get(prefix + std::to_string(i));
    ASSERT_TRUE(r.ok()) << prefix << i << ": " << r.message;
    EXPECT_EQ(r.value, "v" + std::to_string(i)) << prefix << i;
  }
}

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
  EXPECT_TRUE(c.node(id).wait_for_error("repaired", wait)) << "node " << id << " did not repair:\n"
                                                           << c.node(id).err();
}

std::size_t other_follower(std::size_t leader, std::size_t victim) {
  for (std::size_t id = 1; id <= 3; ++id)
    if (id != leader && id != victim)
      return id;
  return 0;
}

TEST(ProcessRepairTest, FlippedByteInAFollowersSyncedVoteIsRepairedFromPeers) {
  cluster_processes c;
  c.start_all();
  auto leader = c.leader();
  ASSERT_NE(leader, 0u);
  std::size_t victim = leader % 3 + 1;
  write_keys(c, "a", 20);
  c.kill9(victim);
  auto seg = flip_last_vote(c.data_dir(victim));
  ASSERT_FALSE(seg.empty()) << "no vote record in node " << victim << "'s log";
  write_keys(c, "b", 10);  // the cluster goes on without it
  c.start(victim);
  const auto& err = c.node(victim).err();
  EXPECT_NE(err.find("damaged synced data"), std::string::npos) << err;
  EXPECT_NE(err.find(seg), std::string::npos) << err;
  expect_repaired(c, victim);
  // Its vote counts again: the cluster commits with the other follower gone.
  auto other = other_follower(c.leader(), victim);
  c.kill9(other);
  write_keys(c, "c", 10);
  expect_keys(c, "a", 20);
  expect_keys(c, "b", 10);
  expect_keys(c, "c", 10);
}

TEST(ProcessRepairTest, AWipedFollowerDataDirectoryRejoinsAndVotesAgain) {
  cluster_processes c;
  c.start_all();
  auto leader = c.leader();
  ASSERT_NE(leader, 0u);
  std::size_t victim = leader % 3 + 1;
  write_keys(c, "a", 20);
  c.kill9(victim);
  fs::remove_all(c.data_dir(victim));
  write_keys(c, "b", 10);
  c.start(victim);
  EXPECT_TRUE(c.node(victim).wait_for_error("asking the peers", 10s)) << c.node(victim).err();
  expect_repaired(c, victim);
  auto other = other_follower(c.leader(), victim);
  c.kill9(other);
  write_keys(c, "c", 10);
  expect_keys(c, "a", 20);
  expect_keys(c, "b", 10);
  expect_keys(c, "c", 10);
}

}  // namespace
