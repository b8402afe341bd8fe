// A chunked snapshot file written as its body is made, in pieces of any size
// (issue 9): the same file the one-string path writes when the size hint is
// exact, a file the reader takes whole when it is not.
#include <gtest/gtest.h>

#include <random>
#include <stdexcept>
#include <string>

#include "runtime/wal/snapshot_reader.hpp"
#include "runtime/wal/snapshot_writer.hpp"
#include "tests/support/random_bytes.hpp"

namespace {

using namespace ballot::wal;

using ballot::test_support::random_bytes;

/// A file in memory: writes at any offset, growing it.
struct memory_file {
  std::string bytes;
  int writes = 0;
  snapshot_writer::write_fn writer() {
    return [this](std::uint64_t offset, std::string_view data) {
      ++writes;
      if (bytes.size() < offset + data.size())
        bytes.resize(offset + data.size());
      bytes.replace(offset, data.size(), data);
    };
  }
};

/// Writes `body` cut into pieces of 1, 2, 3, ... bytes (wrapping at 97).
std::string write_in_pieces(const std::string& header, const std::string& body, std::uint64_t hint,
                            std::uint32_t chunk) {
  memory_file file;
  snapshot_writer w{file.writer(), header, hint, chunk};
  std::size_t at = 0;
  for (std::size_t n = 1; at < body.size(); n = n % 97 + 1) {
    auto take = std::min(n, body.size() - at);
    w.append(std::string_view{body}.substr(at, take));
    at += take;
  }
  EXPECT_EQ(w.finish(), body.size());
  EXPECT_EQ(file.bytes.size(), w.layout().file_size());
  return file.bytes;
}

/// The file as the one-string path lays it out (wal.cpp write_snapshot).
std::string laid_out(const std::string& header, const std::string& body, std::uint32_t chunk) {
  chunk_layout layout{body.size(), chunk, header.size()};
  auto out = chunked_snapshot_start(header, body.size(), chunk);
  for (std::uint64_t i = 0; i < layout.chunks(); ++i) {
    auto piece = std::string_view{body}.substr(i * chunk, layout.chunk_length(i));
    out += chunk_frame_header(i, piece);
    out += piece;
  }
  return out;
}

/// The header and body a reader finds in `file`.
std::pair<std::string, std::string> read_back(const std::string& file) {
  snapshot_reader reader{[&file](std::uint64_t offset, char* dst, std::size_t n) {
                           auto got = offset >= file.size()
                                        ? std::size_t{0}
                                        : std::min<std::size_t>(n, file.size() - offset);
                           file.copy(dst, got, offset);
                           return got;
                         },
                         file.size()};
  EXPECT_TRUE(reader.chunked());
  std::string body(static_cast<std::size_t>(reader.body_size()), '\0');
  reader.read_body(body.data());
  return {std::string{reader.header()}, body};
}

TEST(SnapshotWriterTest, AnExactHintWritesTheSameFileAsOneString) {
  std::string header = "the checkpoint's header";
  auto body = random_bytes(10 * 1000 + 321, 1);
  auto file = write_in_pieces(header, body, body.size(), 1000);
  EXPECT_EQ(file, laid_out(header, body, 1000));
  auto [h, b] = read_back(file);
  EXPECT_EQ(h, header);
  EXPECT_EQ(b, body);
}

TEST(SnapshotWriterTest, AWrongHintStillGivesAFileOfTheBodyItGot) {
  std::string header = "hdr";
  auto body = random_bytes(5 * 1000 + 1, 2);
  for (std::uint64_t hint : {std::uint64_t{0}, std::uint64_t{1000}, std::uint64_t{5000},
                             std::uint64_t{5002}, std::uint64_t{1} << 40}) {
    auto file = write_in_pieces(header, body, hint, 1000);
    EXPECT_EQ(file, laid_out(header, body, 1000)) << "hint " << hint;
    EXPECT_EQ(read_back(file).second, body) << "hint " << hint;
  }
}

TEST(SnapshotWriterTest, AnEmptyBodyHasNoChunks) {
  memory_file file;
  snapshot_writer w{file.writer(), "h", 7, 1000};
  EXPECT_EQ(w.finish(), 0u);
  EXPECT_EQ(w.layout().chunks(), 0u);
  EXPECT_EQ(file.bytes, laid_out("h", "", 1000));
  EXPECT_EQ(read_back(file.bytes).second, "");
}

TEST(SnapshotWriterTest, HoldsOneChunkAndWritesEachAsItFills) {
  memory_file file;
  snapshot_writer w{file.writer(), "h", 3500, 1000};
  auto start = file.writes;
  w.append(random_bytes(999, 3));
  EXPECT_EQ(file.writes, start);  // the chunk is not full yet
  w.append("x");
  EXPECT_EQ(file.writes, start + 2);  // its frame header and its bytes
  w.append(random_bytes(2500, 4));
  EXPECT_EQ(file.writes, start + 6);
  w.finish();
  EXPECT_EQ(file.writes, start + 8);
}

TEST(SnapshotWriterTest, AFailedWriteStopsTheWriter) {
  int calls = 0;
  snapshot_writer w{[&](std::uint64_t, std::string_view) {
                      if (++calls > 2)
                        throw std::runtime_error("disk gone");
                    },
                    "h", 5000, 1000};
  EXPECT_THROW(w.append(random_bytes(3000, 5)), std::runtime_error);
}

}  // namespace
