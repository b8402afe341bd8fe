// Checkpoints (log compaction with snapshots) through `wal_storage`: round
// trips, reopening, a crash at every step, cleanup, and damaged snapshot files.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/replica/storage.hpp"
#include "runtime/wal/codec.hpp"
#include "runtime/wal/snapshot_file.hpp"
#include "runtime/wal/wal_storage.hpp"
#include "temp_dir.hpp"
#include "wal_test_util.hpp"

namespace {

using namespace ballot;
using namespace ballot::wal;
using namespace ballot::wal::test;
using actors::storage_error;

/// Every file name in `dir`, sorted.
std::vector<std::string> listing(const temp_dir& dir) {
  std::vector<std::string> out;
  for (auto& entry : std::filesystem::directory_iterator{dir.path()})
    out.push_back(entry.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

/// Appends `rd` to the log and to the expected state.
void apply_both(wal_storage& st, paxos::durable_state& expected, const paxos::ready& rd) {
  rd.persist_to(expected);
  st.append(rd);
}

/// Votes and chosen values for slots [from, to), with a promise first.
paxos::ready history(paxos::slot_index from, paxos::slot_index to, std::uint64_t round) {
  paxos::ready rd;
  rd.promised = paxos::ballot_number{round, 2};
  for (auto slot = from; slot < to; ++slot) {
    rd.accepted.push_back(
      {slot,
       {{round, 2}, make_value(3, slot, std::string(40, static_cast<char>('a' + slot % 26)))}});
    if (slot + 2 < to)
      rd.chosen.push_back({slot, make_value(3, slot, "chosen " + std::to_string(slot))});
  }
  return rd;
}

/// A ready that compacts `state` at `last`, with records of its own on top.
paxos::ready compaction(const paxos::durable_state& state, paxos::slot_index last) {
  paxos::ready rd;
  rd.compacted = compact(state, make_snapshot(last, "state at " + std::to_string(last)));
  rd.promised = paxos::ballot_number{state.promised.round + 1, 1};
  rd.accepted.push_back({last + 40, {{state.promised.round + 1, 1}, make_value(1, 1, "after")}});
  rd.chosen.push_back({last + 1, make_value(3, last + 1, "chosen again")});
  return rd;
}

TEST(SnapshotFileTest, NamesSortByKeyAndParseBack) {
  EXPECT_EQ(snapshot_file_name(0x2a), "snapshot-000000000000002a.snap");
  EXPECT_EQ(parse_snapshot_file_name(snapshot_file_name(~0ull)), ~0ull);
  EXPECT_LT(snapshot_file_name(9), snapshot_file_name(10));
  EXPECT_FALSE(parse_snapshot_file_name("snapshot-000000000000002A.snap"));
  EXPECT_FALSE(parse_snapshot_file_name("snapshot-000000000000002a.snap.tmp"));
  EXPECT_FALSE(parse_snapshot_file_name("wal-000000000000002a.log"));
  EXPECT_TRUE(is_snapshot_temp_file_name("snapshot-000000000000002a.snap.tmp"));
  EXPECT_FALSE(is_snapshot_temp_file_name("snapshot-000000000000002a.snap"));
  EXPECT_FALSE(is_snapshot_temp_file_name("other.tmp"));
}

TEST(SnapshotFileTest, CheckAcceptsExactlyOneWholeFrame) {
  std::string payload(64, 'p');
  auto bytes = snapshot_header(payload) + payload;
  auto ok = check_snapshot_file(bytes);
  ASSERT_TRUE(ok.payload);
  EXPECT_EQ(*ok.payload, payload);
  EXPECT_FALSE(check_snapshot_file(bytes.substr(0, 5)).payload);
  EXPECT_FALSE(check_snapshot_file(bytes.substr(0, bytes.size() - 1)).payload);
  EXPECT_FALSE(check_snapshot_file(bytes + "x").payload);
  auto flipped = bytes;
  flipped[20] ^= 1;
  auto bad = check_snapshot_file(flipped);
  EXPECT_FALSE(bad.payload);
  EXPECT_NE(bad.reason.find("CRC"), std::string::npos) << bad.reason;
}

TEST(CheckpointCodecTest, RoundTripsTheWholeState) {
  paxos::durable_state state;
  history(1, 30, 4).persist_to(state);
  state = compact(state, make_snapshot(20, std::string(1000, 'm')));
  std::string bytes;
  encode_checkpoint(state, 1234, bytes);
  auto back = decode_checkpoint(bytes);
  EXPECT_EQ(back.next_record, 1234u);
  EXPECT_TRUE(same_state(back.state, state));
  EXPECT_THROW(decode_checkpoint(bytes.substr(0, bytes.size() - 8)), codec_error);
  EXPECT_THROW(decode_checkpoint(bytes + std::string(8, '\0')), codec_error);
  paxos::durable_state no_snapshot;
  EXPECT_THROW(encode_checkpoint(no_snapshot, 0, bytes), std::invalid_argument);
}

TEST(CheckpointTest, RoundTripEqualsPersistTo) {
  temp_dir dir;
  paxos::durable_state expected;
  {
    wal_storage st{options(dir)};
    st.load();
    apply_both(st, expected, history(1, 30, 3));
    st.sync();
    apply_both(st, expected, compaction(expected, 25));
    st.sync();
    ASSERT_TRUE(expected.snap);
    EXPECT_TRUE(same_state(st.load(), expected));  // a later load reads it back too
  }
  recovery_report report;
  EXPECT_TRUE(same_state(reload(dir, &report), expected));
  EXPECT_EQ(report.snapshot_file, dir / snapshot_file_name(25));
  EXPECT_EQ(report.records, 3u);  // the compacting ready's own records
  EXPECT_EQ(report.removed_files, 0u);
}

TEST(CheckpointTest, ReopenAfterCheckpointKeepsAppendingAcrossRolls) {
  temp_dir dir;
  paxos::durable_state expected;
  std::uint64_t checkpoint_index = 0;
  {
    wal_storage st{options(dir, 1024)};
    st.load();
    apply_both(st, expected, history(1, 40, 3));
    st.sync();
    checkpoint_index = st.log().next_index();
    apply_both(st, expected, compaction(expected, 30));
    st.sync();
    // The log no longer starts at record 0.
    ASSERT_EQ(st.log().segment_files(),
              (std::vector<std::string>{segment_file_name(checkpoint_index)}));
  }
  EXPECT_TRUE(same_state(reload(dir), expected));
  {
    wal_storage st{options(dir, 1024)};
    EXPECT_TRUE(same_state(st.load(), expected));
    for (paxos::slot_index slot = 71; slot <= 120; ++slot) {
      apply_both(st, expected, vote_ready(slot, 5, std::string(60, 'n')));
      if (slot % 9 == 0)
        st.sync();
    }
    st.sync();
    EXPECT_GT(st.log().segment_files().size(), 3u);
  }
  recovery_report report;
  EXPECT_TRUE(same_state(reload(dir, &report), expected));
  EXPECT_EQ(report.first_record, checkpoint_index);
  EXPECT_FALSE(report.truncated());
}

TEST(CheckpointTest, RecordsForSlotsTheSnapshotCoversAreIgnored) {
  temp_dir dir;
  paxos::durable_state expected;
  {
    wal_storage st{options(dir)};
    st.load();
    apply_both(st, expected, history(1, 20, 3));
    apply_both(st, expected, compaction(expected, 15));
    paxos::ready late;  // e.g. a catch-up reply that arrived after the snapshot
    late.chosen.push_back({10, make_value(1, 1, "late")});
    late.accepted.push_back({15, {{9, 9}, make_value(1, 2, "late vote")}});
    apply_both(st, expected, late);
    st.sync();
  }
  auto state = reload(dir);
  EXPECT_EQ(state.chosen.count(10), 0u);
  EXPECT_EQ(state.accepted.count(15), 0u);
  EXPECT_TRUE(same_state(state, without_covered(expected)));
}

TEST(CheckpointTest, RepeatedCheckpointsLeaveOneSnapshotAndTheSegmentsAfterIt) {
  temp_dir dir;
  paxos::durable_state expected;
  {
    wal_storage st{options(dir, 512)};
    st.load();
    for (int round = 1; round <= 5; ++round) {
      auto base = static_cast<paxos::slot_index>(round * 20);
      apply_both(st, expected, history(base - 19, base + 1, static_cast<std::uint64_t>(round)));
      st.sync();
      auto index = st.log().next_index();
      apply_both(st, expected, compaction(expected, base - 5));
      for (auto slot = base + 41; slot < base + 50; ++slot)
        apply_both(st, expected, vote_ready(slot, 9, std::string(80, 'x')));
      st.sync();
      EXPECT_EQ(st.log().snapshot_files(),
                (std::vector<std::string>{snapshot_file_name(base - 5)}));
      auto segments = st.log().segment_files();
      ASSERT_FALSE(segments.empty());
      EXPECT_EQ(segments.front(), segment_file_name(index));
      EXPECT_GT(segments.size(), 1u);  // the records after it rolled on
      auto files = listing(dir);
      segments.push_back(snapshot_file_name(base - 5));
      std::sort(segments.begin(), segments.end());
      EXPECT_EQ(files, segments) << "no temporary or obsolete file remains";
    }
  }
  wal_storage st{options(dir, 512)};
  EXPECT_TRUE(same_state(st.load(), expected));
}

TEST(CheckpointTest, SameSnapshotTwiceReplacesTheFile) {
  temp_dir dir;
  paxos::durable_state expected;
  {
    wal_storage st{options(dir)};
    st.load();
    apply_both(st, expected, history(1, 10, 3));
    paxos::ready first;
    first.compacted = compact(expected, make_snapshot(5, "first"));
    apply_both(st, expected, first);
    // No record in between: the second checkpoint reuses the empty segment.
    paxos::ready again;
    again.compacted = compact(expected, make_snapshot(5, "again"));
    apply_both(st, expected, again);
    st.sync();
    EXPECT_EQ(st.log().snapshot_files().size(), 1u);
    EXPECT_EQ(st.log().segment_files().size(), 1u);
  }
  EXPECT_TRUE(same_state(reload(dir), expected));
}

TEST(CheckpointTest, ACheckpointOnAnEmptyLogWorks) {
  temp_dir dir;
  paxos::durable_state expected;
  {
    wal_storage st{options(dir)};
    st.load();
    paxos::ready rd;
    paxos::durable_state installed;  // e.g. a snapshot installed from the leader
    installed.promised = {4, 2};
    rd.compacted = compact(installed, make_snapshot(100));
    apply_both(st, expected, rd);
    st.sync();
  }
  EXPECT_TRUE(same_state(reload(dir), expected));
  EXPECT_EQ(listing(dir),
            (std::vector<std::string>{snapshot_file_name(100), segment_file_name(0)}));
}

TEST(CheckpointTest, RefusesASnapshotBehindThePreviousOneOrNone) {
  temp_dir dir;
  paxos::durable_state expected;
  wal_storage st{options(dir)};
  st.load();
  apply_both(st, expected, history(1, 30, 3));
  apply_both(st, expected, compaction(expected, 20));
  paxos::ready older;
  older.compacted = compact(expected, make_snapshot(19));
  EXPECT_THROW(st.append(older), std::logic_error);
  paxos::ready none;
  none.compacted = paxos::durable_state{};
  EXPECT_THROW(st.append(none), std::invalid_argument);
}

/// The old state, a checkpoint that "crashes" after `at` (the hook throws),
/// and what a reopened log recovers.
struct crash_case {
  paxos::durable_state before;  ///< everything appended before the checkpoint
  paxos::durable_state after;   ///< the compacted state alone
  paxos::durable_state recovered;
  recovery_report report;
  std::uint64_t checkpoint_index = 0;
};

struct crash_signal {};

crash_case crash_during_checkpoint(const temp_dir& dir, checkpoint_step at, int nth,
                                   bool earlier_checkpoint) {
  crash_case c;
  auto opts = options(dir, 600);
  int seen = 0;
  opts.checkpoint_hook = [&](checkpoint_step s) {
    if (s == at && ++seen == nth)
      throw crash_signal{};
  };
  {
    wal_storage st{opts};
    st.load();
    apply_both(st, c.before, history(1, 30, 3));
    st.sync();
    if (earlier_checkpoint) {
      seen = -1000;  // not this one
      apply_both(st, c.before, compaction(c.before, 10));
      seen = 0;
      apply_both(st, c.before, history(31, 50, 4));
      st.sync();
    }
    // Appended but not synced: the checkpoint's first step syncs them.
    apply_both(st, c.before, vote_ready(60, 4, "unsynced before the checkpoint"));
    EXPECT_GT(st.log().segment_files().size(), 2u);
    c.checkpoint_index = st.log().next_index();
    auto rd = compaction(c.before, 25);
    c.after = *rd.compacted;
    EXPECT_THROW(st.append(rd), crash_signal);
    // The log refuses further use, like after an I/O error.
    EXPECT_THROW(st.sync(), storage_error);
  }
  paxos::durable_state expected;
  {
    wal_storage st{options(dir, 600)};
    c.recovered = st.load();
    c.report = st.last_recovery();
    // Whatever it recovered, the log goes on from there and reopens to it.
    expected = c.recovered;
    apply_both(st, expected, vote_ready(70, 6, "after the crash"));
    st.sync();
  }
  EXPECT_TRUE(same_state(reload(dir), expected));
  return c;
}

TEST(CheckpointCrashTest, BeforeTheRenameRecoversTheOldState) {
  for (bool earlier : {false, true}) {
    for (auto at : {checkpoint_step::segment_started, checkpoint_step::temp_written}) {
      SCOPED_TRACE("step " + std::to_string(static_cast<int>(at)) +
                   (earlier ? " after an earlier checkpoint" : ""));
      temp_dir dir;
      auto c = crash_during_checkpoint(dir, at, 1, earlier);
      EXPECT_TRUE(same_state(c.recovered, c.before));
      // The temporary file of the interrupted checkpoint is gone.
      for (auto& name : listing(dir))
        EXPECT_FALSE(is_snapshot_temp_file_name(name)) << name;
      EXPECT_EQ(c.report.removed_files, at == checkpoint_step::temp_written ? 1u : 0u);
    }
  }
}

TEST(CheckpointCrashTest, FromTheRenameOnRecoversTheNewState) {
  for (bool earlier : {false, true}) {
    for (auto [at, nth] :
         std::vector<std::pair<checkpoint_step, int>>{{checkpoint_step::renamed, 1},
                                                      {checkpoint_step::segment_dropped, 1},
                                                      {checkpoint_step::segment_dropped, 2},
                                                      {checkpoint_step::done, 1}}) {
      SCOPED_TRACE("step " + std::to_string(static_cast<int>(at)) + " #" + std::to_string(nth) +
                   (earlier ? " after an earlier checkpoint" : ""));
      temp_dir dir;
      auto c = crash_during_checkpoint(dir, at, nth, earlier);
      EXPECT_TRUE(same_state(c.recovered, c.after));
      EXPECT_EQ(c.report.first_record, c.checkpoint_index);
      // Recovery finished the cleanup: one snapshot, the segments after it.
      wal_storage st{options(dir, 600)};
      st.load();
      EXPECT_EQ(st.log().snapshot_files(), (std::vector<std::string>{snapshot_file_name(25)}));
      EXPECT_EQ(st.log().segment_files().front(), segment_file_name(c.checkpoint_index));
      if (at != checkpoint_step::done) {
        EXPECT_GT(c.report.removed_files, 0u);
      }
    }
  }
}

TEST(CheckpointCorruptionTest, DamagedSnapshotIsReportedWithFileAndOffset) {
  temp_dir dir;
  {
    wal_storage st{options(dir)};
    st.load();
    paxos::durable_state state;
    apply_both(st, state, history(1, 30, 3));
    apply_both(st, state, compaction(state, 25));
    st.sync();
  }
  auto path = dir / snapshot_file_name(25);
  auto good = read_bytes(path);
  flip_byte(path, 100);  // in the header (offset 24 on: after the magic and sizes)
  expect_storage_error([&] { reload(dir); }, {path, "offset 24", "CRC"});
  EXPECT_EQ(read_bytes(path).size(), good.size());  // left as it was, for the operator
  // Cut short: its name says it was once complete, so this is no torn write.
  write_bytes(path, good.substr(0, good.size() / 2));
  expect_storage_error([&] { reload(dir); }, {path, "offset 24"});
  // A good frame around a payload that is no checkpoint (the single-frame format).
  std::string junk(64, '\x11');
  write_bytes(path, snapshot_header(junk) + junk);
  expect_storage_error([&] { reload(dir); }, {path, "offset 8"});
  // Repaired, it loads again.
  write_bytes(path, good);
  EXPECT_NO_THROW(reload(dir));
}

TEST(CheckpointCorruptionTest, MissingSegmentAfterTheSnapshotIsReported) {
  temp_dir dir;
  std::vector<std::string> segments;
  {
    wal_storage st{options(dir, 512)};
    st.load();
    paxos::durable_state state;
    apply_both(st, state, history(1, 30, 3));
    apply_both(st, state, compaction(state, 25));
    for (paxos::slot_index slot = 30; slot < 60; ++slot)
      apply_both(st, state, vote_ready(slot, 5, std::string(80, 'm')));
    st.sync();
    segments = st.log().segment_files();
  }
  ASSERT_GE(segments.size(), 3u);
  std::filesystem::remove(dir / segments.front());
  expect_storage_error([&] { reload(dir); }, {dir / snapshot_file_name(25), "missing"});
}

TEST(CheckpointCorruptionTest, DamagedNewSnapshotFallsBackWhileTheOldLogStillCoversIt) {
  // A crash right after the rename leaves the old log whole; if the new
  // snapshot then turns out damaged, the old state (all its votes and
  // promises) is still there to start from.
  for (bool earlier : {false, true}) {
    SCOPED_TRACE(earlier ? "after an earlier checkpoint" : "no earlier checkpoint");
    temp_dir dir2;
    crash_case c2;
    auto opts = options(dir2, 600);
    bool armed = false;
    opts.checkpoint_hook = [&](checkpoint_step s) {
      if (armed && s == checkpoint_step::renamed)
        throw crash_signal{};
    };
    {
      wal_storage st{opts};
      st.load();
      apply_both(st, c2.before, history(1, 30, 3));
      if (earlier) {
        apply_both(st, c2.before, compaction(c2.before, 10));
        apply_both(st, c2.before, history(31, 50, 4));
      }
      st.sync();
      armed = true;
      EXPECT_THROW(st.append(compaction(c2.before, 25)), crash_signal);
    }
    auto path = dir2 / snapshot_file_name(25);
    flip_byte(path, 30);
    recovery_report report;
    EXPECT_TRUE(same_state(reload(dir2, &report), c2.before));
    EXPECT_EQ(report.corrupt_snapshot, path);
    EXPECT_NE(report.corrupt_reason.find("CRC"), std::string::npos) << report.corrupt_reason;
    EXPECT_NE(to_string(report).find(path), std::string::npos) << to_string(report);
    // Kept aside for the operator, and never read again.
    EXPECT_TRUE(std::filesystem::exists(path + std::string{snapshot_corrupt_suffix}));
    EXPECT_FALSE(std::filesystem::exists(path));
    recovery_report again;
    EXPECT_TRUE(same_state(reload(dir2, &again), c2.before));
    EXPECT_TRUE(again.corrupt_snapshot.empty());
  }
}

TEST(CheckpointCorruptionTest, DamagedSnapshotWithoutTheOldLogIsNotLeftOut) {
  temp_dir dir;
  {
    wal_storage st{options(dir, 512)};
    st.load();
    paxos::durable_state state;
    apply_both(st, state, history(1, 30, 3));
    apply_both(st, state, compaction(state, 10));
    apply_both(st, state, history(31, 40, 4));
    apply_both(st, state, compaction(state, 35));
    st.sync();
  }
  auto path = dir / snapshot_file_name(35);
  flip_byte(path, 30);
  expect_storage_error([&] { reload(dir); }, {path, "offset 24", "cannot be left out"});
  EXPECT_TRUE(std::filesystem::exists(path));
}

TEST(CheckpointCorruptionTest, TornTemporarySnapshotIsIgnoredAndRemoved) {
  temp_dir dir;
  paxos::durable_state expected;
  {
    wal_storage st{options(dir)};
    st.load();
    apply_both(st, expected, history(1, 10, 3));
    st.sync();
  }
  auto temp = dir / (snapshot_file_name(8) + std::string{snapshot_temp_suffix});
  write_bytes(temp, std::string("\x40\x00\x00\x00garbage", 11));
  recovery_report report;
  EXPECT_TRUE(same_state(reload(dir, &report), expected));
  EXPECT_EQ(report.removed_files, 1u);
  EXPECT_FALSE(std::filesystem::exists(temp));
}

TEST(CheckpointCorruptionTest, PlainReplayRefusesALogWithSnapshots) {
  temp_dir dir;
  {
    wal_storage st{options(dir)};
    st.load();
    paxos::durable_state state;
    apply_both(st, state, history(1, 10, 3));
    apply_both(st, state, compaction(state, 5));
    st.sync();
  }
  write_ahead_log log{options(dir)};
  expect_storage_error([&] { log.replay([](std::string_view, const record_position&) {}); },
                       {snapshot_file_name(5), "checkpoint handler"});
}

}  // namespace
