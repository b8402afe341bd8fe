// Recovery of one ballotd from its data directory: a torn last record is cut,
// a flipped byte mid-segment is set aside and repaired from the peers (file
// and offset named), an unusable directory is exit 3, and bad flags exit 2.
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "runtime/wal/segment.hpp"
#include "tests/process/cluster_fixture.hpp"

namespace {

using namespace ballot::testing;
namespace fs = std::filesystem;

/// An embedded ballotd (three replicas in one process) on a free port.
class embedded_node {
 public:
  explicit embedded_node(fs::path dir) : dir_(std::move(dir)), port_(free_port()) {}

  std::unique_ptr<process> start() {
    return std::make_unique<process>(
      std::vector<std::string>{BALLOTD_BIN, "--data-dir", dir_.string(), "--client", endpoint()});
  }

  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }

  ballot::client::client client() const {
    ballot::client::options o;
    o.endpoints = {endpoint()};
    o.timeout = 5s;
    return ballot::client::client{o};
  }

 private:
  fs::path dir_;
  std::uint16_t port_;
};

fs::path temp_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("ballot-recovery-" + std::to_string(getpid()) + name);
  fs::remove_all(dir);
  return dir;
}

/// The segments of replica 1, oldest first.
std::vector<fs::path> segments(const fs::path& dir) {
  std::vector<fs::path> out;
  for (auto& e : fs::directory_iterator(dir / "1"))
    if (e.path().extension() == ".log")
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

/// Writes `n` keys through a fresh embedded node, then stops it cleanly.
void populate(embedded_node& node, int n) {
  auto p = node.start();
  ASSERT_TRUE(p->wait_for_output("ballotd ready", 15s)) << p->err();
  {
    auto c = node.client();
    for (int i = 0; i < n; ++i)
      ASSERT_TRUE(c.put("key" + std::to_string(i), "value" + std::to_string(i)).ok());
  }
  p->kill(SIGTERM);
  ASSERT_EQ(p->exit_code(10s), 0) << p->err();
}

TEST(ProcessRecoveryTest, CleanStopAndRestartKeepsEverything) {
  auto dir = temp_dir("clean");
  embedded_node node{dir};
  populate(node, 20);
  auto p = node.start();
  ASSERT_TRUE(p->wait_for_output("ballotd ready id=embedded", 15s)) << p->err();
  auto c = node.client();
  for (int i = 0; i < 20; ++i) {
    auto r = c.get("key" + std::to_string(i));
    ASSERT_TRUE(r.ok()) << "key" << i;
    EXPECT_EQ(r.value, "value" + std::to_string(i));
  }
  fs::remove_all(dir);
}

TEST(ProcessRecoveryTest, TornLastRecordIsCutAndTheNodeServes) {
  auto dir = temp_dir("torn");
  embedded_node node{dir};
  populate(node, 10);
  {
    // A crash in the middle of a write: half a record header right after the
    // last record, then the zeros the log allocated ahead of its writes.
    auto seg = segments(dir).back();
    std::string bytes;
    {
      std::ifstream in(seg, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{});
    }
    auto end = ballot::wal::scan_frames(bytes, [](std::uint64_t, std::string_view) {}).valid_size;
    ASSERT_GT(bytes.size(), end) << "the segment was not allocated ahead";
    std::fstream out(seg, std::ios::in | std::ios::out | std::ios::binary);
    out.seekp(static_cast<std::streamoff>(end));
    out.write("\x30\x00\x00\x00\x11", 5);
  }
  auto p = node.start();
  ASSERT_TRUE(p->wait_for_output("ballotd ready", 15s)) << p->err();
  EXPECT_NE(p->err().find("torn tail"), std::string::npos) << p->err();
  auto c = node.client();
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(c.get("key" + std::to_string(i)).ok()) << "key" << i;
  ASSERT_TRUE(c.put("after", "cut").ok());
  fs::remove_all(dir);
}

TEST(ProcessRecoveryTest, FlippedByteMidSegmentIsSetAsideAndRepairedFromPeers) {
  auto dir = temp_dir("flip");
  embedded_node node{dir};
  populate(node, 10);
  auto seg = segments(dir).front();
  ASSERT_GT(fs::file_size(seg), 200u);
  {
    // Inside the payload of the first record, with many records after it.
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(12);
    char byte = 0;
    f.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x5a);
    f.seekp(12);
    f.write(&byte, 1);
  }
  // Before repair from peers this was exit 3 for good; now replica 1 keeps
  // the damaged file aside and re-learns from replicas 2 and 3.
  auto p = node.start();
  ASSERT_TRUE(p->wait_for_output("ballotd ready", 15s)) << p->err();
  EXPECT_TRUE(p->wait_for_error("repaired", 15s)) << p->err();
  EXPECT_NE(p->err().find(seg.filename().string()), std::string::npos) << p->err();
  EXPECT_NE(p->err().find("damaged synced data at offset"), std::string::npos) << p->err();
  EXPECT_TRUE(fs::exists(seg.string() + ".damaged"));
  auto c = node.client();
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(c.get("key" + std::to_string(i)).ok()) << "key" << i;
  ASSERT_TRUE(c.put("after", "repair").ok());
  fs::remove_all(dir);
}

TEST(ProcessRecoveryTest, UnusableDataDirectoryIsExit3NamingIt) {
  auto dir = temp_dir("unusable");
  fs::create_directories(dir);
  auto file = dir / "plain-file";
  std::ofstream(file) << "not a directory";
  embedded_node node{file / "data"};
  auto p = node.start();
  EXPECT_EQ(p->exit_code(15s), 3) << p->err();
  EXPECT_NE(p->err().find("plain-file"), std::string::npos) << p->err();
  fs::remove_all(dir);
}

TEST(ProcessRecoveryTest, BadFlagsAreExit2NamingFlagAndValue) {
  process p{
    {BALLOTD_BIN, "--id", "1", "--peers", "1=127.0.0.1:notaport", "--client", "127.0.0.1:1"}};
  EXPECT_EQ(p.exit_code(10s), 2);
  EXPECT_NE(p.err().find("--peers"), std::string::npos) << p.err();
  EXPECT_NE(p.err().find("notaport"), std::string::npos) << p.err();
}

TEST(ProcessRecoveryTest, ClientPortInUseIsExit2NamingIt) {
  auto dir = temp_dir("port");
  embedded_node first{dir / "a"};
  auto a = first.start();
  ASSERT_TRUE(a->wait_for_output("ballotd ready", 15s)) << a->err();
  process b{{BALLOTD_BIN, "--data-dir", (dir / "b").string(), "--client", first.endpoint()}};
  EXPECT_EQ(b.exit_code(15s), 2) << b.err();
  EXPECT_NE(b.err().find(first.endpoint()), std::string::npos) << b.err();
  fs::remove_all(dir);
}

}  // namespace
