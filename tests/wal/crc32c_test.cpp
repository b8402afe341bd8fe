// CRC32C against published vectors (RFC 3720, B.4) and a bit-at-a-time reference.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

#include "runtime/wal/crc32c.hpp"

namespace {

using ballot::wal::crc32c;

/// The definition, one bit at a time: slow, obviously right.
std::uint32_t reference_crc32c(const std::string& data) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : data) {
    crc ^= c;
    for (int i = 0; i < 8; ++i)
      crc = (crc >> 1) ^ ((crc & 1u) ? 0x82F63B78u : 0u);
  }
  return ~crc;
}

TEST(Crc32cTest, CheckValue) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
}

TEST(Crc32cTest, EmptyInputIsZero) {
  EXPECT_EQ(crc32c(""), 0u);
}

TEST(Crc32cTest, Rfc3720Vectors) {
  std::string zeros(32, '\0');
  std::string ones(32, '\xFF');
  std::string up;
  std::string down;
  for (int i = 0; i < 32; ++i) {
    up.push_back(static_cast<char>(i));
    down.push_back(static_cast<char>(31 - i));
  }
  EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones), 0x62A8AB43u);
  EXPECT_EQ(crc32c(up), 0x46DD794Eu);
  EXPECT_EQ(crc32c(down), 0x113FDB5Cu);
}

TEST(Crc32cTest, MatchesBitwiseReferenceForEveryLengthAndAlignment) {
  std::mt19937 rng{7};
  std::string buf(300, '\0');
  for (auto& c : buf)
    c = static_cast<char>(rng());
  for (std::size_t start = 0; start < 8; ++start)
    for (std::size_t len = 0; start + len <= buf.size(); len += 1 + len / 8) {
      auto piece = buf.substr(start, len);
      ASSERT_EQ(crc32c(piece), reference_crc32c(piece)) << "start " << start << " len " << len;
    }
}

TEST(Crc32cTest, TheInstructionAndTheTablesAgreeOnEveryLengthAndAlignment) {
  // crc32c uses the CPU's instruction where it exists: it must give the
  // table's results, bytes that cross its 8-byte steps at any offset too.
  std::mt19937 rng{11};
  std::string buf(4096 + 64, '\0');
  for (auto& c : buf)
    c = static_cast<char>(rng());
  for (std::size_t start = 0; start < 16; ++start)
    for (std::size_t len = 0; start + len <= buf.size(); len += 1 + len / 4)
      for (std::uint32_t seed : {0u, 0xDEADBEEFu})
        ASSERT_EQ(crc32c(seed, buf.data() + start, len),
                  ballot::wal::crc32c_portable(seed, buf.data() + start, len))
          << "start " << start << " len " << len << " seed " << seed;
}

TEST(Crc32cTest, ExtendsIncrementally) {
  std::string data = "The quick brown fox jumps over the lazy dog, twice over.";
  for (std::size_t cut = 0; cut <= data.size(); ++cut) {
    auto head = crc32c(0, data.data(), cut);
    EXPECT_EQ(crc32c(head, data.data() + cut, data.size() - cut), crc32c(data)) << cut;
  }
}

}  // namespace
