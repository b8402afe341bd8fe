// The snapshot's bytes are a format (checkpoints on disk, backups, snapshots
// sent to lagging replicas): a faster encoder must write exactly what the
// old one wrote. The expected sizes and hashes were computed with the
// encoder before issue 9 (growing its buffer by doubling) on the same states.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "actors/auth/auth_codec.hpp"
#include "actors/kv/command_codec.hpp"
#include "actors/kv/kv_store.hpp"
#include "actors/lock/lock_codec.hpp"
#include "actors/service/service_machine.hpp"

namespace ballot::service {
namespace {

/// FNV-1a, 64 bits: defined bytes to compare against, unlike std::hash.
std::uint64_t fnv1a(const std::string& bytes) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string value_of(int i) {
  // Lengths from 0 to past 64 KiB, contents depending on the key.
  std::string v(static_cast<std::size_t>((i * 7919) % 70'000), '\0');
  for (std::size_t j = 0; j < v.size(); ++j)
    v[j] = static_cast<char>((i + j * 31) & 0xff);
  return v;
}

/// Keys, overwrites, deletes, sessions with ephemeral keys, held and waited
/// locks: every section of the lock service's snapshot has items.
void fill(service_machine& m) {
  auto lock_apply = [&](const lock::command& cmd) {
    lock::result r;
    std::string error;
    EXPECT_TRUE(lock::decode(m.apply(lock::encode(cmd)), r, error)) << error;
    return r;
  };
  for (int i = 0; i < 300; ++i)
    m.apply(kv::encode(kv::request{kv::put_request{"k/" + std::to_string(i), value_of(i), {}}}));
  for (int i = 0; i < 300; i += 7)
    m.apply(kv::encode(kv::request{kv::del_request{"k/" + std::to_string(i), {}}}));
  for (int i = 1; i < 300; i += 11)
    m.apply(kv::encode(kv::request{kv::put_request{"k/" + std::to_string(i), "again", {}}}));
  auto a = lock_apply(lock::open_session{1000, 5000, {"alice", 42}});
  auto b = lock_apply(lock::open_session{1001, 7000});
  ASSERT_TRUE(a.ok() && b.ok());
  lock::credential alice{"alice", 42};
  ASSERT_TRUE(lock_apply(lock::put_key{1002, "svc/a", "10.0.0.1:80", a.session, alice}).ok());
  ASSERT_TRUE(lock_apply(lock::put_key{1003, "svc/b", "10.0.0.2:80", b.session}).ok());
  ASSERT_TRUE(
    lock_apply(lock::acquire{1004, a.session, "L1", lock::lock_mode::exclusive, false, 0, alice})
      .ok());
  lock_apply(lock::acquire{1005, b.session, "L1", lock::lock_mode::exclusive, true, 0});
  ASSERT_TRUE(
    lock_apply(lock::acquire{1006, b.session, "L2", lock::lock_mode::shared, false, 250}).ok());
}

void add_users(service_machine& m) {
  m.apply(auth::encode(auth::command{auth::role_add{"reader"}}));
  m.apply(
    auth::encode(auth::command{auth::role_grant{"reader", {auth::permission_kind::read, "k/"}}}));
  m.apply(auth::encode(auth::command{auth::user_add{"alice", "$argon2id$hash"}}));
  m.apply(auth::encode(auth::command{auth::user_grant{"alice", "reader"}}));
}

TEST(SnapshotBytesTest, ServiceMachineWritesTheBytesItAlwaysWrote) {
  service_machine m;
  fill(m);
  auto snap = m.snapshot();
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->size(), 18608004u);
  EXPECT_EQ(fnv1a(*snap), 17360748108158643398ull);
  // A frozen state (a checkpoint's, issue 9) encodes to the same bytes.
  auto frozen = m.freeze();
  ASSERT_TRUE(frozen);
  EXPECT_EQ(frozen->size_hint(), 18608004u);
  auto encoded = frozen->encode();
  EXPECT_EQ(encoded.size(), 18608004u);
  EXPECT_EQ(fnv1a(encoded), 17360748108158643398ull);
  // And it is a snapshot: restored, it snapshots to the same bytes.
  service_machine back;
  back.restore(*snap);
  EXPECT_EQ(back.snapshot(), snap);
}

TEST(SnapshotBytesTest, ServiceMachineWithUsersWritesTheBytesItAlwaysWrote) {
  service_machine m;
  fill(m);
  add_users(m);
  auto snap = m.snapshot();
  ASSERT_TRUE(snap);
  EXPECT_EQ(static_cast<unsigned char>((*snap)[0]), 0x80u);
  EXPECT_EQ(snap->size(), 18608088u);
  EXPECT_EQ(fnv1a(*snap), 3291048882308594261ull);
  auto frozen = m.freeze();
  ASSERT_TRUE(frozen);
  EXPECT_EQ(frozen->size_hint(), 18608088u);
  auto encoded = frozen->encode();
  EXPECT_EQ(encoded.size(), 18608088u);
  EXPECT_EQ(fnv1a(encoded), 3291048882308594261ull);
  service_machine back;
  back.restore(*snap);
  EXPECT_EQ(back.snapshot(), snap);
}

TEST(SnapshotBytesTest, KvStoreWritesTheBytesItAlwaysWrote) {
  // Past the history's 50'000 events, so events were dropped (compacted > 0).
  kv::kv_store s;
  for (int i = 0; i < 60'000; ++i)
    s.apply(kv::encode(
      kv::request{kv::put_request{"n/" + std::to_string(i % 5000), std::to_string(i), {}}}));
  for (int i = 0; i < 50; ++i)
    s.apply(kv::encode(kv::request{kv::put_request{"big/" + std::to_string(i), value_of(i), {}}}));
  auto snap = s.snapshot();
  ASSERT_TRUE(snap);
  ASSERT_GT(s.keys().compacted(), 0u);
  EXPECT_EQ(snap->size(), 4865729u);
  EXPECT_EQ(fnv1a(*snap), 10582227609688580887ull);
  auto frozen = s.freeze();
  ASSERT_TRUE(frozen);
  EXPECT_EQ(frozen->size_hint(), 4865729u);
  auto encoded = frozen->encode();
  EXPECT_EQ(encoded.size(), 4865729u);
  EXPECT_EQ(fnv1a(encoded), 10582227609688580887ull);
  kv::kv_store back;
  back.restore(*snap);
  EXPECT_EQ(back.snapshot(), snap);
}

}  // namespace
}  // namespace ballot::service
