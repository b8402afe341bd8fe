// Damaged synced data: told apart from a torn write by the sync marks, never
// cut silently, and (when the caller asks) set aside for a repair from peers.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "runtime/wal/segment.hpp"
#include "runtime/wal/wal_storage.hpp"
#include "temp_dir.hpp"
#include "wal_test_util.hpp"

namespace {

using namespace ballot;
using namespace ballot::wal;
using namespace ballot::wal::test;
namespace fs = std::filesystem;

const std::string first_segment = segment_file_name(0);

wal_options set_aside(const temp_dir& dir) {
  auto o = options(dir);
  o.set_aside_damage = true;
  return o;
}

/// Three synced batches of one vote each (slots 1..3); returns the segment's
/// bytes as written.
std::string three_batches(const temp_dir& dir) {
  wal_storage st{options(dir)};
  st.load();
  for (paxos::slot_index slot = 1; slot <= 3; ++slot) {
    st.append(vote_ready(slot, 1));
    st.sync();
  }
  return read_bytes(dir / first_segment);
}

/// Offsets of the records (not marks) of a segment's bytes.
std::vector<std::uint64_t> record_offsets(const std::string& bytes) {
  std::vector<std::uint64_t> out;
  scan_frames(bytes, [&](std::uint64_t off, std::string_view) { out.push_back(off); });
  return out;
}

TEST(WalRepairTest, EverySyncEndsWithAMarkThatIsNotARecord) {
  temp_dir dir;
  auto bytes = three_batches(dir);
  auto res = scan_frames(bytes, [](std::uint64_t, std::string_view) {});
  EXPECT_EQ(res.end, scan_end::clean);
  EXPECT_EQ(res.records, 3u);
  EXPECT_EQ(res.marked_size, bytes.size());  // the file ends with a mark
  recovery_report report;
  auto state = reload(dir, &report);
  EXPECT_EQ(state.accepted.size(), 3u);
  EXPECT_EQ(report.records, 3u);
}

TEST(WalRepairTest, FlippedBitInTheLastSyncedRecordIsCorruptionNotATornTail) {
  // Before sync marks, a damaged last record followed by zeros was cut as
  // torn: a synced, acknowledged vote silently gone.
  temp_dir dir;
  auto bytes = three_batches(dir);
  auto offsets = record_offsets(bytes);
  flip_byte(dir / first_segment, offsets.back() + frame_header_size + 3);
  expect_storage_error([&] { reload(dir); }, {first_segment, "corrupt record at offset"});
  EXPECT_EQ(read_bytes(dir / first_segment).size(), bytes.size());  // nothing cut
}

TEST(WalRepairTest, ATornUnsyncedBatchIsStillCutQuietly) {
  temp_dir dir;
  auto synced = three_batches(dir);
  {
    wal_storage st{options(dir)};
    st.load();
    st.append(vote_ready(4, 1, std::string(200, 'y')));
    // Destroyed without a sync, so the write never finished: play a crash
    // that left half of the record on disk.
  }
  auto bytes = read_bytes(dir / first_segment);
  ASSERT_GT(bytes.size(), synced.size() + 100);
  write_bytes(dir / first_segment, bytes.substr(0, synced.size() + 100));
  recovery_report report;
  auto state = reload(dir, &report);
  EXPECT_TRUE(report.truncated());
  EXPECT_FALSE(report.damaged());
  EXPECT_FALSE(report.repair_pending);
  EXPECT_EQ(state.accepted.size(), 3u);
  EXPECT_FALSE(state.damaged);
}

TEST(WalRepairTest, DamageIsSetAsideAndTheDirectoryMarkedForRepair) {
  temp_dir dir;
  auto bytes = three_batches(dir);
  auto offsets = record_offsets(bytes);
  flip_byte(dir / first_segment, offsets[1] + frame_header_size + 2);
  {
    wal_storage st{set_aside(dir)};
    auto state = st.load();
    auto& report = st.last_recovery();
    EXPECT_TRUE(report.damaged());
    EXPECT_EQ(report.damaged_at, offsets[1]);
    EXPECT_TRUE(report.repair_pending);
    EXPECT_TRUE(state.damaged);
    // The record before the damage is kept; the rest waits for the peers.
    EXPECT_EQ(state.accepted.size(), 1u);
    EXPECT_EQ(state.accepted.count(1), 1u);
    // Nothing synced was deleted: the whole damaged file is kept aside.
    ASSERT_EQ(report.set_aside.size(), 1u);
    EXPECT_EQ(read_bytes(report.set_aside[0]).size(), bytes.size());
    EXPECT_TRUE(fs::exists(dir / std::string{repair_marker_name}));
    // The log goes on after the kept records.
    st.append(vote_ready(2, 2));
    st.sync();
  }
  // Still marked after a restart: the repair has not finished.
  recovery_report report;
  auto state = reload(dir, &report);
  EXPECT_TRUE(state.damaged);
  EXPECT_FALSE(report.damaged());
  EXPECT_EQ(state.accepted.size(), 2u);
  EXPECT_EQ(state.accepted.at(2).ballot.round, 2u);
}

TEST(WalRepairTest, ARepairThatFinishesClearsTheMarkAfterSyncingWhatItLearned) {
  temp_dir dir;
  three_batches(dir);
  flip_byte(dir / first_segment, record_offsets(read_bytes(dir / first_segment))[2] + 9);
  {
    wal_storage st{set_aside(dir)};
    EXPECT_TRUE(st.load().damaged);
    paxos::ready rd;
    rd.chosen.push_back({3, make_value(7, 3, "learned")});
    rd.damaged = false;
    st.append(rd);  // no explicit sync: clearing the mark syncs first
    EXPECT_FALSE(fs::exists(dir / std::string{repair_marker_name}));
  }
  auto state = reload(dir);
  EXPECT_FALSE(state.damaged);
  EXPECT_EQ(state.chosen.count(3), 1u);
}

TEST(WalRepairTest, ABeginningRepairIsDurableBeforeItsRecords) {
  temp_dir dir;
  {
    wal_storage st{options(dir)};
    st.load();
    paxos::ready rd;
    rd.damaged = true;
    rd.promised = paxos::ballot_number{5, 2};
    st.append(rd);
    EXPECT_TRUE(fs::exists(dir / std::string{repair_marker_name}));
    st.sync();
  }
  auto state = reload(dir);
  EXPECT_TRUE(state.damaged);
  EXPECT_EQ(state.promised.round, 5u);
}

TEST(WalRepairTest, AMissingSegmentIsSetAside) {
  temp_dir dir;
  {
    wal_storage st{options(dir, 64)};  // one record per segment
    st.load();
    for (paxos::slot_index slot = 1; slot <= 4; ++slot) {
      st.append(vote_ready(slot, 1));
      st.sync();
    }
  }
  fs::remove(dir / segment_file_name(1));
  expect_storage_error([&] { reload(dir); }, {"a segment is missing"});
  wal_storage st{set_aside(dir)};
  auto state = st.load();
  EXPECT_TRUE(state.damaged);
  EXPECT_EQ(state.accepted.size(), 1u);
  EXPECT_EQ(st.last_recovery().set_aside.size(), 2u);  // segments 2 and 3
  st.append(vote_ready(2, 3));
  st.sync();
}

TEST(WalRepairTest, ADamagedOnlySnapshotSetsEverythingAside) {
  temp_dir dir;
  {
    wal_storage st{options(dir)};
    st.load();
    paxos::durable_state state;
    state.promised = {2, 1};
    state.snap = make_snapshot(10);
    paxos::ready rd;
    rd.compacted = state;
    st.append(rd);
    st.append(vote_ready(11, 2));
    st.sync();
  }
  auto snaps = [&] {
    std::vector<std::string> out;
    for (auto& e : fs::directory_iterator(dir.path()))
      if (e.path().extension() == ".snap")
        out.push_back(e.path().string());
    return out;
  }();
  ASSERT_EQ(snaps.size(), 1u);
  flip_byte(snaps[0], 20);
  {
    // A snapshot may hold what the log before it never had (one installed
    // from a peer), so no older state stands in for it: the peers do.
    wal_storage st{set_aside(dir)};
    auto state = st.load();
    EXPECT_TRUE(state.damaged);
    EXPECT_FALSE(state.snap);
    EXPECT_TRUE(state.accepted.empty());
    EXPECT_TRUE(state.promised.is_zero());
    EXPECT_GE(st.last_recovery().set_aside.size(), 2u);
    st.append(vote_ready(12, 3));
    st.sync();
  }
  EXPECT_EQ(reload(dir).accepted.size(), 1u);
}

}  // namespace
