// The embedded client against three kv_store replicas on CAF's real
// scheduler: writes, linearizable reads, compare-and-set, listings, and a
// leader crash in the middle. Every wait is bounded by the client's timeout.

#include "actors/kv/kv_client.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "caf/all.hpp"

#include "actors/replica/replica_actor.hpp"
#include "tests/support/replica_cluster_fixture.hpp"

namespace {

using namespace ballot;
using namespace std::chrono_literals;
using kv::result_code;

class KvClientTest : public test_support::ReplicaClusterFixture {};

TEST_F(KvClientTest, PutGetCasListDelete) {
  kv::kv_client client{sys, group, 1, 5s};
  auto v1 = client.put("app/a", "1");
  ASSERT_TRUE(v1.ok()) << v1.message;
  auto got = client.get("app/a");
  ASSERT_TRUE(got.ok()) << got.message;
  EXPECT_EQ(got.value, "1");
  EXPECT_EQ(got.version, v1.version);
  EXPECT_EQ(client.put("app/a", "x", 0).code, result_code::version_mismatch);
  auto v2 = client.put("app/a", "2", v1.version);
  ASSERT_TRUE(v2.ok());
  EXPECT_GT(v2.version, v1.version);
  EXPECT_EQ(client.put("app/a", "3", v1.version).code, result_code::version_mismatch);
  ASSERT_TRUE(client.put("app/b", "b").ok());
  ASSERT_TRUE(client.put("other", "o").ok());
  auto listing = client.list("app/");
  ASSERT_TRUE(listing.ok());
  ASSERT_EQ(listing.entries.size(), 2u);
  EXPECT_EQ(listing.entries[0].key, "app/a");
  EXPECT_EQ(listing.entries[0].version, v2.version);
  EXPECT_EQ(listing.entries[1].key, "app/b");
  EXPECT_TRUE(client.del("app/a").ok());
  EXPECT_EQ(client.get("app/a").code, result_code::not_found);
  EXPECT_EQ(client.del("app/a").code, result_code::not_found);
}

TEST_F(KvClientTest, SurvivesTheLeaderCrashing) {
  kv::kv_client client{sys, group, 2, 5s};
  ASSERT_TRUE(client.put("k", "before").ok());
  // Find and kill the leader.
  caf::scoped_actor self{sys};
  paxos::node_id leader = 0;
  for (auto& [id, replica] : group)
    self->request(replica, 1s, actors::status_atom_v)
      .receive([&](actors::replica_status& st) { leader = st.is_leader ? st.id : leader; },
               [](caf::error&) {});
  ASSERT_NE(leader, 0u);
  caf::anon_send_exit(group[leader], caf::exit_reason::kill);
  auto after = client.put("k", "after");
  ASSERT_TRUE(after.ok()) << after.message;
  auto got = client.get("k");
  ASSERT_TRUE(got.ok()) << got.message;
  EXPECT_EQ(got.value, "after");
}

TEST_F(KvClientTest, NoReplicasAnsweringMeansUnavailableWithinTheTimeout) {
  for (auto& [id, replica] : group)
    caf::anon_send_exit(replica, caf::exit_reason::kill);
  kv::kv_client client{sys, group, 3, 300ms};
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(client.put("k", "v").code, result_code::unavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(KvClientTest, AnExpiredWriteIsReportedAsSuchAndTheNextWriteTakesAFreshId) {
  // Another client under the same id pushes seq 1 out of the replicas'
  // dedup window (64 seqs): to them that id's first writes are forgotten.
  {
    kv::kv_client other{sys, group, 9, 5s};
    for (int i = 0; i < 66; ++i)
      ASSERT_TRUE(other.put("other", std::to_string(i)).ok());
  }
  kv::kv_client client{sys, group, 9, 5s};
  auto first = client.put("k", "first");
  EXPECT_EQ(first.code, result_code::expired) << first.message;
  // Under its old id every later seq would be refused too.
  auto second = client.put("k", "second");
  ASSERT_TRUE(second.ok()) << second.message;
  auto got = client.get("k");
  ASSERT_TRUE(got.ok()) << got.message;
  EXPECT_EQ(got.value, "second");
  EXPECT_EQ(got.version, second.version);
}

}  // namespace
