// The cluster id: how it is derived, and how <data-dir>/cluster-id keeps it
// across restarts (README "Cluster identity").
#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "actors/backup/cluster_id.hpp"
#include "actors/backup/sha256.hpp"
#include "runtime/ballotd/cluster_id_file.hpp"
#include "tests/wal/temp_dir.hpp"

namespace {

using namespace ballot;
using ballot::ballotd::cluster_id_wish;
using ballot::ballotd::id_origin;
using ballot::wal::test::temp_dir;

const std::set<std::uint32_t> three{1, 2, 3};

TEST(ClusterIdTest, DerivationIsDeterministicAndTellsTokensAndMembersApart) {
  auto a = backup::derive_cluster_id("prod", three);
  EXPECT_EQ(a.size(), backup::cluster_id_bytes);
  EXPECT_EQ(a, backup::derive_cluster_id("prod", three));
  EXPECT_NE(a, backup::derive_cluster_id("staging", three));
  EXPECT_NE(a, backup::derive_cluster_id("", three));
  EXPECT_NE(a, backup::derive_cluster_id("prod", {1, 2}));
  EXPECT_NE(a, backup::derive_cluster_id("prod", {1, 2, 4}));
  // Length-prefixed parts: moving digits between token and ids changes it.
  EXPECT_NE(backup::derive_cluster_id("1", {23}), backup::derive_cluster_id("12", {3}));
  EXPECT_NE(backup::derive_cluster_id("", {1, 23}), backup::derive_cluster_id("", {12, 3}));
}

TEST(ClusterIdTest, ARestoredIdDependsOnTheOldIdAndTheBackup) {
  auto old_id = backup::derive_cluster_id("prod", three);
  std::string sum_a(32, 'a'), sum_b(32, 'b');
  auto r = backup::restored_cluster_id(old_id, sum_a);
  EXPECT_EQ(r.size(), 32u);
  EXPECT_NE(r, old_id);
  EXPECT_EQ(r, backup::restored_cluster_id(old_id, sum_a));
  EXPECT_NE(r, backup::restored_cluster_id(old_id, sum_b));
}

TEST(ClusterIdTest, HexIsParsedStrictly) {
  std::string why;
  auto id = backup::derive_cluster_id("x", three);
  EXPECT_EQ(backup::parse_cluster_id(backup::to_hex(id), why), id);
  EXPECT_FALSE(backup::parse_cluster_id(backup::to_hex(id).substr(2), why));
  EXPECT_FALSE(backup::parse_cluster_id(std::string(63, 'a') + "g", why));
  EXPECT_FALSE(backup::parse_cluster_id("", why));
  EXPECT_EQ(backup::to_hex(std::string{"\x01\xab", 2}), "01ab");
}

TEST(ClusterIdFileTest, TheFirstStartWritesTheIdAndLaterStartsCompareIt) {
  temp_dir dir;
  cluster_id_wish wish{backup::derive_cluster_id("prod", three), id_origin::derived};
  auto first = ballotd::settle_cluster_id(dir.path(), wish);
  ASSERT_TRUE(first.error.empty()) << first.error;
  EXPECT_EQ(first.id, wish.id);
  std::ifstream in{dir / "cluster-id"};
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, backup::to_hex(wish.id));
  EXPECT_FALSE(std::ifstream{dir / "cluster-id.tmp"}.good());  // renamed, not left
  // Same flags: fine. Other token: refused, naming both ids.
  EXPECT_TRUE(ballotd::settle_cluster_id(dir.path(), wish).error.empty());
  cluster_id_wish other{backup::derive_cluster_id("staging", three), id_origin::derived};
  auto refused = ballotd::settle_cluster_id(dir.path(), other);
  EXPECT_FALSE(refused.bad_file);
  EXPECT_NE(refused.error.find(backup::to_hex(wish.id)), std::string::npos) << refused.error;
  EXPECT_NE(refused.error.find(backup::to_hex(other.id)), std::string::npos) << refused.error;
  // --cluster-id of the stored id keeps it even with other flags; another one is refused.
  EXPECT_TRUE(
    ballotd::settle_cluster_id(dir.path(), {wish.id, id_origin::explicit_}).error.empty());
  EXPECT_FALSE(
    ballotd::settle_cluster_id(dir.path(), {other.id, id_origin::explicit_}).error.empty());
}

TEST(ClusterIdFileTest, ARestoredIdIsKeptWhenTheFlagsOnlyDeriveOne) {
  temp_dir dir;
  cluster_id_wish restored{std::string(32, 'r'), id_origin::restored};
  ASSERT_FALSE(ballotd::write_cluster_id(dir.path(), restored));
  auto stored = ballotd::read_cluster_id(dir.path());
  ASSERT_TRUE(stored.present && stored.error.empty());
  EXPECT_EQ(stored.value.id, restored.id);
  EXPECT_EQ(stored.value.origin, id_origin::restored);
  cluster_id_wish derived{backup::derive_cluster_id("", three), id_origin::derived};
  auto s = ballotd::settle_cluster_id(dir.path(), derived);
  EXPECT_TRUE(s.error.empty()) << s.error;
  EXPECT_EQ(s.id, restored.id);
}

TEST(ClusterIdFileTest, ADamagedFileIsADataErrorNamingIt) {
  temp_dir dir;
  std::ofstream{dir / "cluster-id"} << "not hex\n";
  auto s = ballotd::settle_cluster_id(dir.path(), {std::string(32, 'a'), id_origin::derived});
  EXPECT_TRUE(s.bad_file);
  EXPECT_NE(s.error.find("cluster-id"), std::string::npos) << s.error;
  std::ofstream{dir / "cluster-id"} << std::string(64, 'a') << "\nsideways\n";
  EXPECT_FALSE(ballotd::read_cluster_id(dir.path()).error.empty());
  // Absent: nothing stored, no error.
  temp_dir empty;
  auto none = ballotd::read_cluster_id(empty.path());
  EXPECT_FALSE(none.present);
  EXPECT_TRUE(none.error.empty());
}

}  // namespace
