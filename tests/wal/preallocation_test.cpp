// The active segment allocated ahead of its writes (wal_options::
// preallocate_bytes): its zeros are unused space, not a torn write; a torn
// write inside them is still cut; a
// finished segment holds its records only; and a file system that cannot
// allocate leaves a log that grows as it is written.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cerrno>
#include <string>
#include <vector>

#include "faulty_file_ops.hpp"
#include "runtime/wal/wal_storage.hpp"
#include "temp_dir.hpp"
#include "wal_test_util.hpp"

namespace {

using namespace ballot;
using namespace ballot::wal;
using namespace ballot::wal::test;

const std::string first_segment = segment_file_name(0);
constexpr std::uint64_t step = 64 << 10;

wal_options preallocated(const temp_dir& dir, std::uint64_t segment_size = 64 << 20) {
  auto o = options(dir, segment_size);
  o.preallocate_bytes = step;
  return o;
}

/// Appends and syncs votes 1..n; returns the state and where the records end.
std::uint64_t write_votes(const wal_options& o, int from, int to, paxos::durable_state& state) {
  wal_storage st{o};
  state = st.load();
  for (int i = from; i <= to; ++i) {
    auto rd = vote_ready(static_cast<paxos::slot_index>(i), 1, std::string(200, 'v'));
    rd.persist_to(state);
    st.append(rd);
    st.sync();
  }
  auto bytes = read_bytes(o.dir + "/" + first_segment);
  return scan_frames(bytes, [](std::uint64_t, std::string_view) {}).valid_size;
}

/// The allocated size on disk, in bytes.
std::uint64_t allocated_bytes(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return static_cast<std::uint64_t>(st.st_blocks) * 512;
}

TEST(WalPreallocationTest, TheSegmentIsAllocatedAheadAndItsZerosAreNoTornWrite) {
  temp_dir dir;
  auto o = preallocated(dir);
  paxos::durable_state state;
  auto end = write_votes(o, 1, 3, state);
  auto path = dir / first_segment;
  EXPECT_EQ(file_size(path), step);  // one step, though the records are ~700 bytes
  EXPECT_GE(allocated_bytes(path), step);
  {
    wal_storage reopened{o};
    EXPECT_TRUE(same_state(reopened.load(), state));
    auto report = reopened.last_recovery();
    EXPECT_FALSE(report.truncated());
    EXPECT_EQ(report.records, 3u);
    EXPECT_EQ(file_size(path), step);  // nothing cut
    // The log goes on right after its last record, over the zeros.
    auto rd = vote_ready(4, 1, "after the reopen");
    rd.persist_to(state);
    reopened.append(rd);
    reopened.sync();
  }
  wal_storage again{o};
  EXPECT_TRUE(same_state(again.load(), state));
  EXPECT_EQ(again.last_recovery().records, 4u);
  auto bytes = read_bytes(path);
  EXPECT_GT(scan_frames(bytes, [](std::uint64_t, std::string_view) {}).valid_size, end);
}

TEST(WalPreallocationTest, ItAllocatesAStepAtATimeAsTheRecordsGrow) {
  temp_dir dir;
  auto o = preallocated(dir);
  paxos::durable_state state;
  // ~220 bytes a vote: 800 of them fill about 2.7 steps.
  auto end = write_votes(o, 1, 800, state);
  auto size = file_size(dir / first_segment);
  EXPECT_GT(end, 2 * step);
  EXPECT_GT(size, end);
  EXPECT_LE(size, end + step);
  EXPECT_EQ(size % step, 0u);
  EXPECT_TRUE(same_state(reload(dir), state));
}

TEST(WalPreallocationTest, ATornWriteInThePreallocatedSpaceIsCut) {
  temp_dir dir;
  auto o = preallocated(dir);
  paxos::durable_state state;
  auto end = write_votes(o, 1, 3, state);
  // A crash in the middle of the next write: half a header at the records'
  // end, the allocated zeros after it.
  auto path = dir / first_segment;
  auto bytes = read_bytes(path);
  bytes.replace(end, 5, std::string("\x30\x00\x00\x00\x11", 5));
  write_bytes(path, bytes);
  wal_storage st{o};
  EXPECT_TRUE(same_state(st.load(), state));
  auto report = st.last_recovery();
  ASSERT_TRUE(report.truncated());
  EXPECT_EQ(report.truncated_bytes, step - end);  // the half header and the zeros after it
  EXPECT_EQ(report.truncated_at, end);
  EXPECT_EQ(file_size(path), end);
}

TEST(WalPreallocationTest, AFinishedSegmentHoldsItsRecordsOnly) {
  temp_dir dir;
  // Segments of 4 KiB: each of ~20 votes of ~220 bytes.
  auto o = preallocated(dir, 4096);
  paxos::durable_state state;
  write_votes(o, 1, 60, state);
  wal_storage st{o};
  EXPECT_TRUE(same_state(st.load(), state));
  EXPECT_FALSE(st.last_recovery().truncated());
  auto names = st.log().segment_files();
  ASSERT_GE(names.size(), 3u);
  for (std::size_t i = 0; i + 1 < names.size(); ++i) {
    SCOPED_TRACE(names[i]);
    auto bytes = read_bytes(dir / names[i]);
    auto scan = scan_frames(bytes, [](std::uint64_t, std::string_view) {});
    EXPECT_EQ(scan.end, scan_end::clean);
    EXPECT_EQ(scan.valid_size, bytes.size());
  }
  EXPECT_EQ(file_size(dir / names.back()), step);
}

/// A file system without room to allocate (or without fallocate).
class no_fallocate final : public file_ops {
 public:
  int calls = 0;
  int fallocate(int, off_t, off_t) override {
    ++calls;
    errno = ENOSPC;
    return -1;
  }
};

TEST(WalPreallocationTest, WithoutAllocationTheSegmentGrowsAsItIsWritten) {
  temp_dir dir;
  auto o = preallocated(dir);
  no_fallocate ops;
  paxos::durable_state state;
  std::uint64_t end = 0;
  {
    scoped_file_ops use{ops};
    end = write_votes(o, 1, 5, state);
  }
  EXPECT_GT(ops.calls, 0);
  EXPECT_EQ(file_size(dir / first_segment), end);
  EXPECT_TRUE(same_state(reload(dir), state));
}

}  // namespace
