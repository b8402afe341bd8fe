// The backup file (actors/backup/backup_format): what make_backup_file
// writes, check_backup accepts and snapshot_of gives back; truncated, flipped
// and foreign files are refused with the offset of the damage.
#include <gtest/gtest.h>

#include "actors/backup/backup_format.hpp"
#include "actors/backup/sha256.hpp"

namespace {

using namespace ballot;
using namespace ballot::backup;

paxos::snapshot sample() {
  paxos::snapshot s;
  s.last = 4242;
  s.machine = std::string(100'000, 'm') + "tail";
  paxos::client_record c;
  c.client = 77;
  c.forgotten = 3;
  c.last_active_ms = 123456;
  c.results = {{4, "four"}, {5, std::string("\0five", 5)}};
  c.fingerprints = {11, 12};
  paxos::client_record d;
  d.client = 78;
  s.clients = {c, d};
  s.members = "membership bytes";
  return s;
}

const std::string cluster(32, 'C');

std::string sample_file() {
  std::string why;
  auto f = make_backup_file(cluster, encode_backup_state(sample(), {901, 17, 2, 3}), why);
  EXPECT_TRUE(f) << why;
  return f.value_or("");
}

TEST(BackupFormatTest, AFileRoundTripsItsSnapshotAndHeader) {
  auto file = sample_file();
  auto c = check_backup(file);
  ASSERT_TRUE(c.ok) << c.error;
  EXPECT_EQ(c.header.cluster_id, cluster);
  EXPECT_EQ(c.header.applied_index, 4242u);
  EXPECT_EQ(c.header.summary.revision, 901u);
  EXPECT_EQ(c.header.summary.keys, 17u);
  EXPECT_EQ(c.header.summary.sessions, 2u);
  EXPECT_EQ(c.header.summary.members, 3u);
  EXPECT_EQ(c.header.client_records, 2u);
  EXPECT_EQ(file.size(), backup_header_bytes + c.header.body_bytes() + backup_trailer_bytes);
  // The trailer is the SHA-256 of everything before it.
  auto sum = sha256_of(std::string_view{file}.substr(0, file.size() - 32));
  EXPECT_EQ(c.checksum, file.substr(file.size() - 32));
  EXPECT_EQ(to_hex(sum), to_hex(c.checksum));
  std::string why;
  auto snap = snapshot_of(file, c.header, why);
  ASSERT_TRUE(snap) << why;
  EXPECT_EQ(*snap, sample());
}

TEST(BackupFormatTest, ATruncatedFileIsRefusedWhereverItEnds) {
  auto file = sample_file();
  for (std::size_t len : {std::size_t{0}, std::size_t{7}, std::size_t{127}, std::size_t{128},
                          std::size_t{5000}, file.size() - 33, file.size() - 1}) {
    auto c = check_backup(std::string_view{file}.substr(0, len));
    EXPECT_FALSE(c.ok) << len;
    EXPECT_NE(c.error.find("truncated"), std::string::npos) << len << ": " << c.error;
  }
}

TEST(BackupFormatTest, AnyFlippedByteIsCaught) {
  auto file = sample_file();
  // In the header's counts, the body, and the trailer itself.
  for (std::size_t at : {std::size_t{50}, std::size_t{70}, std::size_t{200}, std::size_t{60'000},
                         file.size() - 40, file.size() - 1}) {
    auto bad = file;
    bad[at] = static_cast<char>(bad[at] ^ 0x20);
    auto c = check_backup(bad);
    EXPECT_FALSE(c.ok) << at;
    EXPECT_NE(c.error.find("checksum"), std::string::npos) << at << ": " << c.error;
  }
  // Sizes in the header that no longer add up are refused before hashing.
  auto bad = file;
  bad[88] = static_cast<char>(bad[88] ^ 1);
  auto c = check_backup(bad);
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.offset, 88u);
}

TEST(BackupFormatTest, WrongMagicVersionOrExtraBytesAreNamed) {
  auto file = sample_file();
  auto bad = file;
  bad[0] = 'X';
  EXPECT_NE(check_backup(bad).error.find("magic"), std::string::npos);
  bad = file;
  bad[8] = 2;
  EXPECT_NE(check_backup(bad).error.find("version 2"), std::string::npos);
  auto c = check_backup(file + "x");
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.offset, file.size());
}

TEST(BackupFormatTest, MalformedReplicaStateOrClusterIdMakesNoFile) {
  std::string why;
  auto state = encode_backup_state(sample(), {});
  EXPECT_FALSE(make_backup_file(cluster, state.substr(0, state.size() - 1), why));
  EXPECT_FALSE(make_backup_file(std::string(31, 'c'), state, why));
  EXPECT_TRUE(make_backup_file(cluster, state, why));
}

TEST(BackupFormatTest, TheBackupQueryIsItsOwn) {
  EXPECT_TRUE(is_backup_query(backup_query()));
  EXPECT_FALSE(is_backup_query(""));
  EXPECT_FALSE(is_backup_query(backup_query() + "x"));
}

}  // namespace
