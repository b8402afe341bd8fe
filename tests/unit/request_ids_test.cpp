// A client's request ids (actors/paxos/request_ids.hpp), the rule the network
// client and the embedded clients share: one seq per write, and a fresh id
// from seq 1 once the replicas forgot the old one.

#include "actors/paxos/request_ids.hpp"

#include <gtest/gtest.h>

namespace {

using ballot::paxos::request_ids;

TEST(RequestIds, EachWriteTakesTheNextSeqOfTheSameId) {
  request_ids ids{42};
  EXPECT_EQ(ids.next_seq(), 1u);
  EXPECT_EQ(ids.next_seq(), 2u);
  EXPECT_EQ(ids.id(), 42u);
  EXPECT_EQ(ids.last_seq(), 2u);
  EXPECT_FALSE(ids.stale());
}

TEST(RequestIds, AfterExpiredTheNextWriteTakesAFreshIdFromSeqOne) {
  request_ids ids{42};
  ids.next_seq();
  ids.next_seq();
  ids.forgotten(42);
  EXPECT_TRUE(ids.stale());
  ids.renew(77);
  EXPECT_FALSE(ids.stale());
  EXPECT_EQ(ids.id(), 77u);
  EXPECT_EQ(ids.next_seq(), 1u);
}

TEST(RequestIds, AnExpiredAnswerForAnIdAlreadyReplacedLeavesTheNewOneAlone) {
  request_ids ids{42};
  ids.next_seq();
  ids.forgotten(42);
  ids.renew(77);
  ids.next_seq();
  // A write still in flight under 42 when 77 was taken comes back expired.
  ids.forgotten(42);
  EXPECT_FALSE(ids.stale());
  ids.forgotten(77);
  EXPECT_TRUE(ids.stale());
}

TEST(RequestIds, AnIdThatNamedNoWriteIsKept) {
  request_ids ids{42};
  ids.forgotten(42);
  EXPECT_FALSE(ids.stale());
  EXPECT_FALSE(ids.stale(true));
  ids.next_seq();
  EXPECT_TRUE(ids.stale(true));  // idle, in the caller's judgement
}

}  // namespace
