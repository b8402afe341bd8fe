#include "actors/replica/kv_state_machine.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace {

using ballot::actors::kv_state_machine;

TEST(KvStateMachineTest, PutGetDel) {
  kv_state_machine sm;
  EXPECT_EQ(sm.apply("get k"), "");
  EXPECT_EQ(sm.apply("put k hello world"), "ok");
  EXPECT_EQ(sm.apply("get k"), "hello world");
  EXPECT_EQ(sm.apply("del k"), "1");
  EXPECT_EQ(sm.apply("del k"), "0");
  EXPECT_TRUE(sm.data().empty());
}

TEST(KvStateMachineTest, AddCountsFromZero) {
  kv_state_machine sm;
  EXPECT_EQ(sm.apply("add n 5"), "5");
  EXPECT_EQ(sm.apply("add n -7"), "-2");
  EXPECT_EQ(sm.apply("get n"), "-2");
}

TEST(KvStateMachineTest, MalformedCommandsAreErrorResults) {
  kv_state_machine sm;
  EXPECT_EQ(sm.apply(""), "error: missing key");
  EXPECT_EQ(sm.apply("frob k"), "error: unknown command");
  EXPECT_EQ(sm.apply("add n"), "error: delta is not an integer");
  EXPECT_EQ(sm.apply("add n 1x"), "error: delta is not an integer");
  sm.apply("put s text");
  EXPECT_EQ(sm.apply("add s 1"), "error: value is not an integer");
  sm.apply("put big 9223372036854775807");
  EXPECT_EQ(sm.apply("add big 1"), "error: overflow");
  EXPECT_EQ(sm.apply("get big"), "9223372036854775807");
}

TEST(KvStateMachineTest, SnapshotRoundTripsAndRefusesGarbage) {
  kv_state_machine sm;
  sm.apply("put a 1:2 with spaces");
  sm.apply("put b ");
  sm.apply("add n 41");
  auto snap = sm.snapshot();
  ASSERT_TRUE(snap);
  kv_state_machine copy;
  copy.apply("put stale x");
  copy.restore(*snap);
  EXPECT_EQ(copy.data(), sm.data());
  EXPECT_EQ(copy.apply("add n 1"), "42");
  for (const char* bad : {"x", "3:ab", "1:a", "-1:a0:", "1:a5:b"})
    EXPECT_THROW(copy.restore(bad), std::runtime_error) << bad;
  EXPECT_EQ(copy.query("n"), "42");  // a refused restore changes nothing
  copy.restore("");
  EXPECT_TRUE(copy.data().empty());
}

}  // namespace
