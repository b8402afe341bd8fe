// A snapshot's machine part: bytes, or a frozen state encoded once, when first
// needed, on whichever thread needs it (issue 9).
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "actors/paxos/machine_image.hpp"
#include "actors/paxos/types.hpp"

namespace {

using namespace ballot::paxos;

/// Counts its encodes, and is slow enough that concurrent callers overlap.
struct counting_state : frozen_state {
  std::string bytes;
  mutable std::atomic<int> encodes{0};
  explicit counting_state(std::string b) : bytes(std::move(b)) {}
  std::string encode() const override {
    ++encodes;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return bytes;
  }
  std::size_t size_hint() const override { return bytes.size() + 1; }  // a hint, not exact
};

TEST(MachineImageTest, BytesAreTheBytes) {
  machine_image empty;
  EXPECT_EQ(empty.bytes(), "");
  EXPECT_TRUE(empty.encoded());
  machine_image given{std::string("a\0b", 3)};
  EXPECT_EQ(given.size(), 3u);
  EXPECT_EQ(given.size_hint(), 3u);
  EXPECT_TRUE(given.encoded());
  EXPECT_EQ(given, std::string("a\0b", 3));
  EXPECT_NE(given, machine_image{"a"});
}

TEST(MachineImageTest, AFrozenStateIsEncodedOnceWhenFirstNeeded) {
  auto state = std::make_shared<counting_state>("state bytes");
  std::weak_ptr<counting_state> alive = state;
  machine_image image{state};
  auto* counter = &state->encodes;
  state.reset();
  // Neither the size hint nor a copy encodes.
  EXPECT_FALSE(image.encoded());
  EXPECT_EQ(image.size_hint(), 12u);
  auto copy = image;
  EXPECT_EQ(counter->load(), 0);
  // Four threads ask at once: one encodes, the others wait for it.
  std::vector<std::thread> readers;
  std::atomic<int> right{0};
  for (int i = 0; i < 4; ++i)
    readers.emplace_back([&, i] {
      if ((i % 2 == 0 ? image : copy).bytes() == "state bytes")
        ++right;
    });
  for (auto& t : readers)
    t.join();
  EXPECT_EQ(right.load(), 4);
  // The frozen state is gone once encoded (its memory is released).
  EXPECT_TRUE(alive.expired());
  EXPECT_TRUE(image.encoded());
  EXPECT_TRUE(copy.encoded());
  EXPECT_EQ(image.size_hint(), 11u);  // exact now
  EXPECT_EQ(copy, machine_image{"state bytes"});
}

TEST(MachineImageTest, ASnapshotComparesByBytesWhateverTheForm) {
  snapshot a;
  a.last = 3;
  a.machine = machine_image{std::make_shared<counting_state>("xyz")};
  snapshot b;
  b.last = 3;
  b.machine = std::string("xyz");
  EXPECT_EQ(a, b);
  b.machine = "xy";
  EXPECT_FALSE(a == b);
}

}  // namespace

namespace {

std::string gather(const machine_image& image, std::size_t* pieces = nullptr) {
  std::string out;
  image.write_to([&](std::string_view piece) {
    out.append(piece);
    if (pieces)
      ++*pieces;
  });
  return out;
}

}  // namespace

TEST(MachineImageTest, WriteToEncodesAFrozenStateEachTimeAndKeepsNothing) {
  auto state = std::make_shared<counting_state>("frozen bytes");
  machine_image image{state};
  EXPECT_EQ(gather(image), "frozen bytes");
  EXPECT_EQ(gather(image), "frozen bytes");
  // Made twice and cached neither time: a checkpoint or a transfer that
  // wrote the state leaves no copy of it behind (issue 9).
  EXPECT_EQ(state->encodes.load(), 2);
  EXPECT_FALSE(image.encoded());
  EXPECT_EQ(image.size_hint(), state->bytes.size() + 1);
  // `bytes` still encodes once and keeps them; write_to then hands those.
  EXPECT_EQ(image.bytes(), "frozen bytes");
  EXPECT_EQ(state->encodes.load(), 3);
  std::size_t pieces = 0;
  EXPECT_EQ(gather(image, &pieces), "frozen bytes");
  EXPECT_EQ(pieces, 1u);
  EXPECT_EQ(state->encodes.load(), 3);
}

TEST(MachineImageTest, WriteToHandsGivenBytesWhole) {
  machine_image given{std::string("x\0y", 3)};
  std::size_t pieces = 0;
  EXPECT_EQ(gather(given, &pieces), std::string("x\0y", 3));
  EXPECT_EQ(pieces, 1u);
}
