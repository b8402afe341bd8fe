// The gateway's change feed: bounded in events and in bytes, and waking only
// the waits whose keys changed, so idle watches cost nothing per write.
#include <gtest/gtest.h>

#include "runtime/gateway/change_feed.hpp"

namespace {

using namespace ballot;

service::change put(std::uint64_t revision, const std::string& key, std::size_t value_bytes = 1) {
  service::change c;
  c.revision = revision;
  c.events.push_back(
    {revision, kv::event_type::put, key, kv::shared_bytes{std::string(value_bytes, 'v')}});
  return c;
}

TEST(ChangeFeedTest, KeepsAtMostItsBytesOfEvents) {
  gateway::change_feed feed{1000, 10'000};
  for (std::uint64_t r = 1; r <= 10; ++r)
    feed.publish(put(r, "k", 4000));
  std::vector<kv::event> out;
  std::uint64_t upto = 0;
  EXPECT_FALSE(feed.events_since("k", false, 5, out, upto));  // dropped by bytes
  EXPECT_TRUE(feed.events_since("k", false, 8, out, upto));
  EXPECT_EQ(out.size(), 2u);
  EXPECT_EQ(upto, 10u);
}

TEST(ChangeFeedTest, AKeyWaitWakesOnlyForItsKeysOrAReset) {
  gateway::change_feed feed;
  feed.publish(put(1, "other"));
  int exact = 0;
  int prefix = 0;
  int idle = 0;
  feed.on_change(1, "a/b", false, [&] { ++exact; });
  feed.on_change(1, "a/", true, [&] { ++prefix; });
  feed.on_change(1, "z/", true, [&] { ++idle; });
  EXPECT_EQ(feed.waiting(), 3u);
  feed.publish(put(2, "other"));
  EXPECT_EQ(exact + prefix + idle, 0);
  feed.publish(put(3, "a/c"));
  EXPECT_EQ(prefix, 1);
  EXPECT_EQ(exact, 0);
  feed.publish(put(4, "a/b"));
  EXPECT_EQ(exact, 1);
  EXPECT_EQ(prefix, 1);  // once: it was woken and is gone
  EXPECT_EQ(feed.waiting(), 1u);
  service::change reset;
  reset.revision = 9;
  reset.reset = true;
  feed.publish(reset);
  EXPECT_EQ(idle, 1);
  EXPECT_EQ(feed.waiting(), 0u);
}

TEST(ChangeFeedTest, AWaitBehindTheFeedWakesAtOnceAndCancelForgetsIt) {
  gateway::change_feed feed;
  feed.publish(put(5, "k"));
  int woken = 0;
  feed.on_change(3, "zzz", false, [&] { ++woken; });
  EXPECT_EQ(woken, 1);  // the caller's scan is stale: look again
  auto id = feed.on_change(5, "k", false, [&] { ++woken; });
  feed.cancel(id);
  feed.publish(put(6, "k"));
  EXPECT_EQ(woken, 1);
  EXPECT_EQ(feed.waiting(), 0u);
}

}  // namespace
