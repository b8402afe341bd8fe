// The key space's history, read by the gateway's watches on their own
// thread (issue 14): bounded by events and bytes, a copy independent of the
// original (a frozen key space does not see later changes), and readable
// while the replica's thread appends.
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
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

/// Every event of `h` after `from` (all it holds by default), by revision
/// and value.
std::vector<std::pair<std::uint64_t, std::string>> all_of(const event_history& h,
                                                          std::optional<std::uint64_t> from = {}) {
  std::vector<shared_event> got;
  EXPECT_TRUE(h.events_since(from.value_or(h.compacted()), got));
  std::vector<std::pair<std::uint64_t, std::string>> out;
  for (auto& e : got)
    out.emplace_back(e.revision, std::string{e.value.view()});
  return out;
}

TEST(EventHistoryTest, ACopySharesChunksButNeitherSeesTheOthersChanges) {
  constexpr auto chunk = event_history::chunk_events;
  // Bounded to 3 chunks' worth and a half, so appending drops whole chunks
  // and parts of one, and the last chunk is part full when copied.
  const std::size_t bound = 3 * chunk + chunk / 2;
  event_history live{bound, SIZE_MAX};
  auto value = [](std::uint64_t r) { return "v" + std::to_string(r); };
  auto append = [&](std::uint64_t r) {
    live.append({r, event_type::put, "k", shared_bytes{value(r)}});
  };
  std::uint64_t r = 0;
  while (r < 5 * chunk + 7)
    append(++r);
  event_history frozen{live};
  auto before = all_of(live);
  ASSERT_EQ(before.size(), bound);
  // The live one goes on: it appends to the shared last chunk and drops
  // from the shared first one, far past what the copy holds.
  while (r < 9 * chunk + 3)
    append(++r);
  EXPECT_EQ(all_of(frozen), before);
  EXPECT_EQ(frozen.revision(), 5 * chunk + 7);
  EXPECT_EQ(frozen.compacted(), 5 * chunk + 7 - bound);
  auto after = all_of(live);
  ASSERT_EQ(after.size(), bound);
  for (std::size_t i = 0; i < after.size(); ++i) {
    ASSERT_EQ(after[i].first, r - bound + 1 + i);
    ASSERT_EQ(after[i].second, value(after[i].first)) << "event " << after[i].first;
  }
  // Reads across chunk boundaries start at the right event.
  for (std::uint64_t from : {r - bound, r - bound + chunk - 1, r - 2, r - 1, r}) {
    auto got = all_of(live, from);
    ASSERT_EQ(got.size(), r - from) << from;
    if (!got.empty()) {
      EXPECT_EQ(got.front().first, from + 1);
    }
  }
  // The copy's events stay readable once the live one dropped them, and the
  // copy going on does not change the live one either.
  frozen.append({5 * chunk + 8, event_type::put, "k", shared_bytes{std::string{"x"}}});
  EXPECT_EQ(all_of(live), after);
  ASSERT_FALSE(all_of(frozen).empty());
  EXPECT_EQ(all_of(frozen).back().second, "x");
}

TEST(EventHistoryTest, AppendingToASharedChunkCopiesItFirst) {
  event_history a{1000, SIZE_MAX};
  a.append({1, event_type::put, "k", shared_bytes{std::string{"1"}}});
  event_history b{a};
  // Both append to the chunk they share: each must see its own event.
  a.append({2, event_type::put, "k", shared_bytes{std::string{"a"}}});
  b.append({2, event_type::put, "k", shared_bytes{std::string{"b"}}});
  EXPECT_EQ(all_of(a).back().second, "a");
  EXPECT_EQ(all_of(b).back().second, "b");
  EXPECT_EQ(all_of(a).size(), 2u);
}

TEST(EventHistoryTest, AValueDroppedFromAnUnsharedChunkIsFreedAtOnce) {
  event_history h{2, SIZE_MAX};
  shared_bytes big{std::string(1000, 'b')};
  h.append({1, event_type::put, "k", big});
  EXPECT_EQ(big.holders(), 2u);
  h.append({2, event_type::put, "k", shared_bytes{std::string{"x"}}});
  h.append({3, event_type::put, "k", shared_bytes{std::string{"y"}}});
  EXPECT_EQ(big.holders(), 1u) << "dropped, yet its chunk still holds the value";
  // Shared with a copy, the chunk keeps it for the copy.
  shared_bytes other{std::string(1000, 'o')};
  h.append({4, event_type::put, "k", other});
  event_history copy{h};
  h.append({5, event_type::put, "k", shared_bytes{std::string{"z"}}});
  h.append({6, event_type::put, "k", shared_bytes{std::string{"w"}}});
  auto kept = all_of(copy);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept.back().second, std::string(1000, 'o'));
  EXPECT_EQ(other.holders(), 2u) << "the copy holds it; the live history dropped it";
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
