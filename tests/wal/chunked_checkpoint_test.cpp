// Checkpoints whose state machine bytes span many chunks of a snapshot file
// (issue 9), through `wal_storage` with a tiny chunk size: written at once
// and in the background, reloaded, and damaged chunks treated exactly as a
// damaged snapshot file (reported with file and offset, or left out when an
// older checkpoint and the log still cover it).
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "actors/replica/storage.hpp"
#include "runtime/wal/codec.hpp"
#include "runtime/wal/snapshot_file.hpp"
#include "runtime/wal/snapshot_reader.hpp"
#include "runtime/wal/wal_storage.hpp"
#include "temp_dir.hpp"
#include "tests/support/random_bytes.hpp"
#include "wal_test_util.hpp"

namespace {

using namespace ballot;
using namespace ballot::wal;
using namespace ballot::wal::test;

constexpr std::uint32_t tiny_chunk = 1000;

struct crash_signal {};

using ballot::test_support::random_bytes;

wal_options tiny_chunks(const temp_dir& dir, std::uint64_t segment_size = 64 << 20) {
  auto opts = options(dir, segment_size);
  opts.snapshot_chunk_size = tiny_chunk;
  return opts;
}

paxos::ready history(paxos::slot_index from, paxos::slot_index to, std::uint64_t round) {
  paxos::ready rd;
  rd.promised = paxos::ballot_number{round, 2};
  for (auto slot = from; slot < to; ++slot) {
    rd.accepted.push_back({slot, {{round, 2}, make_value(3, slot, std::string(40, 'h'))}});
    if (slot + 2 < to)
      rd.chosen.push_back({slot, make_value(3, slot, "chosen " + std::to_string(slot))});
  }
  return rd;
}

/// A compaction at `last` whose machine is `machine`, with records on top.
paxos::ready compaction(const paxos::durable_state& state, paxos::slot_index last,
                        std::string machine) {
  paxos::ready rd;
  rd.compacted = compact(state, make_snapshot(last, std::move(machine)));
  rd.accepted.push_back({last + 40, {{state.promised.round + 1, 1}, make_value(1, 1, "after")}});
  return rd;
}

/// A state machine's frozen state: its bytes are made on first use, on the
/// storage's background thread, as the key/value store's are.
class frozen_string final : public paxos::frozen_state {
 public:
  explicit frozen_string(std::string bytes) : bytes_(std::move(bytes)) {}
  std::string encode() const override { return bytes_; }
  std::size_t size_hint() const override { return bytes_.size(); }

 private:
  std::string bytes_;
};

/// The layout of the snapshot file at `path`, as a reader finds it.
chunk_layout layout_of(const std::string& path) {
  auto file = read_bytes(path);
  snapshot_reader reader{[&file](std::uint64_t offset, char* dst, std::size_t n) {
                           auto got = offset >= file.size()
                                        ? std::size_t{0}
                                        : std::min<std::size_t>(n, file.size() - offset);
                           file.copy(dst, got, offset);
                           return got;
                         },
                         file.size()};
  EXPECT_TRUE(reader.chunked());
  return reader.layout();
}

/// A log in `dir` holding a checkpoint at 25 whose machine spans >= 100 chunks.
paxos::durable_state write_large_checkpoint(const temp_dir& dir) {
  paxos::durable_state expected;
  wal_storage st{tiny_chunks(dir)};
  st.load();
  auto h = history(1, 30, 3);
  h.persist_to(expected);
  st.append(h);
  auto rd = compaction(expected, 25, random_bytes(100 * tiny_chunk + 123, 9));
  rd.persist_to(expected);
  st.append(rd);
  st.sync();
  return without_covered(expected);
}

TEST(ChunkedCheckpointTest, AMachineOfManyChunksRoundTrips) {
  temp_dir dir;
  auto expected = write_large_checkpoint(dir);
  auto path = dir / snapshot_file_name(25);
  auto layout = layout_of(path);
  EXPECT_EQ(layout.chunk_size, tiny_chunk);
  EXPECT_EQ(layout.body_size, 100 * tiny_chunk + 123 + 2);  // make_snapshot adds 2 bytes
  EXPECT_EQ(layout.chunks(), 101u);
  EXPECT_EQ(std::filesystem::file_size(path), layout.file_size());
  // Read back by a log with the default chunk size: the file says its own.
  recovery_report report;
  EXPECT_TRUE(same_state(reload(dir, &report), expected));
  EXPECT_EQ(report.snapshot_file, path);
}

TEST(ChunkedCheckpointTest, ABackgroundCheckpointEncodesAFrozenMachineIntoChunks) {
  temp_dir dir;
  paxos::durable_state expected;
  auto machine = random_bytes(50 * tiny_chunk + 7, 11);
  {
    wal_storage st{tiny_chunks(dir, 4096)};
    st.load();
    auto h = history(1, 40, 3);
    h.persist_to(expected);
    st.append(h);
    st.sync();
    paxos::ready rd;
    auto snap = make_snapshot(30);
    snap.machine = paxos::machine_image(std::make_shared<frozen_string>(machine));
    rd.compacted = compact(expected, std::move(snap));
    rd.compacted_locally = true;
    rd.accepted.push_back({70, {{3, 2}, make_value(1, 1, "after")}});
    rd.persist_to(expected);
    st.append_owned(rd);
    auto res = st.finish_checkpoint(true);
    EXPECT_EQ(res.what, checkpoint_result::outcome::committed);
    EXPECT_GT(res.bytes, machine.size());
    for (paxos::slot_index slot = 80; slot < 90; ++slot) {
      auto v = vote_ready(slot, 4);
      v.persist_to(expected);
      st.append(v);
    }
    st.sync();
  }
  EXPECT_EQ(layout_of(dir / snapshot_file_name(30)).chunks(), 51u);
  auto back = reload(dir);
  EXPECT_TRUE(same_state(back, without_covered(expected)));
  ASSERT_TRUE(back.snap);
  EXPECT_EQ(back.snap->machine.bytes(), machine);
}

/// A frozen state that makes its bytes in small pieces, as the key/value
/// store's does, with a size hint that may be off; counts whole encodes.
class piecewise_state final : public paxos::frozen_state {
 public:
  piecewise_state(std::string bytes, std::size_t hint) : bytes_(std::move(bytes)), hint_(hint) {}
  std::string encode() const override {
    ++whole_encodes;
    return bytes_;
  }
  void encode_to(const byte_sink& sink) const override {
    for (std::size_t at = 0; at < bytes_.size(); at += 333)
      sink(std::string_view{bytes_}.substr(at, 333));
  }
  std::size_t size_hint() const override { return hint_; }
  mutable int whole_encodes = 0;

 private:
  std::string bytes_;
  std::size_t hint_;
};

TEST(ChunkedCheckpointTest, ABackgroundCheckpointWritesTheMachineAsItIsMadeAndKeepsNoCopy) {
  auto machine = random_bytes(20 * tiny_chunk + 5, 12);
  for (std::size_t hint : {machine.size(), machine.size() / 2, machine.size() * 3}) {
    temp_dir dir;
    auto state = std::make_shared<piecewise_state>(machine, hint);
    paxos::machine_image image{state};
    {
      wal_storage st{tiny_chunks(dir, 4096)};
      st.load();
      paxos::durable_state expected;
      auto h = history(1, 40, 3);
      h.persist_to(expected);
      st.append(h);
      paxos::ready rd;
      auto snap = make_snapshot(30);
      snap.machine = image;
      rd.compacted = compact(expected, std::move(snap));
      rd.compacted_locally = true;
      st.append_owned(rd);
      auto res = st.finish_checkpoint(true);
      EXPECT_EQ(res.what, checkpoint_result::outcome::committed);
      EXPECT_GT(res.bytes, machine.size());
      EXPECT_LT(res.bytes, machine.size() + 4096);
    }
    // Never made whole, and not kept: the image is as it was frozen.
    EXPECT_EQ(state->whole_encodes, 0);
    EXPECT_FALSE(image.encoded());
    auto layout = layout_of(dir / snapshot_file_name(30));
    EXPECT_EQ(layout.body_size, machine.size()) << "hint " << hint;
    EXPECT_EQ(std::filesystem::file_size(dir / snapshot_file_name(30)), layout.file_size());
    auto back = reload(dir);
    ASSERT_TRUE(back.snap);
    EXPECT_EQ(back.snap->machine.bytes(), machine) << "hint " << hint;
  }
}

TEST(ChunkedCheckpointTest, ADamagedMiddleChunkIsReportedWithFileAndOffset) {
  temp_dir dir;
  write_large_checkpoint(dir);
  auto path = dir / snapshot_file_name(25);
  auto layout = layout_of(path);
  auto good = read_bytes(path);
  flip_byte(path, layout.chunk_offset(50) + 8 + 500);
  expect_storage_error(
    [&] { reload(dir); },
    {path, "offset " + std::to_string(layout.chunk_offset(50)), "chunk 50 of 101", "CRC"});
  EXPECT_EQ(read_bytes(path), [&] {
    auto b = good;
    b[layout.chunk_offset(50) + 8 + 500] ^= 0x5A;
    return b;
  }());  // left as it was, for the operator
  write_bytes(path, good);
  EXPECT_NO_THROW(reload(dir));
}

TEST(ChunkedCheckpointTest, AMissingLastChunkIsReported) {
  temp_dir dir;
  write_large_checkpoint(dir);
  auto path = dir / snapshot_file_name(25);
  auto layout = layout_of(path);
  std::filesystem::resize_file(path, layout.chunk_offset(100));
  expect_storage_error(
    [&] { reload(dir); },
    {path, "offset " + std::to_string(layout.chunk_offset(100)), "chunk 100 of 101 is missing"});
}

TEST(ChunkedCheckpointTest, ADamagedChunkFallsBackWhileTheOldLogStillCoversIt) {
  // As a damaged snapshot file does: a crash right after the rename leaves
  // the old log whole, so the damaged new checkpoint can be left out.
  temp_dir dir;
  paxos::durable_state before;
  auto opts = tiny_chunks(dir, 600);
  bool armed = false;
  opts.checkpoint_hook = [&](checkpoint_step s) {
    if (armed && s == checkpoint_step::renamed)
      throw crash_signal{};
  };
  {
    wal_storage st{opts};
    st.load();
    auto h = history(1, 30, 3);
    h.persist_to(before);
    st.append(h);
    st.sync();
    armed = true;
    EXPECT_THROW(st.append(compaction(before, 25, random_bytes(20 * tiny_chunk, 3))), crash_signal);
  }
  auto path = dir / snapshot_file_name(25);
  auto layout = layout_of(path);
  flip_byte(path, layout.chunk_offset(10) + 9);
  recovery_report report;
  EXPECT_TRUE(same_state(reload(dir, &report), before));
  EXPECT_EQ(report.corrupt_snapshot, path);
  EXPECT_NE(report.corrupt_reason.find("chunk 10 of 21"), std::string::npos)
    << report.corrupt_reason;
  EXPECT_TRUE(std::filesystem::exists(path + std::string{snapshot_corrupt_suffix}));
}

TEST(ChunkedCheckpointTest, ASingleFrameFileFromBeforeChunksIsRead) {
  temp_dir dir;
  auto expected = write_large_checkpoint(dir);
  // Rewrite the file as the format before chunks held it: the whole
  // checkpoint, machine included, in one frame.
  auto path = dir / snapshot_file_name(25);
  auto file = read_bytes(path);
  snapshot_reader reader{[&file](std::uint64_t offset, char* dst, std::size_t n) {
                           auto got = std::min<std::size_t>(n, file.size() - offset);
                           file.copy(dst, got, offset);
                           return got;
                         },
                         file.size()};
  auto cp = decode_checkpoint(reader.header());
  std::string machine(reader.body_size(), '\0');
  reader.read_body(machine.data());
  cp.state.snap->machine = machine;
  std::string payload;
  encode_checkpoint(cp.state, cp.next_record, payload);
  write_bytes(path, snapshot_header(payload) + payload);
  EXPECT_FALSE(is_chunked_snapshot(read_bytes(path)));
  EXPECT_TRUE(same_state(reload(dir), expected));
}

}  // namespace
