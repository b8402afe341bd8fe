// Checkpoints written in the background (`append_owned` of a snapshot the
// replica took itself): the log goes on meanwhile, keeps everything until
// the snapshot file is durable, and a crash at any step recovers either the
// old snapshot with the whole log or the new one with the log after it.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/replica/storage.hpp"
#include "faulty_file_ops.hpp"
#include "runtime/wal/background_job.hpp"
#include "runtime/wal/snapshot_file.hpp"
#include "runtime/wal/wal_storage.hpp"
#include "temp_dir.hpp"
#include "wal_test_util.hpp"

namespace {

using namespace ballot;
using namespace ballot::wal;
using namespace ballot::wal::test;
using outcome = checkpoint_result::outcome;

/// Votes for slots [from, to) and the chosen values of all but the last two.
paxos::ready history(paxos::slot_index from, paxos::slot_index to, std::uint64_t round) {
  paxos::ready rd;
  rd.promised = paxos::ballot_number{round, 2};
  for (auto slot = from; slot < to; ++slot) {
    rd.accepted.push_back({slot, {{round, 2}, make_value(3, slot, std::string(50, 'v'))}});
    if (slot + 2 < to)
      rd.chosen.push_back({slot, make_value(3, slot, "chosen " + std::to_string(slot))});
  }
  return rd;
}

/// What a core hands over after taking a snapshot at `last` itself: the
/// compacted state, flagged local, and this step's records, including those
/// the snapshot covers (the log must keep them until its file is durable).
paxos::ready local_compaction(const paxos::durable_state& state, paxos::slot_index last) {
  paxos::ready rd;
  rd.compacted = compact(state, make_snapshot(last, std::string(4000, 's')));
  rd.compacted_locally = true;
  rd.chosen.push_back({last, make_value(3, last, "chosen in the compacting step")});
  rd.accepted.push_back({last + 30, {{state.promised.round, 2}, make_value(1, 1, "after")}});
  return rd;
}

/// The same ready without its compaction: what a log that never got the
/// snapshot file holds of it.
paxos::ready records_only(paxos::ready rd) {
  rd.compacted.reset();
  return rd;
}

std::vector<std::string> temp_files(const temp_dir& dir) {
  std::vector<std::string> out;
  for (auto& entry : std::filesystem::directory_iterator{dir.path()})
    if (is_snapshot_temp_file_name(entry.path().filename().string()))
      out.push_back(entry.path().filename().string());
  return out;
}

/// Holds the background thread at one checkpoint step until released.
class gate {
 public:
  void arrive_and_wait() {
    std::unique_lock<std::mutex> lock{mu_};
    arrived_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
  }
  void wait_arrived() {
    std::unique_lock<std::mutex> lock{mu_};
    cv_.wait(lock, [&] { return arrived_; });
  }
  void open() {
    std::lock_guard<std::mutex> lock{mu_};
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool arrived_ = false;
  bool open_ = false;
};

TEST(BackgroundJobTest, RunsOneJobAndHandsBackItsOutcomeOnce) {
  background_job job;
  EXPECT_FALSE(job.pending());
  EXPECT_FALSE(job.collect(true));
  gate g;
  job.start([&] {
    g.arrive_and_wait();
    throw std::runtime_error("job failed");
  });
  g.wait_arrived();
  EXPECT_TRUE(job.pending());
  EXPECT_FALSE(job.collect(false));  // still running
  EXPECT_THROW(job.start([] {}), std::logic_error);
  g.open();
  auto outcome = job.collect(true);
  ASSERT_TRUE(outcome);
  ASSERT_TRUE(*outcome);
  EXPECT_THROW(std::rethrow_exception(*outcome), std::runtime_error);
  EXPECT_FALSE(job.pending());
  EXPECT_FALSE(job.collect(true));  // handed out once
  job.start([] {});
  auto ok = job.collect(true);
  ASSERT_TRUE(ok);
  EXPECT_FALSE(*ok);
}

TEST(BackgroundCheckpointTest, CommitsWhileTheLogGoesOnAndIsVisibleAfterReopen) {
  temp_dir dir;
  paxos::durable_state expected;
  gate g;
  auto opts = options(dir, 2048);
  opts.checkpoint_hook = [&](checkpoint_step s) {
    if (s == checkpoint_step::temp_written)
      g.arrive_and_wait();
  };
  std::uint64_t checkpoint_index = 0;
  {
    wal_storage st{opts};
    st.load();
    auto h = history(1, 40, 3);
    h.persist_to(expected);
    st.append(h);
    st.sync();
    auto segments_before = st.log().segment_files();
    ASSERT_GT(segments_before.size(), 2u);
    checkpoint_index = st.log().next_index();
    auto rd = local_compaction(expected, 30);
    rd.persist_to(expected);
    st.append_owned(rd);
    EXPECT_FALSE(rd.compacted);  // taken, not copied
    EXPECT_TRUE(st.log().checkpoint_in_flight());
    g.wait_arrived();
    // The file is written but not renamed: the log keeps every segment, and
    // goes on appending and syncing (across rolls) meanwhile.
    for (paxos::slot_index slot = 80; slot < 120; ++slot) {
      auto v = vote_ready(slot, 4, std::string(100, 'n'));
      v.persist_to(expected);
      st.append(v);
      st.sync();
    }
    auto during = st.log().segment_files();
    for (auto& name : segments_before)
      EXPECT_NE(std::find(during.begin(), during.end(), name), during.end()) << name;
    EXPECT_TRUE(st.log().snapshot_files().empty());
    EXPECT_EQ(st.finish_checkpoint(false).what, outcome::running);
    g.open();
    auto res = st.finish_checkpoint(true);
    EXPECT_EQ(res.what, outcome::committed);
    EXPECT_EQ(res.key, 30u);
    EXPECT_GT(res.bytes, 4000u);
    EXPECT_EQ(st.log().snapshot_files(), (std::vector<std::string>{snapshot_file_name(30)}));
    // Only the segments before the checkpoint went; those written meanwhile stay.
    auto after = st.log().segment_files();
    EXPECT_EQ(after.front(), segment_file_name(checkpoint_index));
    EXPECT_GT(after.size(), 1u);
    EXPECT_EQ(st.finish_checkpoint(true).what, outcome::none);
  }
  recovery_report report;
  EXPECT_TRUE(same_state(reload(dir, &report), without_covered(expected)));
  EXPECT_EQ(report.snapshot_file, dir / snapshot_file_name(30));
  EXPECT_EQ(report.first_record, checkpoint_index);
  EXPECT_EQ(report.removed_files, 0u);
}

TEST(BackgroundCheckpointTest, SyncFinishesItOnceDurable) {
  temp_dir dir;
  paxos::durable_state expected;
  wal_storage st{options(dir, 2048)};
  st.load();
  auto h = history(1, 40, 3);
  h.persist_to(expected);
  st.append(h);
  st.sync();
  std::vector<checkpoint_result> finished;
  st.on_checkpoint_finished([&](const checkpoint_result& r) { finished.push_back(r); });
  auto rd = local_compaction(expected, 30);
  rd.persist_to(expected);
  st.append_owned(rd);
  // Without waiting: every sync looks whether the file is durable yet.
  for (int i = 0; i < 2000 && finished.empty(); ++i) {
    auto v = vote_ready(100 + static_cast<paxos::slot_index>(i), 4);
    v.persist_to(expected);
    st.append(v);
    st.sync();
  }
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_EQ(finished[0].what, outcome::committed);
  EXPECT_EQ(st.log().snapshot_files(), (std::vector<std::string>{snapshot_file_name(30)}));
  EXPECT_TRUE(same_state(st.load(), without_covered(expected)));
}

TEST(BackgroundCheckpointTest, ASnapshotWhileOneIsWrittenIsSkippedAndTheLogStillCoversIt) {
  temp_dir dir;
  paxos::durable_state expected;
  gate g;
  auto opts = options(dir, 2048);
  opts.checkpoint_hook = [&](checkpoint_step s) {
    if (s == checkpoint_step::temp_written)
      g.arrive_and_wait();
  };
  {
    wal_storage st{opts};
    st.load();
    auto h = history(1, 40, 3);
    h.persist_to(expected);
    st.append(h);
    st.sync();
    auto first = local_compaction(expected, 20);
    first.persist_to(expected);
    st.append_owned(first);
    g.wait_arrived();
    auto more = history(40, 70, 3);
    more.persist_to(expected);
    st.append(more);
    auto second = local_compaction(expected, 60);
    records_only(second).persist_to(expected);
    st.append_owned(second);
    st.sync();
    EXPECT_EQ(st.skipped_checkpoints(), 1u);
    g.open();
    EXPECT_EQ(st.finish_checkpoint(true).what, outcome::committed);
    EXPECT_EQ(st.log().snapshot_files(), (std::vector<std::string>{snapshot_file_name(20)}));
  }
  // From snapshot 20 on, the log holds every record of slots 21 to 60 that
  // the skipped snapshot covers: the state is whole, only less compacted.
  auto back = reload(dir);
  ASSERT_TRUE(back.snap);
  EXPECT_EQ(back.snap->last, 20u);
  EXPECT_TRUE(same_state(back, without_covered(expected)));
  EXPECT_EQ(back.chosen.count(60), 1u);
  EXPECT_EQ(back.chosen.count(21), 1u);
}

TEST(BackgroundCheckpointTest, AnInstalledSnapshotWaitsForTheOneInFlightThenIsDurableAtOnce) {
  temp_dir dir;
  paxos::durable_state expected;
  {
    wal_storage st{options(dir, 2048)};
    st.load();
    auto h = history(1, 40, 3);
    h.persist_to(expected);
    st.append(h);
    st.sync();
    auto local = local_compaction(expected, 20);
    local.persist_to(expected);
    st.append_owned(local);
    // A peer's snapshot, far ahead: no record on disk covers it.
    paxos::ready install;
    install.compacted = compact(expected, make_snapshot(500, "installed"));
    install.persist_to(expected);
    st.append_owned(install);
    EXPECT_FALSE(st.log().checkpoint_in_flight());
    EXPECT_EQ(st.log().snapshot_files(), (std::vector<std::string>{snapshot_file_name(500)}));
    // No sync after it: the log is closed as by a crash.
  }
  // Durable when append returned: a reopened log finds it.
  EXPECT_TRUE(same_state(reload(dir), expected));
}

TEST(BackgroundCheckpointTest, AFullDiskPostponesItAndTheNextOneCommits) {
  temp_dir dir;
  paxos::durable_state expected;
  faulty_file_ops disk;
  scoped_file_ops installed{disk};
  {
    wal_storage st{options(dir, 2048)};
    st.load();
    auto h = history(1, 40, 3);
    h.persist_to(expected);
    st.append(h);
    st.sync();
    // Only the snapshot file is written before the wait below: the records
    // after it stay buffered until the sync.
    disk.write_error = ENOSPC;
    auto rd = local_compaction(expected, 20);
    records_only(rd).persist_to(expected);
    st.append_owned(rd);
    auto res = st.finish_checkpoint(true);
    EXPECT_EQ(res.what, outcome::postponed);
    EXPECT_TRUE(temp_files(dir).empty());  // the torn temporary file went
    EXPECT_TRUE(st.log().snapshot_files().empty());
    disk.write_error.reset();
    st.sync();  // the log is still usable: nothing was lost
    auto more = history(40, 60, 3);
    more.persist_to(expected);
    st.append(more);
    auto next = local_compaction(expected, 50);
    next.persist_to(expected);
    st.append_owned(next);
    EXPECT_EQ(st.finish_checkpoint(true).what, outcome::committed);
    st.sync();
    EXPECT_EQ(st.log().snapshot_files(), (std::vector<std::string>{snapshot_file_name(50)}));
  }
  EXPECT_TRUE(same_state(reload(dir), without_covered(expected)));
}

/// A background checkpoint that "crashes" at `at` (the hook throws there);
/// what a reopened log recovers. `old_state`: everything as if the snapshot
/// file never came; `new_state`: the snapshot and what followed it.
struct crash_case {
  paxos::durable_state old_state;
  paxos::durable_state new_state;
  paxos::durable_state recovered;
  recovery_report report;
  std::uint64_t checkpoint_index = 0;
};

struct crash_signal {};

crash_case crash_in_background(const temp_dir& dir, checkpoint_step at) {
  crash_case c;
  auto opts = options(dir, 1024);
  // Armed for the background checkpoint only (not the earlier one below);
  // read on the background thread too.
  std::atomic<bool> armed{false};
  opts.checkpoint_hook = [&](checkpoint_step s) {
    if (armed.load() && s == at)
      throw crash_signal{};
  };
  {
    wal_storage st{opts};
    st.load();
    auto h = history(1, 40, 3);
    h.persist_to(c.old_state);
    st.append(h);
    st.sync();
    // An earlier checkpoint, written at once, so the old state has a snapshot too.
    paxos::ready first;
    first.compacted = compact(c.old_state, make_snapshot(10));
    first.persist_to(c.old_state);
    st.append(first);
    auto more = history(40, 60, 3);
    more.persist_to(c.old_state);
    st.append(more);
    st.sync();
    c.checkpoint_index = st.log().next_index();
    auto rd = local_compaction(c.old_state, 50);
    c.new_state = c.old_state;
    rd.persist_to(c.new_state);
    records_only(rd).persist_to(c.old_state);
    armed = true;
    st.append_owned(rd);
    auto v = vote_ready(90, 4, "synced while the snapshot was written");
    v.persist_to(c.old_state);
    v.persist_to(c.new_state);
    st.append(v);
    try {
      st.sync();
      st.finish_checkpoint(true);
      ADD_FAILURE() << "the crash did not happen";
    } catch (const crash_signal&) {
      // the "crash": the process is gone from here on
    }
  }
  wal_storage st{options(dir, 1024)};
  c.recovered = st.load();
  c.report = st.last_recovery();
  return c;
}

TEST(BackgroundCheckpointCrashTest, BeforeTheRenameRecoversTheOldSnapshotAndTheWholeLog) {
  // (A crash at segment_started, on the log's own thread, is the same as in a
  // checkpoint written at once: see CheckpointCrashTest.)
  for (auto at : {checkpoint_step::temp_written}) {
    SCOPED_TRACE("step " + std::to_string(static_cast<int>(at)));
    temp_dir dir;
    auto c = crash_in_background(dir, at);
    EXPECT_TRUE(same_state(c.recovered, without_covered(c.old_state)));
    ASSERT_TRUE(c.recovered.snap);
    EXPECT_EQ(c.recovered.snap->last, 10u);
    // Slots 11 to 50, which only the lost snapshot would have covered, are
    // still there as records.
    EXPECT_EQ(c.recovered.chosen.count(11), 1u);
    EXPECT_EQ(c.recovered.chosen.count(50), 1u);
    EXPECT_EQ(c.recovered.accepted.count(90), 1u);
    // The written but uncommitted temporary file is ignored and removed.
    EXPECT_TRUE(temp_files(dir).empty());
    EXPECT_EQ(c.report.removed_files, at == checkpoint_step::temp_written ? 1u : 0u);
  }
}

TEST(BackgroundCheckpointCrashTest, FromTheRenameOnRecoversTheNewSnapshotAndTheLogAfterIt) {
  for (auto at :
       {checkpoint_step::renamed, checkpoint_step::segment_dropped, checkpoint_step::done}) {
    SCOPED_TRACE("step " + std::to_string(static_cast<int>(at)));
    temp_dir dir;
    auto c = crash_in_background(dir, at);
    EXPECT_TRUE(same_state(c.recovered, without_covered(c.new_state)));
    ASSERT_TRUE(c.recovered.snap);
    EXPECT_EQ(c.recovered.snap->last, 50u);
    EXPECT_EQ(c.recovered.accepted.count(90), 1u);
    EXPECT_EQ(c.report.first_record, c.checkpoint_index);
    if (at != checkpoint_step::done) {
      // The cut the crash interrupted, finished by recovery.
      EXPECT_GT(c.report.removed_files, 0u);
    }
    wal_storage st{options(dir, 1024)};
    st.load();
    EXPECT_EQ(st.log().snapshot_files(), (std::vector<std::string>{snapshot_file_name(50)}));
    EXPECT_EQ(st.log().segment_files().front(), segment_file_name(c.checkpoint_index));
  }
}

}  // namespace
