// The key space's history, read by the gateway's watches on their own
// thread (issue 14): bounded by events and bytes, a copy independent of the
// original (a frozen key space does not see later changes), and readable
// while the replica's thread appends.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "actors/kv/event_history.hpp"
#include "actors/kv/key_space.hpp"

namespace ballot::kv {
namespace {

shared_event put_event(std::uint64_t revision, const std::string& key, std::size_t bytes = 1) {
  return {revision, event_type::put, key, shared_bytes{std::string(bytes, 'v')}};
}

TEST(EventHistoryTest, KeepsAtMostItsEventsAndBytesAndSaysWhenItCannotAnswer) {
  event_history h{4, 10'000};
  for (std::uint64_t r = 1; r <= 6; ++r)
    h.append(put_event(r, r % 2 == 0 ? "a/even" : "b/odd"));
  EXPECT_EQ(h.size(), 4u);
  EXPECT_EQ(h.compacted(), 2u);
  EXPECT_EQ(h.revision(), 6u);
  std::vector<event> out;
  std::uint64_t upto = 0;
  EXPECT_FALSE(h.events_since("a/", true, 1, SIZE_MAX, out, upto)) << "revision 2 was dropped";
  EXPECT_TRUE(h.events_since("a/", true, 2, SIZE_MAX, out, upto));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].revision, 4u);
  EXPECT_EQ(out[1].revision, 6u);
  EXPECT_EQ(upto, 6u);
  out.clear();
  EXPECT_TRUE(h.events_since("b/odd", false, 4, SIZE_MAX, out, upto));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].revision, 5u);

  event_history by_bytes{1000, 10'000};
  for (std::uint64_t r = 1; r <= 10; ++r)
    by_bytes.append(put_event(r, "k", 4000));
  EXPECT_EQ(by_bytes.size(), 2u);
  EXPECT_LE(by_bytes.bytes(), 10'000u);
  out.clear();
  EXPECT_FALSE(by_bytes.events_since("k", false, 5, SIZE_MAX, out, upto));
  EXPECT_TRUE(by_bytes.events_since("k", false, 8, SIZE_MAX, out, upto));
  EXPECT_EQ(out.size(), 2u);
}

TEST(EventHistoryTest, AFrozenKeySpaceKeepsItsOwnHistory) {
  key_space live;
  live.put("a", "1", 0);
  key_space frozen = live;
  live.put("b", "2", 0);
  live.del("a");
  std::vector<shared_event> got;
  ASSERT_TRUE(frozen.events_since(0, got));
  EXPECT_EQ(got.size(), 1u);
  got.clear();
  ASSERT_TRUE(live.events_since(0, got));
  EXPECT_EQ(got.size(), 3u);
  EXPECT_NE(frozen.history(), live.history());
  EXPECT_EQ(frozen.history()->revision(), 1u);
  EXPECT_EQ(live.history()->revision(), 3u);
}

TEST(EventHistoryTest, AReaderOnAnotherThreadSeesConsecutiveRevisionsWhileItGrows) {
  key_space keys{1000, 1u << 20};
  auto history = keys.history();
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    while (!done.load()) {
      std::vector<event> out;
      std::uint64_t upto = 0;
      auto from = history->compacted();
      if (!history->events_since("", true, from, SIZE_MAX, out, upto))
        continue;  // trimmed in between: a watcher re-reads
      for (std::size_t i = 0; i < out.size(); ++i)
        if (out[i].revision != from + 1 + i)
          ++bad;
      if (!out.empty() && out.back().revision != upto)
        ++bad;
    }
  });
  for (int i = 0; i < 20'000; ++i)
    keys.put("k" + std::to_string(i % 50), "v", 0);
  done = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(history->revision(), 20'000u);
  EXPECT_EQ(history->size(), 1000u);
}

}  // namespace
}  // namespace ballot::kv
