// A state that spans many chunks of a snapshot file (issue 9, "large state"),
// with real ballotd processes: `--snapshot-chunk-bytes 4096` makes a few MiB
// of keys and values take about a thousand chunks. Every node checkpoints,
// every node is killed and restarted from its snapshot file, and every value
// reads back. The several-GiB run of the same path is bench/large-state.sh.
#include <fstream>
#include <random>

#include "tests/process/cluster_fixture.hpp"

namespace {

using namespace ballot::testing;
namespace fs = std::filesystem;

constexpr std::size_t value_size = 64 << 10;
constexpr int key_count = 64;  // 4 MiB of values
constexpr std::uintmax_t chunk_bytes = 4096;

std::string value_of(int i) {
  std::mt19937 gen{static_cast<unsigned>(i)};
  std::string out(value_size, '\0');
  for (auto& c : out)
    c = static_cast<char>('a' + gen() % 26);
  return out;
}

/// The snapshot file in `dir`, if any, with its size.
std::optional<std::pair<fs::path, std::uintmax_t>> snapshot_in(const fs::path& dir) {
  std::error_code ec;
  for (auto& e : fs::directory_iterator(dir, ec)) {
    auto name = e.path().filename().string();
    if (name.rfind("snapshot-", 0) == 0 && e.path().extension() == ".snap")
      return std::make_pair(e.path(), fs::file_size(e.path(), ec));
  }
  return std::nullopt;
}

std::string first_bytes(const fs::path& path, std::size_t n) {
  std::ifstream in{path, std::ios::binary};
  std::string out(n, '\0');
  in.read(out.data(), static_cast<std::streamsize>(n));
  return out.substr(0, static_cast<std::size_t>(in.gcount()));
}

TEST(LargeStateProcessTest, ACheckpointOfManyChunksSurvivesARestartOfEveryNode) {
  cluster_processes c;
  c.extra_flags = {"--snapshot-chunk-bytes", std::to_string(chunk_bytes), "--snapshot-interval",
                   "10"};
  c.start_all();
  ASSERT_NE(c.leader(), 0u);
  {
    ballot::client::client cl{c.client_options()};
    for (int i = 0; i < key_count; ++i)
      ASSERT_TRUE(cl.put("big/" + std::to_string(i), value_of(i)).ok()) << i;
  }
  // Every node checkpoints the whole state (every 10 slots): a file that
  // holds all the values spans more than a thousand chunks.
  auto whole = static_cast<std::uintmax_t>(key_count) * value_size;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  for (std::size_t id = 1; id <= 3; ++id) {
    std::optional<std::pair<fs::path, std::uintmax_t>> snap;
    while (std::chrono::steady_clock::now() < deadline) {
      snap = snapshot_in(c.data_dir(id));
      if (snap && snap->second > whole)
        break;
      std::this_thread::sleep_for(100ms);
    }
    ASSERT_TRUE(snap && snap->second > whole) << "node " << id << " wrote no whole checkpoint";
    EXPECT_EQ(first_bytes(snap->first, 8), std::string("BSNAPv2\n", 8)) << snap->first;
    EXPECT_GT(snap->second / (chunk_bytes + 8), 1000u) << "chunks of node " << id;
  }
  for (std::size_t id = 1; id <= 3; ++id)
    c.kill9(id);
  c.start_all();
  for (std::size_t id = 1; id <= 3; ++id)
    EXPECT_TRUE(c.node(id).wait_for_error("bytes of state)", 5s))
      << "node " << id << " did not start from its snapshot:\n"
      << c.node(id).err();
  ASSERT_NE(c.leader(), 0u);
  ballot::client::client cl{c.client_options()};
  for (int i = 0; i < key_count; ++i) {
    auto r = cl.get("big/" + std::to_string(i));
    ASSERT_TRUE(r.ok()) << i;
    EXPECT_EQ(r.value, value_of(i)) << i;
  }
  // And it goes on: a write after the restart is taken and read back.
  ASSERT_TRUE(cl.put("after", "restart").ok());
  EXPECT_EQ(cl.get("after").value, "restart");
}

}  // namespace
