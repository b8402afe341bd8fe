// Who may talk on the peer port: identities, hellos, claimed senders, budgets.
#include <gtest/gtest.h>

#include "runtime/peer/peer_policy.hpp"

namespace {

using namespace ballot::peer;

const std::string cluster_a(32, 'a');
const std::string cluster_b(32, 'b');

frame make(frame_kind k, std::uint32_t from, const std::string& payload = {}) {
  frame f;
  f.kind = k;
  f.from = from;
  f.payload.assign(payload.begin(), payload.end());
  return f;
}

frame hello(std::uint32_t from, const std::string& cluster = cluster_a) {
  return make(frame_kind::hello, from, cluster);
}

TEST(PeerPolicyTest, CommonNameMustBeExactlyAnotherMember) {
  peer_policy p{1, {1, 2, 3}};
  EXPECT_EQ(p.member_of_common_name("member-2"), 2u);
  EXPECT_EQ(p.member_of_common_name("member-3"), 3u);
  for (auto cn : {"member-1", "member-4", "member-", "member-02", "member-2 ", "member-+2",
                  "member--2", "Member-2", "member-2x", "member-99999999999", "node-2", ""})
    EXPECT_FALSE(p.member_of_common_name(cn)) << "'" << cn << "'";
  EXPECT_EQ(peer_policy::common_name_of(7), "member-7");
}

TEST(PeerPolicyTest, InsecureConnectionsStartWithAHelloNamingAnotherMember) {
  peer_policy p{1, {1, 2, 3}, cluster_a};
  drop_reason why{};
  EXPECT_EQ(p.member_of_hello(hello(3), why), 3u);
  EXPECT_FALSE(p.member_of_hello(hello(1), why));  // itself
  EXPECT_EQ(why, drop_reason::not_a_member);
  EXPECT_FALSE(p.member_of_hello(hello(9), why));
  EXPECT_EQ(why, drop_reason::not_a_member);
  EXPECT_FALSE(p.member_of_hello(make(frame_kind::prepare, 2, cluster_a), why));
  EXPECT_EQ(why, drop_reason::missing_hello);
}

TEST(PeerPolicyTest, AHelloFromAnotherClusterIsForeignWhateverMemberItNames) {
  peer_policy p{1, {1, 2, 3}, cluster_a};
  drop_reason why{};
  EXPECT_FALSE(p.member_of_hello(hello(2, cluster_b), why));
  EXPECT_EQ(why, drop_reason::foreign_cluster);
  EXPECT_FALSE(p.member_of_hello(hello(9, cluster_b), why));
  EXPECT_EQ(why, drop_reason::foreign_cluster);
  // No id at all (an old node), or a prefix of the right one.
  EXPECT_FALSE(p.member_of_hello(hello(2, ""), why));
  EXPECT_EQ(why, drop_reason::foreign_cluster);
  EXPECT_FALSE(p.member_of_hello(hello(2, cluster_a.substr(0, 31)), why));
  EXPECT_EQ(why, drop_reason::foreign_cluster);
  EXPECT_EQ(reason_name(drop_reason::foreign_cluster), std::string{"foreign_cluster"});
}

TEST(PeerPolicyTest, WithTlsTheCertificateNamesTheMemberAndTheHelloTheCluster) {
  peer_policy p{1, {1, 2, 3}, cluster_a};
  drop_reason why{};
  EXPECT_EQ(p.member_of_hello(hello(2), why, 2), 2u);
  EXPECT_EQ(p.member_of_hello(hello(3), why, 2), 2u);
  EXPECT_FALSE(p.member_of_hello(hello(2, cluster_b), why, 2));
  EXPECT_EQ(why, drop_reason::foreign_cluster);
}

TEST(PeerPolicyTest, FramesMustComeFromTheAuthenticatedMember) {
  peer_policy p{1, {1, 2, 3}};
  EXPECT_FALSE(p.check(2, make(frame_kind::accepted, 2)));
  EXPECT_EQ(p.check(2, make(frame_kind::accepted, 3)), drop_reason::from_mismatch);
  EXPECT_EQ(p.check(2, make(frame_kind::prepare, 1)), drop_reason::from_mismatch);
  EXPECT_EQ(p.check(2, make(frame_kind::hello, 2)), drop_reason::unexpected_kind);
}

TEST(PeerPolicyTest, CountersSummarizeWhatCounted) {
  drop_counters c;
  EXPECT_EQ(c.summary(), "");
  c.count(drop_reason::from_mismatch);
  c.count(drop_reason::from_mismatch);
  c.count(drop_reason::tls_handshake);
  EXPECT_EQ(c.get(drop_reason::from_mismatch), 2u);
  EXPECT_EQ(c.summary(), "tls_handshake=1 from_mismatch=2");
}

TEST(PeerPolicyTest, OutboxBudgetDropsPastItButLetsOneHugeFrameThroughWhenEmpty) {
  outbox b{100};
  EXPECT_TRUE(b.fits(1000));  // empty: a single message larger than the budget still goes
  b.add(60);
  EXPECT_TRUE(b.fits(40));
  EXPECT_FALSE(b.fits(41));
  b.add(40);
  b.written(60);
  EXPECT_TRUE(b.fits(60));
  EXPECT_EQ(b.queued(), 40u);
  b.reset();
  EXPECT_EQ(b.queued(), 0u);
}

TEST(PeerPolicyTest, AWriteFinishingAfterTheConnectionDiedDoesNotWedgeTheOutbox) {
  // The write chain of a dead connection may complete after set_down reset
  // the count: before the fix the count wrapped below zero and every later
  // frame to that member was refused as over budget (ProcessRepairTest
  // stalled about one run in three).
  outbox b{100};
  b.add(60);
  b.reset();
  b.add(10);      // the new connection's first frame
  b.written(60);  // the old connection's write completes late
  EXPECT_LE(b.queued(), 10u);
  EXPECT_TRUE(b.fits(90));
}

}  // namespace
