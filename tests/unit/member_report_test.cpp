// The leader's membership report (member list, and what a joining node
// replays from): round trip, and hostile bytes are refused, not trusted.
#include <gtest/gtest.h>

#include "actors/paxos/member_report.hpp"

namespace {

using namespace ballot::paxos;

member_report sample() {
  member_report r;
  r.alpha = 32;
  r.commit = 1234;
  r.leader = 2;
  r.bootstrap.members = {{1, "", "", member_role::voter},
                         {2, "10.0.0.2:7411", "", member_role::voter},
                         {3, "", "", member_role::voter}};
  r.bootstrap.next_id = 4;
  r.current.members = {{1, "10.0.0.1:7411", "", member_role::voter},
                       {2, "10.0.0.2:7411", "", member_role::voter},
                       {4, "10.0.0.4:7411", "10.0.0.4:7401", member_role::learner}};
  r.current.next_id = 5;
  r.lag = {{1, 0}, {4, 977}};
  return r;
}

TEST(MemberReportTest, RoundTrips) {
  auto r = sample();
  auto back = decode_member_report(encode(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->alpha, 32u);
  EXPECT_EQ(back->commit, 1234u);
  EXPECT_EQ(back->leader, 2u);
  EXPECT_EQ(back->bootstrap, r.bootstrap);
  EXPECT_EQ(back->current, r.current);
  EXPECT_EQ(back->lag, r.lag);
}

TEST(MemberReportTest, MalformedReportsAreRefused) {
  auto good = encode(sample());
  for (std::string bad : {std::string{}, std::string{"R 32 1 2\n"},  // no voters at all
                          good + "M 0 v a:1 b:1\n",                  // id 0
                          good + "X 1\n",                            // unknown line
                          good + "L 4\n",                            // lag without a count
                          "R 32 1 99999999999\n" + good.substr(good.find('\n') + 1),
                          good + "M 9 v has|bar:1 b:1\n"})  // not an address
    EXPECT_FALSE(decode_member_report(bad)) << bad;
}

TEST(MemberReportTest, TheQueryIsNoKeyAndLagRefusalsAreTold) {
  EXPECT_TRUE(is_members_query(members_query()));
  EXPECT_FALSE(is_members_query("ballot:members"));
  EXPECT_TRUE(is_lag_refusal("refused: member 4 is 5000 slots behind (at most 1000)"));
  EXPECT_FALSE(is_lag_refusal("refused: member 4 is a voter already"));
  EXPECT_FALSE(is_lag_refusal("ok 4"));
}

TEST(MemberReportTest, TheRosterKeepsEveryMemberOfEveryEpochWithItsNewestRole) {
  configuration boot;
  boot.members = {{1, "", "", member_role::voter}, {2, "", "", member_role::voter}};
  boot.next_id = 3;
  membership m(4, boot);
  member_change add{member_change::kind::add_learner, 0, "h:3", "h:13"};
  EXPECT_EQ(m.apply(10, add), "ok 3");
  member_change promote{member_change::kind::promote, 3, "", ""};
  EXPECT_EQ(m.apply(11, promote), "ok 3");
  member_change remove{member_change::kind::remove, 1, "", ""};
  EXPECT_EQ(m.apply(12, remove), "ok 1");
  auto roster = roster_of(m);
  ASSERT_EQ(roster.size(), 3u) << "member 1 stays until no slot uses a configuration naming it";
  EXPECT_EQ(roster.at(3).role, member_role::voter);
  EXPECT_EQ(roster.at(3).peer, "h:3");
  m.prune(100);
  EXPECT_EQ(roster_of(m).count(1), 0u);
}

}  // namespace
