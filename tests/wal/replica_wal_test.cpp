// The core's compactions through the real log: replica cores with
// `wal_storage` and the key/value store, restarted from their data
// directories after taking snapshots and after installing one from a peer.
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "actors/kv/command_codec.hpp"
#include "actors/kv/kv_store.hpp"
#include "actors/paxos/replica.hpp"
#include "runtime/wal/wal_storage.hpp"
#include "temp_dir.hpp"

namespace {

using namespace ballot;
using namespace ballot::wal;
using ballot::wal::test::temp_dir;

/// N cores over an instant in-memory network, each persisting to its own
/// write-ahead log (appended and synced before its outputs go out). With
/// `background`, readies are handed over as the replica actor does
/// (`append_owned`), so local snapshots are written in the background.
class wal_cluster {
 public:
  wal_cluster(const temp_dir& dir, std::size_t n, paxos::config base, bool background = false)
      : dir_(dir), base_(base), background_(background) {
    base_.members.clear();
    for (paxos::node_id id = 1; id <= n; ++id)
      base_.members.push_back(id);
    for (auto id : base_.members)
      start(id);
  }

  void start(paxos::node_id id) {
    auto& n = nodes_[id];
    wal_options opts;
    opts.dir = dir_ / ("node" + std::to_string(id));
    opts.segment_size = 4096;  // several segments between snapshots
    n.disk = std::make_unique<wal_storage>(opts);
    n.store = std::make_unique<kv::kv_store>();
    auto cfg = base_;
    cfg.id = id;
    cfg.seed = base_.seed * 31 + id;
    n.core = std::make_unique<paxos::replica>(cfg, n.disk->load(), *n.store);
  }

  void crash(paxos::node_id id) {
    auto& n = nodes_.at(id);
    n.core.reset();
    n.store.reset();
    n.disk.reset();
  }

  bool up(paxos::node_id id) const { return nodes_.at(id).core != nullptr; }
  paxos::replica& core(paxos::node_id id) { return *nodes_.at(id).core; }
  const kv::kv_store& store(paxos::node_id id) { return *nodes_.at(id).store; }
  wal_storage& disk(paxos::node_id id) { return *nodes_.at(id).disk; }

  void run(std::size_t ticks) {
    for (std::size_t i = 0; i < ticks; ++i) {
      for (auto id : base_.members)
        if (up(id)) {
          core(id).tick();
          flush(id);
        }
      deliver();
    }
  }

  paxos::node_id elect() {
    for (int i = 0; i < 500; ++i) {
      for (auto id : base_.members)
        if (up(id) && core(id).is_leader())
          return id;
      run(1);
    }
    ADD_FAILURE() << "no leader";
    return 0;
  }

  void put(paxos::node_id leader, std::uint64_t seq, const std::string& key,
           const std::string& value) {
    core(leader).propose({1, seq, kv::encode(kv::put_request{key, value, std::nullopt})});
    flush(leader);
    deliver();
  }

  std::size_t compactions = 0;
  std::size_t installs = 0;

 private:
  struct node {
    std::unique_ptr<wal_storage> disk;
    std::unique_ptr<kv::kv_store> store;
    std::unique_ptr<paxos::replica> core;
  };

  void flush(paxos::node_id id) {
    auto& n = nodes_.at(id);
    auto rd = n.core->take_ready();
    if (rd.compacted)
      ++compactions;
    if (rd.must_persist() && background_)
      n.disk->append_owned(rd);
    else if (rd.must_persist())
      n.disk->append(rd);
    n.disk->sync();
    for (auto& env : rd.messages) {
      if (std::holds_alternative<paxos::install_snapshot>(env.msg))
        ++installs;
      wire_.push_back(std::move(env));
    }
  }

  void deliver() {
    while (!wire_.empty()) {
      auto env = std::move(wire_.front());
      wire_.pop_front();
      if (!up(env.to))
        continue;
      core(env.to).step(env);
      flush(env.to);
    }
  }

  const temp_dir& dir_;
  paxos::config base_;
  bool background_;
  std::map<paxos::node_id, node> nodes_;
  std::deque<paxos::envelope> wire_;
};

paxos::config small_snapshots() {
  paxos::config cfg;
  cfg.snapshot_interval = 8;
  return cfg;
}

std::string value_of(const kv::kv_store& store, const std::string& key) {
  auto it = store.items().find(key);
  return it == store.items().end() ? "<absent>" : std::string{it->second.value()};
}

class ReplicaWalTest : public ::testing::TestWithParam<bool> {};

TEST_P(ReplicaWalTest, ReplicasCompactTheirLogsAndRestartFromTheirSnapshots) {
  temp_dir dir;
  wal_cluster cluster{dir, 3, small_snapshots(), GetParam()};
  auto leader = cluster.elect();
  for (std::uint64_t seq = 1; seq <= 60; ++seq)
    cluster.put(leader, seq, "k" + std::to_string(seq % 7), "v" + std::to_string(seq));
  cluster.run(10);  // followers learn the last commit index from heartbeats
  EXPECT_GT(cluster.compactions, 6u);
  auto revision = cluster.store(leader).revision();
  EXPECT_EQ(revision, 60u);
  for (paxos::node_id id = 1; id <= 3; ++id) {
    SCOPED_TRACE("node " + std::to_string(id));
    cluster.disk(id).finish_checkpoint(true);
    auto snapshots = cluster.disk(id).log().snapshot_files();
    EXPECT_EQ(snapshots.size(), 1u);
    // The log starts after the snapshot, not at record 0.
    EXPECT_NE(cluster.disk(id).log().segment_files().front(), segment_file_name(0));
  }
  for (paxos::node_id id = 1; id <= 3; ++id) {
    cluster.crash(id);
    cluster.start(id);
    SCOPED_TRACE("restarted node " + std::to_string(id));
    EXPECT_FALSE(cluster.disk(id).last_recovery().snapshot_file.empty());
    EXPECT_EQ(cluster.store(id).revision(), revision);
    EXPECT_EQ(value_of(cluster.store(id), "k3"), "v59");
    EXPECT_EQ(value_of(cluster.store(id), "k4"), "v60");
  }
  leader = cluster.elect();
  cluster.put(leader, 61, "after", "restart");
  cluster.run(10);
  for (paxos::node_id id = 1; id <= 3; ++id) {
    EXPECT_EQ(cluster.store(id).revision(), revision + 1) << "node " << id;
    EXPECT_EQ(value_of(cluster.store(id), "after"), "restart") << "node " << id;
  }
}

TEST_P(ReplicaWalTest, AnInstalledSnapshotIsPersistedAndSurvivesARestart) {
  temp_dir dir;
  wal_cluster cluster{dir, 3, small_snapshots(), GetParam()};
  auto leader = cluster.elect();
  paxos::node_id lagging = leader % 3 + 1;
  cluster.put(leader, 1, "early", "1");
  cluster.crash(lagging);
  for (std::uint64_t seq = 2; seq <= 40; ++seq)
    cluster.put(leader, seq, "k" + std::to_string(seq % 5), std::to_string(seq));
  cluster.start(lagging);
  cluster.run(20);
  EXPECT_GT(cluster.installs, 0u);
  ASSERT_EQ(cluster.store(lagging).revision(), 40u);
  EXPECT_EQ(cluster.disk(lagging).log().snapshot_files().size(), 1u);
  // Its disk now starts from the installed snapshot.
  cluster.crash(lagging);
  cluster.start(lagging);
  EXPECT_FALSE(cluster.disk(lagging).last_recovery().snapshot_file.empty());
  EXPECT_EQ(cluster.store(lagging).revision(), 40u);
  EXPECT_EQ(value_of(cluster.store(lagging), "early"), "1");
  EXPECT_EQ(value_of(cluster.store(lagging), "k0"), "40");
}

/// Snapshots in the background, and crashes whenever they come: every node is
/// killed at some point of a stream of writes, whatever its checkpoint is
/// doing, and comes back with every write.
TEST(ReplicaWalBackgroundTest, CrashesWhileSnapshotsAreWrittenLoseNothing) {
  temp_dir dir;
  wal_cluster cluster{dir, 3, small_snapshots(), true};
  auto leader = cluster.elect();
  std::uint64_t seq = 0;
  for (int round = 0; round < 6; ++round) {
    for (int i = 0; i < 13; ++i) {
      ++seq;
      cluster.put(leader, seq, "k" + std::to_string(seq % 5), "v" + std::to_string(seq));
    }
    paxos::node_id victim = static_cast<paxos::node_id>(round % 3 + 1);
    cluster.crash(victim);
    cluster.start(victim);
    cluster.run(20);
    leader = cluster.elect();
  }
  cluster.run(20);
  for (paxos::node_id id = 1; id <= 3; ++id) {
    SCOPED_TRACE("node " + std::to_string(id));
    EXPECT_EQ(cluster.store(id).revision(), seq);
    EXPECT_EQ(value_of(cluster.store(id), "k3"), "v78");
    cluster.crash(id);
    cluster.start(id);
    EXPECT_EQ(cluster.store(id).revision(), seq);
    EXPECT_EQ(value_of(cluster.store(id), "k4"), "v74");
  }
  EXPECT_GT(cluster.compactions, 6u);
}

INSTANTIATE_TEST_SUITE_P(Checkpoints, ReplicaWalTest, ::testing::Values(false, true),
                         [](const auto& info) {
                           return info.param ? "InTheBackground" : "AtOnce";
                         });

}  // namespace
