// Online backup at the gateway (schemas/client.capnp `snapshot`), in one
// process: the file arrives in pieces no larger than the node's chunk size
// and checks out; one stream per node (busy); a stream not pulled within
// the stall cutoff ends and frees the slot; so does one whose capability
// the caller drops; the client library saves the same file.
#include <gtest/gtest.h>

#include <capnp/ez-rpc.h>

#include "actors/backup/backup_format.hpp"
#include "schemas/client.capnp.h"
#include "tests/gateway/cluster_fixture.hpp"

namespace {

using namespace ballot;
using namespace std::chrono_literals;
using schemas::client::Ballot;

class BackupGatewayTest : public test_support::ClusterFixture {
 protected:
  gateway::options backup_options(paxos::node_id id) {
    auto opts = gateway_options(id);
    opts.backup_chunk_bytes = 1000;
    opts.backup_stall_timeout = 400ms;
    opts.cluster_id = std::string(32, 'k');
    return opts;
  }

  void SetUp() override {
    for (paxos::node_id id : {1, 2, 3})
      gateways[id] = gateway::start(sys, backup_options(id), gateway::find_in(group));
    auto c = make_client({endpoint_of(1), endpoint_of(2), endpoint_of(3)});
    for (int i = 0; i < 20; ++i)
      ASSERT_TRUE(c->put("key-" + std::to_string(i), std::string(500, 'a' + i % 26)).ok());
  }

  /// Pulls a stream to its end; the pieces' sizes go to `sizes`.
  static std::string pull_all(schemas::client::SnapshotStream::Client stream, kj::WaitScope& ws,
                              std::vector<std::size_t>& sizes) {
    std::string out;
    for (int i = 0; i < 10'000; ++i) {
      auto response = stream.nextRequest().send().wait(ws);
      auto r = response.getResult();
      EXPECT_FALSE(r.isError());
      if (r.isError())
        break;
      auto chunk = r.getChunk();
      sizes.push_back(chunk.size());
      out.append(reinterpret_cast<const char*>(chunk.begin()), chunk.size());
      if (r.getLast())
        break;
    }
    return out;
  }
};

TEST_F(BackupGatewayTest, TheFileComesInBoundedPiecesAndChecksOut) {
  capnp::EzRpcClient rpc{endpoint_of(2)};  // a follower or the leader: either serves it
  auto& ws = rpc.getWaitScope();
  auto cap = rpc.getMain<Ballot>();
  auto answer = cap.snapshotRequest().send().wait(ws);
  auto res = answer.getResult();
  ASSERT_TRUE(res.isInfo());
  auto info = res.getInfo();
  EXPECT_GT(info.getTotalBytes(), 10'000u);
  std::vector<std::size_t> sizes;
  auto file = pull_all(info.getStream(), ws, sizes);
  ASSERT_EQ(file.size(), info.getTotalBytes());
  EXPECT_GT(sizes.size(), 10u);
  for (auto n : sizes)
    EXPECT_LE(n, 1000u);
  auto c = backup::check_backup(file);
  ASSERT_TRUE(c.ok) << c.error;
  EXPECT_EQ(c.header.cluster_id, std::string(32, 'k'));
  EXPECT_EQ(c.header.applied_index, info.getAppliedIndex());
  EXPECT_EQ(c.header.summary.revision, info.getRevision());
  EXPECT_EQ(c.header.summary.members, 3u);
  // After the last piece, the stream is over.
  auto after = info.getStream().nextRequest().send().wait(ws);
  EXPECT_TRUE(after.getResult().isError());
}

TEST_F(BackupGatewayTest, OneStreamPerNodeUntilItEndsStallsOrIsDropped) {
  capnp::EzRpcClient rpc{endpoint_of(1)};
  auto& ws = rpc.getWaitScope();
  auto cap = rpc.getMain<Ballot>();
  auto first = cap.snapshotRequest().send().wait(ws);
  ASSERT_TRUE(first.getResult().isInfo());
  auto stream = first.getResult().getInfo().getStream();
  // While it is open, the node refuses a second one; another node serves one.
  auto second = cap.snapshotRequest().send().wait(ws);
  ASSERT_TRUE(second.getResult().isError());
  EXPECT_TRUE(second.getResult().getError().isBusy());
  {
    capnp::EzRpcClient other{endpoint_of(3)};
    auto r = other.getMain<Ballot>().snapshotRequest().send().wait(other.getWaitScope());
    EXPECT_TRUE(r.getResult().isInfo());
  }
  // Pulled now and then, it lives past the cutoff.
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(250ms);
    auto r = stream.nextRequest().send().wait(ws);
    EXPECT_FALSE(r.getResult().isError()) << i;
  }
  // Not pulled for longer than the cutoff: it ends, and the slot is free.
  std::this_thread::sleep_for(700ms);
  auto stalled = stream.nextRequest().send().wait(ws);
  ASSERT_TRUE(stalled.getResult().isError());
  EXPECT_TRUE(stalled.getResult().getError().isUnavailable());
  auto third = cap.snapshotRequest().send().wait(ws);
  ASSERT_TRUE(third.getResult().isInfo());
  // Dropping the capability frees the slot too.
  { auto dropped = kj::mv(third); }
  bool freed = false;
  for (int i = 0; i < 50 && !freed; ++i) {
    auto r = cap.snapshotRequest().send().wait(ws);
    freed = r.getResult().isInfo();
    if (!freed)
      std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(freed);
}

TEST_F(BackupGatewayTest, AFollowerThatDoesNotForwardBackupsNamesTheLeader) {
  auto leader = await_leader();
  ASSERT_NE(leader, 0u);
  auto follower = leader == 1 ? paxos::node_id{2} : paxos::node_id{1};
  auto opts = backup_options(follower);
  opts.forward_backups = false;  // as in a cluster of ballotd nodes
  opts.client_endpoints[leader] = endpoint_of(leader);
  gateways[follower].reset();
  gateways[follower] = gateway::start(sys, opts, gateway::find_in(group));
  capnp::EzRpcClient rpc{endpoint_of(follower)};
  auto answer = rpc.getMain<Ballot>().snapshotRequest().send().wait(rpc.getWaitScope());
  auto res = answer.getResult();
  ASSERT_TRUE(res.isError());
  ASSERT_TRUE(res.getError().isNotLeader());
  EXPECT_EQ(res.getError().getNotLeader().getLeaderId(), leader);
  // The client library follows the hint to the leader's node.
  auto c = make_client({endpoint_of(follower)});
  auto r = c->snapshot([](const char*, std::size_t, std::uint64_t) { return true; }, 10s);
  EXPECT_TRUE(r.ok()) << r.message;
}

TEST_F(BackupGatewayTest, TheClientLibrarySavesTheSameState) {
  auto c = make_client({endpoint_of(1), endpoint_of(2), endpoint_of(3)});
  std::string file;
  std::uint64_t announced = 0;
  auto r = c->snapshot(
    [&](const char* data, std::size_t n, std::uint64_t total) {
      file.append(data, n);
      announced = total;
      return true;
    },
    10s);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.received, file.size());
  EXPECT_EQ(announced, file.size());
  auto check = backup::check_backup(file);
  ASSERT_TRUE(check.ok) << check.error;
  EXPECT_EQ(check.header.summary.revision, r.revision);
  EXPECT_EQ(check.header.applied_index, r.applied_index);
  // A sink that stops ends the call without a retry elsewhere.
  int calls = 0;
  auto stopped = c->snapshot(
    [&](const char*, std::size_t, std::uint64_t) {
      ++calls;
      return false;
    },
    10s);
  EXPECT_FALSE(stopped.ok());
  EXPECT_EQ(calls, 1);
}

}  // namespace
