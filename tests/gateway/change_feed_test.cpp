// The gateway's change feed: watches read the local replica's own history
// through it (no copy of their own), and it wakes only the waits whose keys
// changed, so idle watches cost nothing per write.
#include <gtest/gtest.h>

#include <memory>

#include "runtime/gateway/change_feed.hpp"

namespace {

using namespace ballot;

/// A put of `key` at `revision`, made in `history` as the key space makes
/// it, and the change the state machine publishes for it.
service::change put(const std::shared_ptr<kv::event_history>& history, std::uint64_t revision,
                    const std::string& key, std::size_t value_bytes = 1) {
  kv::shared_event e{revision, kv::event_type::put, key,
                     kv::shared_bytes{std::string(value_bytes, 'v')}};
  history->append(e);
  service::change c;
  c.revision = revision;
  c.events.push_back(e);
  c.history = history;
  return c;
}

std::shared_ptr<kv::event_history> fresh_history() {
  return std::make_shared<kv::event_history>(1000, 64u << 20);
}

TEST(ChangeFeedTest, ReadsTheLocalHistoryWithinItsBounds) {
  gateway::change_feed feed;
  std::vector<kv::event> out;
  std::uint64_t upto = 0;
  EXPECT_TRUE(feed.events_since("k", false, 0, out, upto)) << "nothing applied, nothing missed";
  EXPECT_TRUE(out.empty());

  auto history = std::make_shared<kv::event_history>(1000, 10'000);
  for (std::uint64_t r = 1; r <= 10; ++r)
    feed.publish(put(history, r, "k", 4000));
  EXPECT_FALSE(feed.events_since("k", false, 5, out, upto));  // dropped by bytes
  EXPECT_TRUE(feed.events_since("k", false, 8, out, upto));
  EXPECT_EQ(out.size(), 2u);
  EXPECT_EQ(upto, 10u);

  // Applied, not yet published: already readable (it is applied state).
  history->append({11, kv::event_type::del, "k", {}});
  out.clear();
  EXPECT_TRUE(feed.events_since("k", false, 10, out, upto));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, kv::event_type::del);
  EXPECT_EQ(upto, 11u);

  // A restore brings a new history: the feed reads that one from then on.
  auto restored = fresh_history();
  restored->reset(40, 1000, 64u << 20);
  service::change reset;
  reset.revision = 40;
  reset.reset = true;
  reset.history = restored;
  feed.publish(reset);
  out.clear();
  EXPECT_FALSE(feed.events_since("k", false, 10, out, upto)) << "before the snapshot";
  EXPECT_TRUE(feed.events_since("k", false, 40, out, upto));
  EXPECT_TRUE(out.empty());
}

TEST(ChangeFeedTest, AKeyWaitWakesOnlyForItsKeysOrAReset) {
  gateway::change_feed feed;
  auto history = fresh_history();
  feed.publish(put(history, 1, "other"));
  int exact = 0;
  int prefix = 0;
  int idle = 0;
  feed.on_change(1, "a/b", false, [&] { ++exact; });
  feed.on_change(1, "a/", true, [&] { ++prefix; });
  feed.on_change(1, "z/", true, [&] { ++idle; });
  EXPECT_EQ(feed.waiting(), 3u);
  feed.publish(put(history, 2, "other"));
  EXPECT_EQ(exact + prefix + idle, 0);
  feed.publish(put(history, 3, "a/c"));
  EXPECT_EQ(prefix, 1);
  EXPECT_EQ(exact, 0);
  feed.publish(put(history, 4, "a/b"));
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
  auto history = fresh_history();
  for (std::uint64_t r = 1; r <= 5; ++r)
    feed.publish(put(history, r, "k"));
  int woken = 0;
  feed.on_change(3, "zzz", false, [&] { ++woken; });
  EXPECT_EQ(woken, 1);  // the caller's scan is stale: look again
  auto id = feed.on_change(5, "k", false, [&] { ++woken; });
  feed.cancel(id);
  feed.publish(put(history, 6, "k"));
  EXPECT_EQ(woken, 1);
  EXPECT_EQ(feed.waiting(), 0u);
}

}  // namespace
