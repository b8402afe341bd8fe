#include "actors/replica/event_log.hpp"

#include <gtest/gtest.h>

namespace {

using namespace ballot;
using namespace std::chrono_literals;

std::string value_of(const logging::record& r, const std::string& key) {
  for (auto& f : r.fields)
    if (f.key == key)
      return f.value;
  return "<none>";
}

TEST(EventLogTest, SlowSyncIsAWarningOnlyOverTheThreshold) {
  actors::event_log ev{2};
  EXPECT_FALSE(ev.sync_took(99ms, 100ms));
  EXPECT_FALSE(ev.sync_took(100ms, 100ms));
  EXPECT_FALSE(ev.sync_took(5s, 0ms)) << "0 turns the warning off";
  auto r = ev.sync_took(150ms, 100ms);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->lvl, logging::level::warn);
  EXPECT_EQ(value_of(*r, "event"), "slow_fsync");
  EXPECT_EQ(value_of(*r, "replica"), "2");
  EXPECT_EQ(value_of(*r, "duration_ms"), "150");
  EXPECT_EQ(value_of(*r, "threshold_ms"), "100");
}

TEST(EventLogTest, SnapshotLineSaysTakenOrInstalledWithSlotBytesAndDuration) {
  actors::event_log ev{1};
  paxos::durable_state st;
  st.snap = paxos::snapshot{};
  st.snap->last = 500;
  st.snap->machine = std::string(1234, 'x');
  auto taken = ev.snapshot(false, st, 7ms);
  EXPECT_EQ(taken.lvl, logging::level::info);
  EXPECT_EQ(value_of(taken, "event"), "snapshot_taken");
  EXPECT_EQ(value_of(taken, "slot"), "500");
  EXPECT_EQ(value_of(taken, "bytes"), "1234");
  EXPECT_EQ(value_of(taken, "duration_ms"), "7");
  EXPECT_EQ(value_of(ev.snapshot(true, st, 1ms), "event"), "snapshot_installed");
}

TEST(EventLogTest, BallotsReadAsRoundDotNode) {
  EXPECT_EQ(actors::to_string(paxos::ballot_number{7, 3}), "7.3");
}

}  // namespace
