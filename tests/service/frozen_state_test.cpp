// A frozen state (issue 9: a checkpoint captures the state on the replica's
// thread and encodes it on another) must encode exactly what `snapshot` gave
// when it was frozen, whatever the live machine does afterwards, also while
// it does it on another thread.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "actors/auth/auth_codec.hpp"
#include "actors/kv/command_codec.hpp"
#include "actors/kv/frozen_keys.hpp"
#include "actors/kv/kv_store.hpp"
#include "actors/lock/lock_codec.hpp"
#include "actors/service/service_machine.hpp"

namespace ballot::service {
namespace {

lock::result lock_apply(service_machine& m, const lock::command& cmd) {
  lock::result r;
  std::string error;
  EXPECT_TRUE(lock::decode(m.apply(lock::encode(cmd)), r, error)) << error;
  return r;
}

void put(service_machine& m, const std::string& key, std::string value) {
  m.apply(kv::encode(kv::request{kv::put_request{key, std::move(value), {}}}));
}

void del(service_machine& m, const std::string& key) {
  m.apply(kv::encode(kv::request{kv::del_request{key, {}}}));
}

std::string value_of(int i, int round) {
  return std::string(static_cast<std::size_t>((i * 37 + round) % 3000),
                     static_cast<char>(i + round));
}

/// Keys, an ephemeral key, a held and a waited lock.
struct filled {
  service_machine m;
  lock::session_id a = 0;
  lock::session_id b = 0;

  explicit filled(bool users) {
    for (int i = 0; i < 500; ++i)
      put(m, "k/" + std::to_string(i), value_of(i, 0));
    a = lock_apply(m, lock::open_session{1000, 60'000}).session;
    b = lock_apply(m, lock::open_session{1001, 60'000}).session;
    EXPECT_TRUE(lock_apply(m, lock::put_key{1002, "eph/a", "addr-a", a}).ok());
    EXPECT_TRUE(lock_apply(m, lock::acquire{1003, a, "L1", lock::lock_mode::exclusive}).ok());
    lock_apply(m, lock::acquire{1004, b, "L1", lock::lock_mode::exclusive, true});
    if (users) {
      m.apply(auth::encode(auth::command{auth::role_add{"reader"}}));
      m.apply(auth::encode(auth::command{auth::user_add{"alice", "hash"}}));
    }
  }

  /// Every kind of change: puts, overwrites (in place would show), deletes,
  /// sessions, locks and users.
  void change(int round) {
    for (int i = 0; i < 500; i += 3)
      put(m, "k/" + std::to_string(i), value_of(i, round));
    for (int i = 1; i < 500; i += 7)
      del(m, "k/" + std::to_string(i));
    put(m, "new/" + std::to_string(round), "fresh");
    auto now = static_cast<lock::time_ms>(2000 + round * 10);
    auto c = lock_apply(m, lock::open_session{now, 60'000}).session;
    lock_apply(m, lock::put_key{now + 1, "eph/c" + std::to_string(round), "addr-c", c});
    lock_apply(m, lock::release{now + 2, a, "L1"});
    lock_apply(m, lock::close_session{now + 3, b});
    m.apply(auth::encode(auth::command{auth::user_add{"u" + std::to_string(round), "h"}}));
  }
};

TEST(FrozenStateTest, EncodesTheStateOfItsTimeAfterEveryKindOfChange) {
  for (bool users : {false, true}) {
    filled f(users);
    auto before = f.m.snapshot();
    ASSERT_TRUE(before);
    auto frozen = f.m.freeze();
    ASSERT_TRUE(frozen);
    EXPECT_EQ(frozen->size_hint(), before->size());
    f.change(1);
    // The changes changed the state (else this would prove nothing)...
    auto after = f.m.snapshot();
    ASSERT_NE(*after, *before);
    // ...but not what was frozen before them.
    EXPECT_EQ(frozen->encode(), *before) << "users " << users;
    // And the bytes restore to the state of that time.
    service_machine back;
    back.restore(frozen->encode());
    EXPECT_EQ(back.snapshot(), before);
    // Overwriting the live machine wholesale leaves it alone too.
    f.m.restore(*after);
    EXPECT_EQ(frozen->encode(), *before);
  }
}

TEST(FrozenStateTest, FreezesOfSuccessiveStatesEachKeepTheirOwn) {
  filled f(false);
  std::vector<std::string> expected;
  std::vector<std::shared_ptr<const paxos::frozen_state>> frozen;
  for (int round = 1; round <= 4; ++round) {
    expected.push_back(*f.m.snapshot());
    frozen.push_back(f.m.freeze());
    f.change(round);
  }
  for (std::size_t i = 0; i < frozen.size(); ++i)
    EXPECT_EQ(frozen[i]->encode(), expected[i]) << i;
  for (std::size_t i = 1; i < expected.size(); ++i)
    EXPECT_NE(expected[i], expected[i - 1]);
}

TEST(FrozenStateTest, EncodesOnAnotherThreadWhileTheMachineApplies) {
  filled f(true);
  auto expected = *f.m.snapshot();
  auto frozen = f.m.freeze();
  std::atomic<bool> done{false};
  std::atomic<int> encodes{0};
  std::atomic<int> mismatches{0};
  // The storage's background thread, encoding again and again while the
  // replica's thread goes on applying (overwrites and deletes free the
  // live copies of values the frozen state still holds).
  std::thread encoder([&] {
    while (!done.load() || encodes.load() < 3) {
      if (frozen->encode() != expected)
        ++mismatches;
      ++encodes;
    }
  });
  for (int round = 1; round <= 40; ++round)
    f.change(round);
  done = true;
  encoder.join();
  EXPECT_GE(encodes.load(), 3);
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_NE(*f.m.snapshot(), expected);
}

TEST(FrozenStateTest, TheLockServiceAndTheKvStoreFreezeToo) {
  lock::lock_service locks;
  locks.mutable_keys().put("a", "1", 0);
  auto before = locks.snapshot();
  auto frozen = locks.freeze();
  ASSERT_TRUE(frozen);
  locks.mutable_keys().put("a", "2", 0);
  locks.mutable_keys().del("a");
  EXPECT_EQ(frozen->encode(), *before);
  EXPECT_NE(locks.snapshot(), before);

  kv::kv_store store;
  store.apply(kv::encode(kv::request{kv::put_request{"x", "old", {}}}));
  auto kv_before = store.snapshot();
  auto kv_frozen = store.freeze();
  store.apply(kv::encode(kv::request{kv::put_request{"x", "new", {}}}));
  EXPECT_EQ(kv_frozen->encode(), *kv_before);
  EXPECT_EQ(kv_frozen->size_hint(), kv_before->size());
  EXPECT_NE(store.snapshot(), kv_before);
}

TEST(FrozenStateTest, EncodesInBoundedPiecesTheSameBytes) {
  filled f(true);
  // Values larger than a piece go whole (no copy), the rest gathers into
  // pieces of about encode_piece_bytes: never one string of the state.
  constexpr auto piece = kv::frozen_keys::encode_piece_bytes;
  std::string big(piece * 2 + 5, 'B');
  put(f.m, "big", big);
  for (int i = 0; i < 800; ++i)
    put(f.m, "mid/" + std::to_string(i), std::string(4000, static_cast<char>('a' + i % 26)));
  auto whole = f.m.snapshot();
  ASSERT_TRUE(whole);
  auto frozen = f.m.freeze();
  ASSERT_TRUE(frozen);
  f.change(1);  // the live machine moves on; the pieces are of the freeze
  std::string gathered;
  std::size_t pieces = 0;
  std::size_t largest_small = 0;
  frozen->encode_to([&](std::string_view p) {
    gathered.append(p);
    ++pieces;
    if (p.size() != big.size())
      largest_small = std::max(largest_small, p.size());
  });
  EXPECT_EQ(gathered, *whole);
  EXPECT_EQ(frozen->size_hint(), whole->size());
  EXPECT_GE(pieces, whole->size() / (piece + 4000));
  EXPECT_LT(largest_small, piece + 4000 + 64);
}

}  // namespace
}  // namespace ballot::service
