// Chunked snapshot files (issue 9: a state of several GiB on disk): the
// format read back through `snapshot_reader` over bytes in memory, damage in
// any piece found with its offset, and single-frame files still read.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include "runtime/wal/snapshot_file.hpp"
#include "runtime/wal/snapshot_reader.hpp"
#include "tests/support/random_bytes.hpp"

namespace {

using namespace ballot::wal;

using ballot::test_support::random_bytes;

/// A whole chunked file, framed as the log writes it.
std::string chunked_file(std::string_view header, std::string_view body, std::uint32_t chunk) {
  auto out = chunked_snapshot_start(header, body.size(), chunk);
  chunk_layout layout{body.size(), chunk, header.size()};
  for (std::uint64_t i = 0; i < layout.chunks(); ++i) {
    auto piece = body.substr(i * chunk, layout.chunk_length(i));
    out += chunk_frame_header(i, piece);
    out += piece;
  }
  return out;
}

/// A reader over `file`, as the log makes one over a file.
snapshot_reader reader_of(const std::string& file) {
  return snapshot_reader{[&file](std::uint64_t offset, char* dst, std::size_t n) {
                           if (offset >= file.size())
                             return std::size_t{0};
                           auto got = std::min<std::size_t>(n, file.size() - offset);
                           file.copy(dst, got, offset);
                           return got;
                         },
                         file.size()};
}

/// The body read back, or the damage found (opening or reading).
struct outcome {
  std::optional<std::string> body;
  std::uint64_t offset = 0;
  std::string reason;
};

outcome read_back(const std::string& file) {
  outcome out;
  try {
    auto reader = reader_of(file);
    std::string body(reader.body_size(), '\0');
    reader.read_body(body.data());
    out.body = std::move(body);
  } catch (const snapshot_damage& d) {
    out.offset = d.offset();
    out.reason = d.what();
  }
  return out;
}

TEST(SnapshotChunksTest, RoundTripsABodyOverManyChunks) {
  std::string header = "the checkpoint without the machine";
  for (std::size_t size :
       {std::size_t{0}, std::size_t{1}, std::size_t{64}, std::size_t{6400}, std::size_t{10007}}) {
    SCOPED_TRACE(size);
    auto body = random_bytes(size, 7);
    auto file = chunked_file(header, body, 64);
    chunk_layout layout{size, 64, header.size()};
    EXPECT_EQ(file.size(), layout.file_size());
    auto reader = reader_of(file);
    EXPECT_TRUE(reader.chunked());
    EXPECT_EQ(reader.header(), header);
    EXPECT_EQ(reader.body_size(), size);
    EXPECT_EQ(reader.layout().chunks(), (size + 63) / 64);
    auto back = read_back(file);
    ASSERT_TRUE(back.body) << back.reason;
    EXPECT_EQ(*back.body, body);
  }
}

TEST(SnapshotChunksTest, DamageInAMiddleChunkIsFoundWithItsOffset) {
  auto body = random_bytes(10000, 1);
  auto file = chunked_file("header", body, 100);
  chunk_layout layout{body.size(), 100, 6};
  ASSERT_EQ(layout.chunks(), 100u);
  auto bad = file;
  bad[layout.chunk_offset(50) + 8 + 37] ^= 0x10;  // a byte of chunk 50's data
  auto out = read_back(bad);
  EXPECT_FALSE(out.body);
  EXPECT_EQ(out.offset, layout.chunk_offset(50));
  EXPECT_NE(out.reason.find("chunk 50 of 100"), std::string::npos) << out.reason;
  EXPECT_NE(out.reason.find("CRC"), std::string::npos) << out.reason;
  // Its length field instead.
  bad = file;
  bad[layout.chunk_offset(50)] ^= 0x01;
  out = read_back(bad);
  EXPECT_EQ(out.offset, layout.chunk_offset(50));
  EXPECT_NE(out.reason.find("length field"), std::string::npos) << out.reason;
}

TEST(SnapshotChunksTest, ChunksInTheWrongPlaceAreDamage) {
  // Same sizes, each with a good CRC of its own bytes: only the index in the
  // CRC tells that chunks 3 and 4 were swapped.
  auto body = random_bytes(1000, 2);
  auto file = chunked_file("header", body, 100);
  chunk_layout layout{body.size(), 100, 6};
  auto frame = 8 + 100;
  auto swapped = file.substr(0, layout.chunk_offset(3)) +
                 file.substr(layout.chunk_offset(4), frame) +
                 file.substr(layout.chunk_offset(3), frame) + file.substr(layout.chunk_offset(5));
  ASSERT_EQ(swapped.size(), file.size());
  auto out = read_back(swapped);
  EXPECT_FALSE(out.body);
  EXPECT_EQ(out.offset, layout.chunk_offset(3));
}

TEST(SnapshotChunksTest, AMissingLastChunkIsFoundBeforeAnyIsRead) {
  auto body = random_bytes(1050, 3);
  auto file = chunked_file("header", body, 100);
  chunk_layout layout{body.size(), 100, 6};
  ASSERT_EQ(layout.chunks(), 11u);
  auto cut = file.substr(0, layout.chunk_offset(10));
  try {
    reader_of(cut);
    ADD_FAILURE() << "no damage found";
  } catch (const snapshot_damage& d) {
    EXPECT_EQ(d.offset(), layout.chunk_offset(10));
    EXPECT_NE(std::string{d.what()}.find("chunk 10 of 11 is missing"), std::string::npos)
      << d.what();
  }
  // Cut inside a middle chunk: that one is named.
  auto out = read_back(file.substr(0, layout.chunk_offset(4) + 20));
  EXPECT_EQ(out.offset, layout.chunk_offset(4));
  EXPECT_NE(out.reason.find("chunk 4 of 11"), std::string::npos) << out.reason;
}

TEST(SnapshotChunksTest, AWrongTotalIsDamage) {
  auto body = random_bytes(1000, 4);
  auto file = chunked_file("header", body, 100);
  // A size field flipped in place: its CRC no longer matches.
  auto bad = file;
  bad[9] ^= 0x01;
  auto out = read_back(bad);
  EXPECT_EQ(out.offset, 0u);
  EXPECT_NE(out.reason.find("CRC mismatch in the sizes"), std::string::npos) << out.reason;
  // Consistent sizes that claim more than the chunks hold.
  auto more = chunked_snapshot_start("header", body.size() + 1, 100) +
              file.substr(chunk_layout{body.size(), 100, 6}.chunk_offset(0));
  out = read_back(more);
  EXPECT_FALSE(out.body);
  EXPECT_NE(out.reason.find("missing or cut short"), std::string::npos) << out.reason;
  // Or less: bytes follow the last chunk.
  auto less = chunked_snapshot_start("header", body.size() - 100, 100) +
              file.substr(chunk_layout{body.size(), 100, 6}.chunk_offset(0));
  out = read_back(less);
  EXPECT_FALSE(out.body);
  EXPECT_EQ(out.offset, (chunk_layout{body.size() - 100, 100, 6}.file_size()));
  EXPECT_NE(out.reason.find("follow the last chunk"), std::string::npos) << out.reason;
  // And the last chunk, at its place, one byte short of what the sizes say.
  auto shorter = chunked_file("header", body.substr(0, 999), 100);
  auto lying = chunked_snapshot_start("header", 1000, 100) +
               shorter.substr(chunk_layout{999, 100, 6}.chunk_offset(0)) + "x";
  out = read_back(lying);
  EXPECT_FALSE(out.body);
  EXPECT_EQ(out.offset, (chunk_layout{1000, 100, 6}.chunk_offset(9)));
}

TEST(SnapshotChunksTest, DamageInTheHeaderIsFoundAtItsFrame) {
  auto file = chunked_file("a header of some length", random_bytes(500, 5), 100);
  auto bad = file;
  bad[chunked_prefix_size + 8 + 3] ^= 0x20;
  auto out = read_back(bad);
  EXPECT_EQ(out.offset, chunked_prefix_size);
  EXPECT_NE(out.reason.find("CRC mismatch in the header"), std::string::npos) << out.reason;
  // A length field past the end of the file.
  bad = file;
  bad[chunked_prefix_size + 3] = '\x7f';
  out = read_back(bad);
  EXPECT_EQ(out.offset, chunked_prefix_size);
  EXPECT_NE(out.reason.find("past the end"), std::string::npos) << out.reason;
}

TEST(SnapshotChunksTest, ASingleFrameFileIsStillRead) {
  // The format before chunks: the whole checkpoint in one frame, no body.
  std::string payload(64, 'p');
  auto file = snapshot_header(payload) + payload;
  auto reader = reader_of(file);
  EXPECT_FALSE(reader.chunked());
  EXPECT_EQ(reader.header(), payload);
  EXPECT_EQ(reader.body_size(), 0u);
  EXPECT_EQ(reader.header_offset(), 8u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(reader.header().data()) % 8, 0u);
  auto bad = file;
  bad[20] ^= 1;
  auto out = read_back(bad);
  EXPECT_EQ(out.offset, 0u);
  EXPECT_NE(out.reason.find("CRC"), std::string::npos) << out.reason;
  EXPECT_FALSE(is_chunked_snapshot(file));
}

}  // namespace
