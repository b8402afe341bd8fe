#include "actors/replica/event_log.hpp"

#include <algorithm>
#include <map>

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

#include "tests/support/local_cluster.hpp"

namespace {

/// Three cores over the instant test network, each with an event_log fed
/// after every round, as the replica actor feeds it after every input.
struct watched_cluster {
  ballot::testing::local_cluster net{3};
  std::map<paxos::node_id, actors::event_log> logs{
    {1, actors::event_log{1}}, {2, actors::event_log{2}}, {3, actors::event_log{3}}};
  std::map<paxos::node_id, std::vector<std::string>> events;

  void run(std::size_t rounds) {
    for (std::size_t i = 0; i < rounds; ++i) {
      net.run(1);
      for (auto& [id, log] : logs)
        if (net.up(id))
          for (auto& r : log.observe(net.node(id)))
            events[id].push_back(value_of(r, "event"));
    }
  }

  bool saw(paxos::node_id id, const std::string& event) const {
    auto it = events.find(id);
    return it != events.end() &&
           std::find(it->second.begin(), it->second.end(), event) != it->second.end();
  }
};

TEST(EventLogTest, ElectionIsLoggedByTheLeaderAndFollowedByTheOthers) {
  watched_cluster c;
  auto leader = c.net.elect();
  ASSERT_TRUE(leader);
  c.run(20);
  EXPECT_TRUE(c.saw(*leader, "leader_elected"));
  for (paxos::node_id id = 1; id <= 3; ++id)
    if (id != *leader) {
      EXPECT_TRUE(c.saw(id, "leader_changed")) << id;
      EXPECT_FALSE(c.saw(id, "leader_elected")) << id;
    }
}

TEST(EventLogTest, AnIsolatedLeaderIsLostByTheOthersAndStepsDownWhenItHearsOfTheNext) {
  watched_cluster c;
  c.run(1);
  auto first = c.net.elect();
  ASSERT_TRUE(first);
  c.run(20);
  c.net.isolate(*first);
  std::optional<paxos::node_id> second;
  for (int i = 0; i < 400 && !second; ++i) {
    c.run(1);
    for (paxos::node_id id = 1; id <= 3; ++id)
      if (id != *first && c.net.node(id).is_leader())
        second = id;
  }
  ASSERT_TRUE(second) << "no new leader while " << *first << " was cut off";
  EXPECT_TRUE(c.saw(*second, "leader_lost"));
  EXPECT_TRUE(c.saw(*second, "leader_elected"));
  c.net.heal();
  c.run(100);
  EXPECT_TRUE(c.saw(*first, "leader_stepped_down"));
  EXPECT_FALSE(c.net.node(*first).is_leader());
}

}  // namespace
