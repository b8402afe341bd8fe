// A full disk under a running ballotd: writes pause with a clear, retryable
// error and a log line, nothing acknowledged is lost, and writes resume by
// themselves when space returns (no restart). The data directory is a small
// tmpfs that the test mounts and grows, so it needs root.
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tests/process/cluster_fixture.hpp"

namespace {

using namespace ballot::testing;
namespace fs = std::filesystem;

/// A tmpfs of `size` mounted at a fresh directory, unmounted at the end.
class small_tmpfs {
 public:
  explicit small_tmpfs(const std::string& size)
      : dir_(fs::temp_directory_path() / ("ballot-full-" + std::to_string(getpid()))) {
    fs::create_directories(dir_);
    mounted_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
  }
  ~small_tmpfs() {
    if (mounted_)
      ::umount2(dir_.c_str(), MNT_DETACH);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  bool mounted() const { return mounted_; }
  bool grow(const std::string& size) {
    return ::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT, ("size=" + size).c_str()) == 0;
  }
  const fs::path& dir() const { return dir_; }

 private:
  fs::path dir_;
  bool mounted_ = false;
};

TEST(ProcessDiskFullTest, AFullDiskPausesWritesLosesNothingAndResumesWhenSpaceReturns) {
  if (geteuid() != 0)
    GTEST_SKIP() << "needs root to mount a small tmpfs as the data directory";
  small_tmpfs disk{"2m"};
  if (!disk.mounted())
    GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  auto endpoint = "127.0.0.1:" + std::to_string(free_port());
  process node{{BALLOTD_BIN, "--data-dir", (disk.dir() / "data").string(), "--client", endpoint}};
  ASSERT_TRUE(node.wait_for_output("ballotd ready", 15s)) << node.err();
  ballot::client::options o;
  o.endpoints = {endpoint};
  o.timeout = 3s;
  ballot::client::client c{o};
  std::string value(20000, 'v');
  std::vector<std::string> acked;
  ballot::kv::result refused;
  for (int i = 0; i < 400; ++i) {
    auto key = "k" + std::to_string(i);
    auto r = c.put(key, value + key);
    if (!r.ok()) {
      refused = r;
      break;
    }
    acked.push_back(key);
  }
  ASSERT_FALSE(refused.ok()) << "2 MiB never filled up";
  ASSERT_FALSE(acked.empty());
  EXPECT_TRUE(node.wait_for_error("disk full, writes paused", 5s)) << node.err();
  // A typed, retryable refusal: `overloaded` ("disk full") where the leader's
  // own disk is full, or no answer in time where only its followers' are
  // (here all three replicas share the one small disk, and whichever filled
  // last may still have room for the leader's vote but not the others').
  using ballot::kv::result_code;
  EXPECT_TRUE(refused.code == result_code::overloaded || refused.code == result_code::unavailable)
    << ballot::kv::to_string(refused.code) << ": " << refused.message;
  if (refused.code == result_code::overloaded) {
    EXPECT_NE(refused.message.find("disk full"), std::string::npos) << refused.message;
  }
  EXPECT_TRUE(node.running());
  ASSERT_TRUE(disk.grow("64m"));
  // Writes resume by themselves within the sync retry.
  auto deadline = std::chrono::steady_clock::now() + 15s;
  bool resumed = false;
  while (!resumed && std::chrono::steady_clock::now() < deadline)
    resumed = c.put("after", "space").ok();
  ASSERT_TRUE(resumed) << node.err();
  EXPECT_TRUE(node.wait_for_error("writes resume", 5s)) << node.err();
  for (auto& key : acked) {
    auto r = c.get(key);
    ASSERT_TRUE(r.ok()) << key << ": " << r.message;
    EXPECT_EQ(r.value, value + key);
  }
}

}  // namespace
