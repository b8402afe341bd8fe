// The dedup table's fingerprint of a payload (state_machine::fingerprint_bytes):
// a retry must hash the same, and any other command of the same request id
// must hash differently, whichever byte differs: in the four lanes of the
// 32-byte blocks, in the words after them, or in the tail.
#include <cstdint>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "actors/paxos/state_machine.hpp"

namespace {

using ballot::paxos::state_machine;

std::uint64_t fp(const std::string& s) {
  return state_machine::fingerprint_bytes(s.data(), s.size());
}

std::string sample(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    s[i] = static_cast<char>((i * 131 + 7) & 0xff);
  return s;
}

TEST(FingerprintTest, EveryByteOfEveryLaneAndTheTailCounts) {
  // 100 bytes: three 32-byte blocks, no whole word left, a 4-byte tail.
  // 109: three blocks, one word, a 5-byte tail.
  for (std::size_t size : {0, 1, 7, 8, 31, 32, 33, 100, 109, 1000}) {
    auto base = sample(size);
    auto h = fp(base);
    EXPECT_NE(h, 0u);
    EXPECT_EQ(h, fp(std::string(base))) << "size " << size;
    for (std::size_t i = 0; i < size; ++i) {
      auto changed = base;
      changed[i] = static_cast<char>(changed[i] ^ 0x01);
      EXPECT_NE(fp(changed), h) << "size " << size << ", byte " << i;
    }
  }
}

TEST(FingerprintTest, OrderAndLengthCount) {
  auto a = sample(256);
  // Swap two 32-byte blocks, and two words of one block (different lanes).
  auto blocks = a.substr(32, 32) + a.substr(0, 32) + a.substr(64);
  auto lanes = a.substr(8, 8) + a.substr(0, 8) + a.substr(16);
  EXPECT_NE(fp(blocks), fp(a));
  EXPECT_NE(fp(lanes), fp(a));
  // Zeros of different lengths, and a payload with zeros appended.
  std::set<std::uint64_t> seen;
  for (std::size_t n = 0; n <= 96; ++n)
    EXPECT_TRUE(seen.insert(fp(std::string(n, '\0'))).second) << n << " zero bytes";
  EXPECT_NE(fp(a), fp(a + std::string(1, '\0')));
}

TEST(FingerprintTest, OneMebibyteOfValuesCollidesNowhere) {
  // A million payloads that differ in one 8-byte counter at a block's
  // third lane: no two share a fingerprint.
  auto base = sample(96);
  std::set<std::uint64_t> seen;
  for (std::uint64_t n = 0; n < 1'000'000; ++n) {
    auto s = base;
    for (int b = 0; b < 8; ++b)
      s[48 + b] = static_cast<char>((n >> (8 * b)) & 0xff);
    ASSERT_TRUE(seen.insert(fp(s)).second) << n;
  }
}

}  // namespace
