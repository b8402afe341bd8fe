// The key space's values are shared by reference (issue 9): a copy (a frozen
// snapshot) holds the same bytes without copying them, and stays as it was
// while the original changes.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "actors/kv/key_space.hpp"
#include "actors/kv/shared_bytes.hpp"

namespace ballot::kv {
namespace {

TEST(SharedBytesTest, HoldsTheBytesAndSharesThemByCopy) {
  shared_bytes empty;
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_EQ(empty.view(), "");
  shared_bytes none{std::string_view{}};
  EXPECT_TRUE(none.same(empty));  // empty bytes allocate nothing
  shared_bytes a{std::string_view{"a\0b", 3}};
  EXPECT_EQ(a.view(), std::string_view("a\0b", 3));
  auto b = a;
  EXPECT_TRUE(b.same(a));
  shared_bytes c{std::string_view{"a\0b", 3}};
  EXPECT_FALSE(c.same(a));
  b = c;
  EXPECT_TRUE(b.same(c));
  EXPECT_EQ(a.view(), std::string_view("a\0b", 3));
  auto moved = std::move(a);
  EXPECT_EQ(moved.view(), std::string_view("a\0b", 3));
}

TEST(SharedBytesTest, CopiesDroppedOnManyThreadsFreeOnce) {
  // Under a sanitizer this shows a count that is not atomic; without one,
  // a double free or a use after free still crashes it often.
  for (int round = 0; round < 50; ++round) {
    shared_bytes v{std::string(1000, 'v')};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([copy = v] {
        for (int i = 0; i < 1000; ++i) {
          auto again = copy;
          ASSERT_EQ(again.size(), 1000u);
        }
      });
    for (auto& t : threads)
      t.join();
    EXPECT_EQ(v.view(), std::string(1000, 'v'));
  }
}

TEST(KeySpaceShareTest, ACopySharesTheValuesAndKeepsThemWhenTheOriginalChanges) {
  key_space live;
  live.put("a", std::string(500, 'a'), 0);
  live.put("b", "bee", 0);
  auto copy = live;
  EXPECT_TRUE(copy.find("a")->data.same(live.find("a")->data));
  std::vector<event> events;
  ASSERT_TRUE(copy.events_since("", 0, events));
  ASSERT_EQ(events.size(), 2u);
  live.put("a", "changed", 0);
  live.del("b");
  live.put("c", "new", 0);
  EXPECT_EQ(copy.find("a")->value(), std::string(500, 'a'));
  EXPECT_EQ(copy.find("b")->value(), "bee");
  EXPECT_EQ(copy.find("c"), nullptr);
  EXPECT_EQ(copy.revision(), 2u);
  EXPECT_EQ(live.find("a")->value(), "changed");
  EXPECT_EQ(live.find("b"), nullptr);
  // The history's event of the put shares the key's value (no second copy),
  // and reads back as it was.
  std::vector<event> after;
  ASSERT_TRUE(live.events_since("", 0, after));
  ASSERT_EQ(after.size(), 5u);
  EXPECT_EQ(after[0].value, std::string(500, 'a'));
  EXPECT_EQ(after[2].value, "changed");
  EXPECT_EQ(after[3].type, event_type::del);
  EXPECT_EQ(after[3].value, "");
  EXPECT_EQ(live.bytes(), 1 + 7 + 1 + 3u);
}

}  // namespace
}  // namespace ballot::kv
