// The log through `wal_storage`: persistence across reopen, group commit,
// segment rolling, recovery of torn tails, and refusal of corruption.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "actors/replica/storage.hpp"
#include "runtime/wal/codec.hpp"
#include "runtime/wal/wal_storage.hpp"
#include "temp_dir.hpp"
#include "wal_test_util.hpp"

namespace {

using namespace ballot;
using namespace ballot::wal;
using namespace ballot::wal::test;
using actors::storage_error;

const std::string first_segment = segment_file_name(0);

TEST(WalStorageTest, NewDirectoryLoadsEmptyState) {
  temp_dir dir;
  wal_storage st{options(dir)};
  EXPECT_TRUE(same_state(st.load(), paxos::durable_state{}));
  EXPECT_EQ(st.last_recovery().segments, 0u);
  st.sync();  // nothing appended: nothing to do
}

TEST(WalStorageTest, CreatesMissingDirectories) {
  temp_dir dir;
  wal_options opts;
  opts.dir = dir / "a/b/c";
  wal_storage st{opts};
  st.load();
  st.append(vote_ready(1, 1));
  st.sync();
  EXPECT_TRUE(std::filesystem::exists(dir / ("a/b/c/" + first_segment)));
}

TEST(WalStorageTest, RoundTripsEveryRecordKind) {
  temp_dir dir;
  paxos::ready rd;
  rd.promised = paxos::ballot_number{3, 2};
  rd.accepted.push_back({5, {{3, 2}, make_value(1, 1, std::string("bin\0ary\xff", 8))}});
  rd.accepted.push_back({6, {{3, 2}, paxos::value{}}});  // a no-op
  rd.chosen.push_back({4, make_value(2, 9, "chosen")});
  paxos::durable_state expected;
  rd.persist_to(expected);
  {
    wal_storage st{options(dir)};
    st.load();
    st.append(rd);
    st.sync();
  }
  EXPECT_TRUE(same_state(reload(dir), expected));
}

TEST(WalStorageTest, ManyAppendsThenOneSync) {
  temp_dir dir;
  paxos::durable_state expected;
  {
    wal_storage st{options(dir)};
    st.load();
    for (paxos::slot_index slot = 1; slot <= 1000; ++slot) {
      auto rd = vote_ready(slot, 1 + slot % 3, std::string(100, 'x'));
      rd.persist_to(expected);
      st.append(rd);
    }
    st.sync();
    EXPECT_EQ(st.log().next_index(), 1000u);
  }
  recovery_report report;
  EXPECT_TRUE(same_state(reload(dir, &report), expected));
  EXPECT_EQ(report.records, 1000u);
  EXPECT_FALSE(report.truncated());
}

TEST(WalStorageTest, ReopenReplaysIdenticalStateAndKeepsAppending) {
  temp_dir dir;
  paxos::durable_state expected;
  auto apply_both = [&](wal_storage& st, const paxos::ready& rd) {
    rd.persist_to(expected);
    st.append(rd);
  };
  {
    wal_storage st{options(dir)};
    st.load();
    paxos::ready a;
    a.promised = paxos::ballot_number{1, 1};
    apply_both(st, a);
    apply_both(st, vote_ready(1, 1, "one"));
    apply_both(st, vote_ready(2, 1, "two"));
    st.sync();
  }
  EXPECT_TRUE(same_state(reload(dir), expected));
  {
    wal_storage st{options(dir)};
    EXPECT_TRUE(same_state(st.load(), expected));
    paxos::ready b;
    b.promised = paxos::ballot_number{2, 3};
    b.accepted.push_back({1, {{2, 3}, make_value(9, 9, "overwrites one")}});
    b.chosen.push_back({1, make_value(9, 9, "overwrites one")});
    apply_both(st, b);
    st.sync();
    EXPECT_TRUE(same_state(st.load(), expected));  // a later load reads it all back
  }
  EXPECT_TRUE(same_state(reload(dir), expected));
}

TEST(WalStorageTest, RollsSegmentsAndReplaysAcrossThem) {
  temp_dir dir;
  const std::uint64_t limit = 1024;
  paxos::durable_state expected;
  std::vector<std::string> files;
  {
    wal_storage st{options(dir, limit)};
    st.load();
    for (paxos::slot_index slot = 1; slot <= 200; ++slot) {
      auto rd = vote_ready(slot, 1, std::string(50 + slot % 40, 'v'));
      rd.persist_to(expected);
      st.append(rd);
      if (slot % 7 == 0)
        st.sync();
    }
    st.sync();
    files = st.log().segment_files();
  }
  ASSERT_GT(files.size(), 10u);
  // Names are the index of each segment's first record: consecutive ranges.
  std::uint64_t index = 0;
  for (auto& name : files) {
    EXPECT_EQ(parse_segment_file_name(name), index) << name;
    auto size = file_size(dir / name);
    EXPECT_LE(size, limit) << name;
    std::uint64_t records = 0;
    scan_frames(read_bytes(dir / name), [&](std::uint64_t, std::string_view) { ++records; });
    index += records;
  }
  EXPECT_EQ(index, 200u);
  recovery_report report;
  wal_storage st{options(dir, limit)};
  EXPECT_TRUE(same_state(st.load(), expected));
  EXPECT_EQ(st.last_recovery().segments, files.size());
  // Appending continues in the last segment, then rolls on.
  for (paxos::slot_index slot = 201; slot <= 260; ++slot) {
    auto rd = vote_ready(slot, 2, std::string(60, 'w'));
    rd.persist_to(expected);
    st.append(rd);
  }
  st.sync();
  EXPECT_GT(st.log().segment_files().size(), files.size());
  EXPECT_TRUE(same_state(st.load(), expected));
}

TEST(WalStorageTest, RecordLargerThanASegmentGetsOneOfItsOwn) {
  temp_dir dir;
  paxos::durable_state expected;
  {
    wal_storage st{options(dir, 256)};
    st.load();
    for (const auto& rd : {vote_ready(1, 1, "small"), vote_ready(2, 1, std::string(5000, 'L')),
                           vote_ready(3, 1, "small")}) {
      rd.persist_to(expected);
      st.append(rd);
    }
    st.sync();
    EXPECT_EQ(st.log().segment_files().size(), 3u);
  }
  wal_storage st{options(dir, 256)};
  EXPECT_TRUE(same_state(st.load(), expected));
}

/// Writes `n` one-vote readies, each synced; returns the segment size after each.
std::vector<std::uint64_t> write_synced_votes(const temp_dir& dir, int n,
                                              std::vector<paxos::durable_state>* states) {
  std::vector<std::uint64_t> ends;
  paxos::durable_state state;
  wal_storage st{options(dir)};
  st.load();
  for (int i = 1; i <= n; ++i) {
    auto rd =
      vote_ready(static_cast<paxos::slot_index>(i), 1, std::string(40, static_cast<char>('a' + i)));
    rd.persist_to(state);
    st.append(rd);
    st.sync();
    ends.push_back(file_size(dir / first_segment));
    if (states != nullptr)
      states->push_back(state);
  }
  return ends;
}

/// Reopens the log in `dir` and appends one synced vote for `slot`, also to `expected`.
void append_vote(const temp_dir& dir, paxos::slot_index slot, const std::string& what,
                 paxos::durable_state& expected) {
  wal_storage st{options(dir)};
  st.load();
  auto rd = vote_ready(slot, 2, what);
  rd.persist_to(expected);
  st.append(rd);
  st.sync();
}

TEST(WalRecoveryTest, TornLastRecordIsCutAtEveryOffset) {
  temp_dir probe;
  auto ends = write_synced_votes(probe, 3, nullptr);
  // The third record spans [ends[1], ends[2] - its sync mark); a cut inside
  // the mark leaves the whole record (a test below).
  auto start = ends[1];
  std::vector<std::uint64_t> cuts;
  for (std::uint64_t c = start + 1; c < ends[2] - sync_mark_size; ++c)
    cuts.push_back(c);
  for (auto cut : cuts) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    temp_dir dir;
    std::vector<paxos::durable_state> states;
    write_synced_votes(dir, 3, &states);
    std::filesystem::resize_file(dir / first_segment, cut);
    recovery_report report;
    EXPECT_TRUE(same_state(reload(dir, &report), states[1]));
    EXPECT_TRUE(report.truncated());
    EXPECT_EQ(report.truncated_bytes, cut - start);
    EXPECT_EQ(report.truncated_at, start);
    EXPECT_EQ(file_size(dir / first_segment), start);
    // The log goes on from the cut.
    auto expected = states[1];
    append_vote(dir, 9, "after the cut", expected);
    EXPECT_TRUE(same_state(reload(dir, &report), expected));
    EXPECT_FALSE(report.truncated());
  }
}

TEST(WalRecoveryTest, TrailingZeroBytesAreUnusedSpaceTheLogWritesOver) {
  // What a log allocated ahead of its writes (or a crash left unwritten,
  // which held nothing synced): neither cut nor reported as a torn write.
  temp_dir dir;
  std::vector<paxos::durable_state> states;
  auto ends = write_synced_votes(dir, 3, &states);
  write_bytes(dir / first_segment, read_bytes(dir / first_segment) + std::string(4096, '\0'));
  recovery_report report;
  EXPECT_TRUE(same_state(reload(dir, &report), states[2]));
  EXPECT_FALSE(report.truncated());
  EXPECT_EQ(file_size(dir / first_segment), ends[2] + 4096);
  auto expected = states[2];
  append_vote(dir, 9, "over the zeros", expected);
  EXPECT_TRUE(same_state(reload(dir, &report), expected));
  EXPECT_FALSE(report.truncated());
  auto bytes = read_bytes(dir / first_segment);
  EXPECT_EQ(bytes.size(), ends[2] + 4096);  // written over, not appended after
  EXPECT_GT(scan_frames(bytes, [](std::uint64_t, std::string_view) {}).valid_size, ends[2]);
}

TEST(WalRecoveryTest, PartialHeaderIsCut) {
  temp_dir dir;
  std::vector<paxos::durable_state> states;
  auto ends = write_synced_votes(dir, 2, &states);
  write_bytes(dir / first_segment,
              read_bytes(dir / first_segment) + std::string("\x30\x00\x01", 3));
  recovery_report report;
  EXPECT_TRUE(same_state(reload(dir, &report), states[1]));
  EXPECT_EQ(report.truncated_bytes, 3u);
  EXPECT_EQ(file_size(dir / first_segment), ends[1]);
}

TEST(WalRecoveryTest, ZeroFilledLastRecordIsCut) {
  // Size extended but the data blocks never written: what a crash leaves.
  temp_dir dir;
  std::vector<paxos::durable_state> states;
  auto ends = write_synced_votes(dir, 3, &states);
  auto bytes = read_bytes(dir / first_segment);
  std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(ends[1]) + 8, bytes.end(), '\0');
  write_bytes(dir / first_segment, bytes);
  EXPECT_TRUE(same_state(reload(dir), states[1]));
  EXPECT_EQ(file_size(dir / first_segment), ends[1]);
}

TEST(WalRecoveryTest, FlippedByteMidSegmentNamesFileAndOffset) {
  temp_dir dir;
  auto ends = write_synced_votes(dir, 5, nullptr);
  flip_byte(dir / first_segment, ends[1] + 20);  // inside the third record
  auto size = file_size(dir / first_segment);
  expect_storage_error([&] { reload(dir); },
                       {dir / first_segment, "offset " + std::to_string(ends[1]), "CRC"});
  EXPECT_EQ(file_size(dir / first_segment), size);  // nothing was cut
}

TEST(WalRecoveryTest, FlippedLengthFieldMidSegmentIsCorruption) {
  temp_dir dir;
  auto ends = write_synced_votes(dir, 5, nullptr);
  flip_byte(dir / first_segment, ends[1] + 2);  // the third record's length now runs past the end
  expect_storage_error([&] { reload(dir); },
                       {dir / first_segment, "offset " + std::to_string(ends[1])});
}

TEST(WalRecoveryTest, FlippedByteInTheLastRecordIsCorruptionThanksToItsSyncMark) {
  // Before sync marks this read as a torn write and was cut silently: a
  // synced, acknowledged vote gone. Its batch's mark follows it now.
  temp_dir dir;
  auto ends = write_synced_votes(dir, 3, nullptr);
  flip_byte(dir / first_segment, ends[2] - sync_mark_size - 1);
  expect_storage_error([&] { reload(dir); }, {first_segment, "corrupt record"});
}

TEST(WalRecoveryTest, ADamagedOrCutLastSyncMarkLosesNoRecord) {
  for (bool flip : {true, false}) {
    SCOPED_TRACE(flip ? "flipped" : "cut");
    temp_dir dir;
    std::vector<paxos::durable_state> states;
    auto ends = write_synced_votes(dir, 3, &states);
    if (flip)
      flip_byte(dir / first_segment, ends[2] - 1);
    else
      std::filesystem::resize_file(dir / first_segment, ends[2] - 3);
    recovery_report report;
    EXPECT_TRUE(same_state(reload(dir, &report), states[2]));
    EXPECT_TRUE(report.truncated());
    EXPECT_EQ(report.truncated_at, ends[2] - sync_mark_size);
  }
}

std::vector<std::string> write_many_segments(const temp_dir& dir) {
  wal_storage st{options(dir, 512)};
  st.load();
  for (paxos::slot_index slot = 1; slot <= 40; ++slot) {
    st.append(vote_ready(slot, 1, std::string(60, 's')));
    st.sync();
  }
  return st.log().segment_files();
}

TEST(WalRecoveryTest, DamageInAnOlderSegmentIsCorruptionEvenAtItsEnd) {
  temp_dir dir;
  auto files = write_many_segments(dir);
  ASSERT_GE(files.size(), 3u);
  auto older = dir / files[1];
  auto size = file_size(older);
  flip_byte(older, size - 1);  // its last record: torn-looking, but synced before the roll
  expect_storage_error([&] { reload(dir); }, {older, "not the last segment"});
  std::filesystem::resize_file(older, size - 5);
  expect_storage_error([&] { reload(dir); }, {older});
}

TEST(WalRecoveryTest, MissingSegmentIsCorruption) {
  temp_dir dir;
  auto files = write_many_segments(dir);
  ASSERT_GE(files.size(), 3u);
  std::filesystem::remove(dir / files[1]);
  expect_storage_error([&] { reload(dir); }, {dir / files[2], "missing"});
}

TEST(WalRecoveryTest, UndecodableRecordWithGoodCrcNamesFileAndOffset) {
  temp_dir dir;
  auto ends = write_synced_votes(dir, 2, nullptr);
  std::string junk;
  append_frame(junk, std::string(24, '\x11'));  // a good frame around a bad payload
  auto bytes = read_bytes(dir / first_segment);
  write_bytes(dir / first_segment, bytes + junk + bytes.substr(0, ends[0]));
  expect_storage_error([&] { reload(dir); },
                       {dir / first_segment, "offset " + std::to_string(ends[1])});
}

TEST(WalOpenTest, PathUnderARegularFileIsAStorageError) {
  temp_dir dir;
  write_bytes(dir / "file", "not a directory");
  wal_options opts;
  opts.dir = dir / "file/data";
  expect_storage_error([&] { wal_storage st{opts}; }, {opts.dir, "Not a directory"});
  opts.dir = dir / "file";
  expect_storage_error([&] { wal_storage st{opts}; }, {opts.dir});
}

TEST(WalOpenTest, SecondLogOnTheSameDirectoryIsRefused) {
  temp_dir dir;
  wal_storage first{options(dir)};
  expect_storage_error([&] { wal_storage second{options(dir)}; }, {dir.path(), "lock"});
}

TEST(WalOpenTest, AppendBeforeLoadIsALogicError) {
  temp_dir dir;
  wal_storage st{options(dir)};
  EXPECT_THROW(st.append(vote_ready(1, 1)), std::logic_error);
}

TEST(WalCompactionTest, DropsWholeSegmentsBelowAnIndexOnly) {
  temp_dir dir;
  auto files = write_many_segments(dir);
  ASSERT_GE(files.size(), 4u);
  auto third_first = *parse_segment_file_name(files[2]);
  {
    wal_storage st{options(dir, 512)};
    st.load();
    EXPECT_EQ(st.log().drop_segments_before(third_first - 1), 1u);  // files[1] still needed
    EXPECT_EQ(st.log().drop_segments_before(third_first), 1u);
    EXPECT_EQ(st.log().segment_files().front(), files[2]);
    EXPECT_EQ(st.log().drop_segments_before(~0ull), files.size() - 3);  // never the last
    EXPECT_EQ(st.log().segment_files().size(), 1u);
  }
  recovery_report report;
  auto state = reload(dir, &report);
  EXPECT_EQ(report.segments, 1u);
  EXPECT_FALSE(state.accepted.empty());
  EXPECT_EQ(state.accepted.begin()->first, *parse_segment_file_name(files.back()) + 1);
}

}  // namespace

namespace {

TEST(WalLogTest, RefusesEmptyAndOversizedRecords) {
  temp_dir dir;
  {
    write_ahead_log log{options(dir)};
    log.replay([](std::string_view, const record_position&) {});
    expect_storage_error([&] { log.append(""); }, {dir.path(), "0 bytes"});
    expect_storage_error([&] { log.append(std::string(max_record_size + 1, 'x')); },
                         {std::to_string(max_record_size + 1)});
    log.append("small");
    log.append(std::string(max_record_size, 'x'));  // the largest allowed
    log.sync();
  }
  write_ahead_log log{options(dir)};
  std::vector<std::size_t> sizes;
  log.replay(
    [&](std::string_view payload, const record_position&) { sizes.push_back(payload.size()); });
  EXPECT_EQ(sizes, (std::vector<std::size_t>{5, max_record_size}));
}

}  // namespace
