// The service machine: one namespace for the key/value API and the lock
// service, the change feed it reports, and the leader's time hooks.
#include <gtest/gtest.h>

#include "actors/kv/command_codec.hpp"
#include "actors/lock/lock_codec.hpp"
#include "actors/service/service_machine.hpp"

namespace ballot::service {
namespace {

lock::result lock_apply(service_machine& m, const lock::command& cmd) {
  lock::result r;
  std::string error;
  EXPECT_TRUE(lock::decode(m.apply(lock::encode(cmd)), r, error)) << error;
  return r;
}

kv::result kv_apply(service_machine& m, const kv::request& req) {
  kv::result r;
  std::string error;
  EXPECT_TRUE(kv::decode(m.apply(kv::encode(req)), r, error)) << error;
  return r;
}

kv::result kv_query(const service_machine& m, const kv::request& req) {
  kv::result r;
  std::string error;
  EXPECT_TRUE(kv::decode(m.query(kv::encode(req)), r, error)) << error;
  return r;
}

TEST(ServiceMachineTest, EphemeralKeysShareTheKeyValueNamespace) {
  service_machine m;
  auto s = lock_apply(m, lock::open_session{1000, 500});
  ASSERT_TRUE(s.ok());
  auto p = lock_apply(m, lock::put_key{1000, "svc/a", "addr", s.session});
  ASSERT_TRUE(p.ok());
  auto got = kv_query(m, kv::get_request{"svc/a"});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got.value, "addr");
  EXPECT_EQ(got.version, p.revision);
  // A key/value write numbers on from the same revision counter.
  auto put = kv_apply(m, kv::put_request{"plain", "x", {}});
  EXPECT_EQ(put.version, p.revision + 1);
  // Expiry (time passes the deadline) deletes the ephemeral key only.
  lock_apply(m, lock::tick{1501});
  EXPECT_EQ(kv_query(m, kv::get_request{"svc/a"}).code, kv::result_code::not_found);
  EXPECT_TRUE(kv_query(m, kv::get_request{"plain"}).ok());
}

TEST(ServiceMachineTest, ObserverSeesEveryChangeInOrder) {
  service_machine m;
  std::vector<change> seen;
  m.set_observer([&](const change& c) { seen.push_back(c); });
  auto s = lock_apply(m, lock::open_session{0, 1000});
  kv_apply(m, kv::put_request{"k", "1", {}});
  lock_apply(m, lock::put_key{0, "e", "2", s.session});
  auto a = lock_apply(m, lock::acquire{0, s.session, "L", lock::lock_mode::exclusive, false, 0});
  ASSERT_TRUE(a.ok());
  lock_apply(m, lock::tick{2000});  // expires the session: deletes "e", frees "L"
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].events.size(), 1u);
  EXPECT_EQ(seen[0].events[0].key, "k");
  EXPECT_EQ(seen[1].events[0].key, "e");
  ASSERT_EQ(seen[2].grants.size(), 1u);
  EXPECT_EQ(seen[2].grants[0].token, a.token);
  ASSERT_EQ(seen[3].expired.size(), 1u);
  EXPECT_EQ(seen[3].events[0].type, kv::event_type::del);
  EXPECT_EQ(seen[3].revision, 3u);
  // A refused kv write (version mismatch) changes nothing and reports nothing.
  kv_apply(m, kv::put_request{"k", "x", 99});
  EXPECT_EQ(seen.size(), 4u);
}

TEST(ServiceMachineTest, TheObserverSharesValuesWithTheKeySpace) {
  // A 1 MB put is not copied for the observer (the gateway's change feed):
  // its event holds the very bytes the key holds.
  service_machine m;
  std::vector<change> seen;
  m.set_observer([&](const change& c) { seen.push_back(c); });
  kv_apply(m, kv::put_request{"big", std::string(1 << 20, 'v'), {}});
  ASSERT_EQ(seen.size(), 1u);
  ASSERT_EQ(seen[0].events.size(), 1u);
  auto* stored = m.locks().keys().find("big");
  ASSERT_NE(stored, nullptr);
  EXPECT_TRUE(seen[0].events[0].value.same(stored->data));
  EXPECT_EQ(seen[0].events[0].to_event().value, std::string(1 << 20, 'v'));
}

TEST(ServiceMachineTest, StampsOnlyLockCommands) {
  service_machine m;
  paxos::shared_payload payload{lock::encode(lock::command{lock::keep_alive{0, 7}})};
  // Another holder of the same bytes (the driver's copy of the command).
  auto driver_copy = payload;
  m.stamp(payload, 123456);
  lock::command cmd;
  std::string error;
  ASSERT_TRUE(lock::decode(payload, cmd, error));
  EXPECT_EQ(std::get<lock::keep_alive>(cmd).now, 123456u);
  EXPECT_EQ(std::get<lock::keep_alive>(cmd).session, 7u);
  // The stamp went into a private copy: the other holder still has 0.
  ASSERT_TRUE(lock::decode(driver_copy, cmd, error));
  EXPECT_EQ(std::get<lock::keep_alive>(cmd).now, 0u);
  paxos::shared_payload kv_payload{kv::encode(kv::put_request{"k", "v", {}})};
  auto before = kv_payload;
  m.stamp(kv_payload, 123456);
  EXPECT_EQ(kv_payload, before);
  // Not stamped, so not copied either: a large value stays shared.
  EXPECT_TRUE(kv_payload.same(before));
}

TEST(ServiceMachineTest, LeaderCommandsGraceOnElectionAndTickWhenDue) {
  service_machine m{2000};
  auto elected = m.leader_commands(50, true);
  ASSERT_EQ(elected.size(), 1u);
  lock::command cmd;
  std::string error;
  ASSERT_TRUE(lock::decode(elected[0], cmd, error));
  EXPECT_EQ(std::get<lock::leader_change>(cmd).grace_ms, 2000u);
  // Nothing pending, and the leader's clock not far ahead of the log's: no tick.
  EXPECT_TRUE(m.leader_commands(service_machine::log_time_step_ms - 1, false).empty());
  lock_apply(m, lock::open_session{100, 400});  // deadline 500
  EXPECT_TRUE(m.leader_commands(500, false).empty());
  auto due = m.leader_commands(501, false);
  ASSERT_EQ(due.size(), 1u);
  ASSERT_TRUE(lock::decode(due[0], cmd, error));
  EXPECT_EQ(std::get<lock::tick>(cmd).now, 501u);
  EXPECT_EQ(lock_apply(m, std::get<lock::tick>(cmd)).expired.size(), 1u);
}

TEST(ServiceMachineTest, ALeaderFarAheadOfTheLogsTimeTicksWithNothingDue) {
  // Key/value writes carry no stamp: only these ticks move the log's time
  // (and with it the dedup table's ages) in a cluster without lock traffic.
  service_machine m;
  kv_apply(m, kv::put_request{"k", "v", {}});
  EXPECT_EQ(m.log_time_ms(), 0u);
  auto step = service_machine::log_time_step_ms;
  EXPECT_TRUE(m.leader_commands(step - 1, false).empty());
  auto due = m.leader_commands(step + 5, false);
  ASSERT_EQ(due.size(), 1u);
  lock::command cmd;
  std::string error;
  ASSERT_TRUE(lock::decode(due[0], cmd, error));
  lock_apply(m, std::get<lock::tick>(cmd));
  EXPECT_EQ(m.log_time_ms(), step + 5);
  // Then quiet again until the clock is a step ahead once more.
  EXPECT_TRUE(m.leader_commands(2 * step, false).empty());
  EXPECT_EQ(m.leader_commands(2 * step + 5, false).size(), 1u);
}

TEST(ServiceMachineTest, SnapshotCarriesBothApis) {
  service_machine m;
  auto s = lock_apply(m, lock::open_session{0, 1000});
  kv_apply(m, kv::put_request{"k", "1", {}});
  lock_apply(m, lock::acquire{0, s.session, "L", lock::lock_mode::exclusive, false, 0});
  service_machine copy;
  bool reset = false;
  copy.set_observer([&](const change& c) { reset = c.reset; });
  copy.restore(*m.snapshot());
  EXPECT_TRUE(reset);
  EXPECT_EQ(copy.snapshot(), m.snapshot());
  EXPECT_TRUE(kv_query(copy, kv::get_request{"k"}).ok());
}

TEST(ServiceMachineTest, GarbageIsRefusedNotApplied) {
  service_machine m;
  auto before = m.snapshot();
  for (std::string junk :
       {std::string{}, std::string("\x11"), std::string("\xff\x01"), std::string("\x01\x05")}) {
    m.apply(junk);
    m.query(junk);
  }
  EXPECT_EQ(m.snapshot(), before);
}

}  // namespace
}  // namespace ballot::service
