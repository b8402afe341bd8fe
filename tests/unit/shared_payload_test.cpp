// A command's payload is shared, not copied, on its way through the core
// (the 1 MB put profile in bench/README), and a change never reaches
// another holder.
#include <gtest/gtest.h>

#include <string>

#include "actors/paxos/learner.hpp"
#include "actors/paxos/proposer.hpp"
#include "actors/paxos/shared_payload.hpp"
#include "actors/paxos/types.hpp"

namespace {

using namespace ballot::paxos;

TEST(SharedPayloadTest, CopiesShareTheBytes) {
  shared_payload a{std::string(1 << 20, 'v')};
  auto b = a;
  EXPECT_TRUE(a.same(b));
  EXPECT_EQ(a, b);
  EXPECT_EQ(b.size(), 1u << 20);
  command c{1, 1, a};
  value v{{c, c}};
  auto w = v;
  EXPECT_TRUE(w.commands[1].payload.same(a));
}

TEST(SharedPayloadTest, EditCopiesOnlyWhenShared) {
  shared_payload a{"abc"};
  const std::string* before = &a.str();
  a.edit()[0] = 'x';  // the only holder: changed in place
  EXPECT_EQ(&a.str(), before);
  EXPECT_EQ(a, "xbc");
  auto b = a;
  b.edit()[0] = 'y';  // shared: b gets its own bytes
  EXPECT_EQ(a, "xbc");
  EXPECT_EQ(b, "ybc");
  EXPECT_FALSE(a.same(b));
}

TEST(SharedPayloadTest, EmptyHasNoBytes) {
  shared_payload e;
  EXPECT_TRUE(e.empty());
  EXPECT_EQ(e.str(), "");
  EXPECT_EQ(shared_payload{std::string{}}, e);
  e.edit() = "now";
  EXPECT_EQ(e, "now");
}

/// A chosen value keeps the bytes the client's command came with.
struct echo_machine : state_machine {
  std::string apply(const std::string& payload) override { return payload.substr(0, 3); }
};

TEST(SharedPayloadTest, TheLearnerKeepsTheProposedBytes) {
  echo_machine sm;
  durable_state disk;
  learner l{disk, sm};
  shared_payload big{std::string(1 << 20, 'v')};
  ready out;
  std::vector<learner::applied> done;
  ASSERT_TRUE(l.learn(1, value{{command{7, 1, big}}}, out, done));
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].result, "vvv");
  ASSERT_NE(l.chosen(1), nullptr);
  EXPECT_TRUE(l.chosen(1)->commands[0].payload.same(big));
  ASSERT_EQ(out.chosen.size(), 1u);
  EXPECT_TRUE(out.chosen[0].val.commands[0].payload.same(big));
}

}  // namespace
