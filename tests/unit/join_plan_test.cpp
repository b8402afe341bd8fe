// ballotd --join: what a joining node keeps, and when it must refuse to join.
#include <gtest/gtest.h>

#include "runtime/ballotd/join_plan.hpp"

namespace {

using namespace ballot::ballotd;

cluster_facts facts() {
  cluster_facts f;
  f.members = {{1, false, "127.0.0.1:7411"},
               {2, false, "127.0.0.1:7412"},
               {3, false, "127.0.0.1:7413"},
               {4, true, "127.0.0.1:7414"}};
  f.bootstrap = {1, 2, 3};
  f.alpha = 32;
  f.cluster_id = std::string(32, '\x5a');
  return f;
}

TEST(JoinPlanTest, ALearnerAtItsOwnAddressJoinsAndThePlanSurvivesTheFile) {
  std::string error;
  auto plan = plan_join(facts(), 4, *parse_endpoint("127.0.0.1:7414"), error);
  ASSERT_TRUE(plan) << error;
  EXPECT_EQ(plan->id, 4u);
  EXPECT_EQ(plan->alpha, 32u);
  EXPECT_EQ(plan->bootstrap, (std::vector<std::uint32_t>{1, 2, 3}));
  EXPECT_EQ(plan->peers.size(), 4u);
  auto back = decode_join_plan(encode(*plan), error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->id, 4u);
  EXPECT_EQ(back->cluster_id, plan->cluster_id);
  EXPECT_EQ(back->bootstrap, plan->bootstrap);
  EXPECT_EQ(back->peers.at(2).to_string(), "127.0.0.1:7412");
}

TEST(JoinPlanTest, AVoterIdAnUnknownIdOrAnotherAddressIsRefused) {
  std::string error;
  EXPECT_FALSE(plan_join(facts(), 2, *parse_endpoint("127.0.0.1:7412"), error));
  EXPECT_NE(error.find("is a voter"), std::string::npos) << error;
  EXPECT_FALSE(plan_join(facts(), 9, *parse_endpoint("127.0.0.1:7419"), error));
  EXPECT_NE(error.find("not in the cluster's membership"), std::string::npos) << error;
  EXPECT_FALSE(plan_join(facts(), 4, *parse_endpoint("127.0.0.1:9999"), error));
  EXPECT_NE(error.find("127.0.0.1:7414"), std::string::npos) << error;
  auto no_alpha = facts();
  no_alpha.alpha = 0;
  EXPECT_FALSE(plan_join(no_alpha, 4, *parse_endpoint("127.0.0.1:7414"), error));
}

TEST(JoinPlanTest, ADamagedFileIsRefusedNamingTheLine) {
  std::string error;
  std::string text = encode(*plan_join(facts(), 4, *parse_endpoint("127.0.0.1:7414"), error));
  EXPECT_FALSE(decode_join_plan("ballot-join 2\n", error));
  EXPECT_FALSE(decode_join_plan(text + "peer 7 nowhere\n", error));
  EXPECT_NE(error.find("line"), std::string::npos) << error;
  auto cut = text.substr(0, text.find("bootstrap"));
  EXPECT_FALSE(decode_join_plan(cut, error)) << "a file without the bootstrap members";
}

}  // namespace
