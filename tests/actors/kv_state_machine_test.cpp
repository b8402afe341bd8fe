#include "actors/replica/kv_state_machine.hpp"

#include <gtest/gtest.h>

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

}  // namespace
