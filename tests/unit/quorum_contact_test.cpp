#include "actors/paxos/quorum_contact.hpp"

#include <gtest/gtest.h>

using ballot::paxos::quorum_contact;

TEST(QuorumContactTest, AWindowWithAQuorumHeardKeepsTheLeadership) {
  quorum_contact c;
  c.start(1, 2, 4);  // 3 voters: itself and one more make a quorum
  for (int window = 0; window < 3; ++window) {
    c.heard(3);
    for (int t = 0; t < 3; ++t)
      EXPECT_FALSE(c.tick());
    EXPECT_FALSE(c.tick()) << "window " << window;
  }
}

TEST(QuorumContactTest, AWindowWithoutAQuorumIsLostAtItsEndOnly) {
  quorum_contact c;
  c.start(1, 3, 5);  // 5 voters: itself and two more
  c.heard(2);
  c.heard(2);  // the same voter twice is one
  for (int t = 0; t < 4; ++t)
    EXPECT_FALSE(c.tick());
  EXPECT_TRUE(c.tick());
  // What was heard counts for one window: the next starts from itself.
  c.heard(4);
  for (int t = 0; t < 4; ++t)
    EXPECT_FALSE(c.tick());
  EXPECT_TRUE(c.tick());
  c.heard(4);
  c.heard(5);
  for (int t = 0; t < 4; ++t)
    EXPECT_FALSE(c.tick());
  EXPECT_FALSE(c.tick());
}

TEST(QuorumContactTest, ALeaderAloneIsItsOwnQuorumAndANewLeadershipStartsAfresh) {
  quorum_contact c;
  c.start(7, 1, 2);
  for (int t = 0; t < 10; ++t)
    EXPECT_FALSE(c.tick());
  c.start(7, 2, 3);
  c.heard(8);
  EXPECT_FALSE(c.tick());
  c.start(7, 2, 3);  // what the last leadership heard is forgotten
  EXPECT_FALSE(c.tick());
  EXPECT_FALSE(c.tick());
  EXPECT_TRUE(c.tick());
}
