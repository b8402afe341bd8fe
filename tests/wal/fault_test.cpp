// The log on a disk that fails (tests/wal/faulty_file_ops.hpp): errors at
// every step of append, sync, checkpoint and recovery are reported naming
// the file, never acknowledged, and leave a directory that recovers to
// everything synced before; recovery makes durable what it read.
#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "faulty_file_ops.hpp"
#include "runtime/wal/wal_storage.hpp"
#include "temp_dir.hpp"
#include "wal_test_util.hpp"

namespace {

using namespace ballot;
using namespace ballot::wal;
using namespace ballot::wal::test;

struct WalFaultTest : ::testing::Test {
  /// What a restarted replica would load, read by a second log object while
  /// the first still holds the directory lock (the lock is per open file
  /// description, so a test reads the files directly instead).
  paxos::durable_state reload_while_open(wal_storage& open) {
    (void)open;
    temp_dir copy;
    for (auto& e : std::filesystem::directory_iterator(dir.path()))
      std::filesystem::copy(e.path(), copy / e.path().filename().string());
    return reload(copy);
  }

  temp_dir dir;
  faulty_file_ops disk;
  scoped_file_ops installed{disk};
  paxos::durable_state synced;  ///< what was synced before the fault

  /// `n` synced votes (slots 1..n), recorded in `synced`.
  void write_synced(wal_storage& st, int n, int first = 1) {
    for (int slot = first; slot < first + n; ++slot) {
      auto rd = vote_ready(static_cast<paxos::slot_index>(slot), 1);
      st.append(rd);
      st.sync();
      rd.persist_to(synced);
    }
  }
};

TEST_F(WalFaultTest, RecoverySyncsWhatItReadSoAPowerLossCannotTakeItBack) {
  // A process killed after its write but before its fdatasync leaves the
  // records in the page cache only. A restart that answers from them must
  // first make them durable: a power loss would otherwise take back promises
  // it has since repeated to others.
  {
    wal_storage st{options(dir)};
    st.load();
    write_synced(st, 2);
    paxos::ready rd;
    rd.promised = paxos::ballot_number{9, 3};
    st.append(rd);
  }  // written (by the destructor), never synced
  paxos::durable_state seen;
  {
    wal_storage st{options(dir)};
    seen = st.load();
    ASSERT_EQ(seen.promised.round, 9u);
  }
  disk.lose_unsynced();
  EXPECT_TRUE(same_state(reload(dir), seen));
}

TEST_F(WalFaultTest, WithoutASyncAPowerLossTakesBackOnlyWhatWasNeverAcknowledged) {
  {
    wal_storage st{options(dir)};
    st.load();
    write_synced(st, 3);
    st.append(vote_ready(4, 1));
  }
  disk.lose_unsynced();
  EXPECT_TRUE(same_state(reload(dir), synced));
}

TEST_F(WalFaultTest, ShortWritesAreCompleted) {
  disk.max_write = 7;
  {
    wal_storage st{options(dir)};
    st.load();
    write_synced(st, 5);
  }
  disk.heal();
  EXPECT_TRUE(same_state(reload(dir), synced));
  EXPECT_GT(disk.writes, 20u);
}

/// A write or sync error of each kind: reported naming the file, the log
/// refuses further use (what is on disk is unknown), and a new log on the
/// directory has everything synced before and nothing it did not sync whole.
void expect_failed_sync_keeps_synced(WalFaultTest& t, const std::function<void()>& break_disk,
                                     const std::string& needle) {
  wal_storage st{options(t.dir)};
  st.load();
  t.write_synced(st, 3);
  break_disk();
  st.append(vote_ready(4, 1, std::string(100, 'z')));
  expect_storage_error([&] { st.sync(); }, {t.dir.path(), needle});
  t.disk.heal();
  // Unusable after the error: a retried fdatasync may report success for
  // data the kernel already dropped.
  expect_storage_error([&] { st.sync(); }, {"unusable after an earlier I/O error"});
  expect_storage_error([&] { st.append(vote_ready(5, 1)); }, {"unusable"});
}

TEST_F(WalFaultTest, EioOnWriteIsReportedAndNothingSyncedIsLost) {
  expect_failed_sync_keeps_synced(
    *this, [&] { disk.write_error = EIO; }, "Input/output error");
  auto state = reload(dir);
  EXPECT_EQ(state.accepted.size(), 3u);
}

TEST_F(WalFaultTest, AFullDiskPausesSyncsLosesNothingAndResumesWhenSpaceReturns) {
  wal_storage st{options(dir)};
  st.load();
  write_synced(st, 3);
  disk.write_error = ENOSPC;
  disk.write_budget = 40;  // part of the batch reaches the disk, then no space
  auto rd = vote_ready(4, 1, std::string(100, 'z'));
  st.append(rd);
  for (int attempt = 0; attempt < 3; ++attempt) {
    try {
      st.sync();
      ADD_FAILURE() << "a sync on a full disk succeeded";
    } catch (const actors::storage_full& e) {
      EXPECT_NE(std::string{e.what()}.find("No space left on device"), std::string::npos);
    }
    disk.write_budget = 0;
  }
  // More records meanwhile, and a checkpoint, which waits too.
  auto rd5 = vote_ready(5, 1);
  st.append(rd5);
  paxos::ready cp;
  cp.compacted = compact(synced, make_snapshot(2));
  st.append(cp);
  disk.heal();  // space again
  st.sync();
  rd.persist_to(synced);
  rd5.persist_to(synced);
  auto state = reload_while_open(st);
  EXPECT_EQ(state.accepted.count(4), 1u);
  EXPECT_EQ(state.accepted.count(5), 1u);
  EXPECT_EQ(state.accepted.size(), 5u);
}

TEST_F(WalFaultTest, AFullDiskCutsOffThePartOfTheBatchItWrote) {
  {
    wal_storage st{options(dir)};
    st.load();
    write_synced(st, 3);
    disk.write_error = ENOSPC;
    disk.write_budget = 40;
    st.append(vote_ready(4, 1, std::string(100, 'z')));
    EXPECT_THROW(st.sync(), actors::storage_full);
  }
  disk.heal();
  // Closed while full: the held batch is gone (never acknowledged) and the
  // file holds no half of it.
  recovery_report report;
  auto state = reload(dir, &report);
  EXPECT_TRUE(same_state(state, synced));
  EXPECT_FALSE(report.truncated());
  EXPECT_FALSE(report.damaged());
}

TEST_F(WalFaultTest, EioOnFdatasyncIsReportedAndNeverRetried) {
  expect_failed_sync_keeps_synced(
    *this, [&] { disk.sync_error = EIO; }, "fdatasync failed");
  // The failed batch was written but not synced: a power loss may take it.
  disk.lose_unsynced();
  EXPECT_TRUE(same_state(reload(dir), synced));
}

TEST_F(WalFaultTest, FailuresAtEveryCheckpointStepRecoverToTheStateBefore) {
  for (int step = 0; step < 3; ++step) {
    SCOPED_TRACE("failing step " + std::to_string(step));
    temp_dir d;
    paxos::durable_state before;
    {
      wal_storage st{options(d)};
      st.load();
      for (paxos::slot_index slot = 1; slot <= 3; ++slot) {
        auto rd = vote_ready(slot, 1);
        st.append(rd);
        st.sync();
        rd.persist_to(before);
      }
      if (step == 0)
        disk.write_error = EIO;  // writing the snapshot file
      else if (step == 1)
        disk.sync_error = EIO;  // syncing it (or the segment before it)
      else
        disk.metadata_error = EIO;  // the rename that commits it
      paxos::ready rd;
      rd.compacted = compact(before, make_snapshot(2));
      expect_storage_error([&] { st.append(rd); }, {d.path()});
      disk.heal();
    }
    EXPECT_TRUE(same_state(reload(d), before));
  }
}

TEST_F(WalFaultTest, ABitFlippedOnReadIsDamageThatIsSetAsideNotCut) {
  {
    wal_storage st{options(dir)};
    st.load();
    write_synced(st, 3);
  }
  // The second record's payload comes back with a bit flipped.
  std::vector<std::uint64_t> offsets;
  scan_frames(read_bytes(dir / segment_file_name(0)),
              [&](std::uint64_t off, std::string_view) { offsets.push_back(off); });
  ASSERT_EQ(offsets.size(), 3u);
  disk.flip_suffix = segment_file_name(0);
  disk.flip_offset = offsets[1] + frame_header_size + 5;
  // Without set-aside the read is a storage error naming the offset.
  expect_storage_error([&] { reload(dir); }, {std::to_string(offsets[1])});
  wal_options o = options(dir);
  o.set_aside_damage = true;
  {
    wal_storage st{o};
    auto state = st.load();
    auto& report = st.last_recovery();
    EXPECT_TRUE(report.damaged());
    EXPECT_EQ(report.damaged_at, offsets[1]);
    EXPECT_FALSE(report.truncated());
    EXPECT_TRUE(state.damaged);
    EXPECT_EQ(state.accepted.size(), 1u);
  }
}

TEST_F(WalFaultTest, AReadErrorInRecoveryIsAStorageErrorNotDamage) {
  {
    wal_storage st{options(dir)};
    st.load();
    write_synced(st, 3);
  }
  struct failing_reads final : file_ops {
    ssize_t pread(int, void*, std::size_t, off_t) override {
      errno = EIO;
      return -1;
    }
  } broken;
  {
    scoped_file_ops reads_fail{broken};
    wal_options o = options(dir);
    o.set_aside_damage = true;
    expect_storage_error([&] { wal_storage{o}.load(); }, {"cannot read", "Input/output error"});
  }
  // Nothing was set aside: the data is intact once the disk reads again.
  EXPECT_TRUE(same_state(reload(dir), synced));
}

}  // namespace
