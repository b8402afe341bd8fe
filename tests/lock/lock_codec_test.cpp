// The lock service's encoding: every message round-trips, and malformed bytes
// (truncated, unknown tags, bad enums, trailing bytes, noise) give clear
// errors, never a crash, and change nothing when applied.

#include "actors/lock/lock_codec.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "actors/lock/lock_service.hpp"
#include "tests/lock/lock_test_util.hpp"

namespace {

using namespace ballot::lock;
using namespace ballot::lock::test;

std::vector<command> every_command() {
  return {open_session{1, 2},
          keep_alive{3, 4},
          close_session{5, 6},
          tick{7},
          leader_change{8, 9},
          acquire{10, 11, "name", lock_mode::shared, true, 12},
          release{13, 14, "n"},
          cancel_wait{15, 16, "m"},
          put_key{17, "key", "value", 18},
          delete_key{19, "gone"},
          keep_alive_many{20, {keep_alive{20, 21}, keep_alive{20, 22, {"alice", 23}}}}};
}

std::vector<query> every_query() {
  return {check_token{"a", 1}, events_since{"p/", 2}, lock_info{"b"}, get_key{"k"}};
}

TEST(LockCodecTest, EveryCommandAndQueryRoundTrips) {
  for (auto& c : every_command()) {
    auto bytes = encode(c);
    command back;
    std::string error;
    ASSERT_TRUE(decode(bytes, back, error)) << error;
    EXPECT_EQ(encode(back), bytes);
    EXPECT_EQ(back.index(), c.index());
  }
  for (auto& q : every_query()) {
    auto bytes = encode(q);
    query back;
    std::string error;
    ASSERT_TRUE(decode(bytes, back, error)) << error;
    EXPECT_EQ(encode(back), bytes);
    EXPECT_EQ(back.index(), q.index());
  }
}

TEST(LockCodecTest, ResultRoundTrips) {
  result r;
  r.code = result_code::already_held;
  r.session = 1;
  r.deadline = 2;
  r.token = 3;
  r.revision = 4;
  r.value = "v";
  r.grants = {{5, "a", lock_mode::shared, 6}};
  r.expired = {7, 8};
  r.events = {{9, event_type::del, "k", ""}, {10, event_type::put, "k", "x"}};
  r.holders = {{11, "b", lock_mode::exclusive, 12}};
  r.waiters = {{13, "b", lock_mode::shared, 0}};
  r.message = "m";
  r.kept = {{14, result_code::ok, 15, ""}, {16, result_code::permission_denied, 0, "not yours"}};
  result back;
  std::string error;
  ASSERT_TRUE(decode(encode(r), back, error)) << error;
  EXPECT_EQ(encode(back), encode(r));
  EXPECT_EQ(back.grants, r.grants);
  EXPECT_EQ(back.events, r.events);
  EXPECT_EQ(back.expired, r.expired);
  EXPECT_EQ(back.kept, r.kept);
}

// A batch's sessions keep their credentials (the flag byte says which have
// one) and its `now` reaches every session; a result without outcomes is
// byte for byte what older nodes wrote.
TEST(LockCodecTest, KeepAliveManyKeepsEachSessionsCredential) {
  keep_alive_many many{40,
                       {keep_alive{0, 1}, keep_alive{0, 2, {"bob", 9}}, keep_alive{0, 3, {"", 7}}}};
  command back;
  std::string error;
  ASSERT_TRUE(decode(encode(many), back, error)) << error;
  auto& got = std::get<keep_alive_many>(back);
  ASSERT_EQ(got.sessions.size(), 3u);
  EXPECT_EQ(got.now, 40u);
  EXPECT_EQ(got.sessions[0].session, 1u);
  EXPECT_TRUE(got.sessions[0].cred.empty());
  EXPECT_EQ(got.sessions[1].cred.user, "bob");
  EXPECT_EQ(got.sessions[1].cred.secret, 9u);
  EXPECT_EQ(got.sessions[2].cred.secret, 7u);
  for (auto& k : got.sessions)
    EXPECT_EQ(k.now, 40u);
  result plain = result::error(result_code::no_session);
  result with = plain;
  with.kept = {{1, result_code::ok, 2, ""}};
  EXPECT_EQ(encode(with).substr(0, encode(plain).size()), encode(plain));
  EXPECT_GT(encode(with).size(), encode(plain).size());
}

TEST(LockCodecTest, AKeepAliveManyCountBeyondItsBytesIsRefused) {
  auto bytes = encode(keep_alive_many{1, {keep_alive{0, 5}}});
  // The count (after the tag and `now`) claims a million sessions.
  bytes[9] = '\x40';
  bytes[10] = '\x42';
  bytes[11] = '\x0f';
  command back;
  std::string error;
  EXPECT_FALSE(decode(bytes, back, error));
  EXPECT_NE(error.find("session count"), std::string::npos) << error;
  // A flag byte other than 0 or 1.
  bytes = encode(keep_alive_many{1, {keep_alive{0, 5}}});
  bytes.back() = '\x02';
  EXPECT_FALSE(decode(bytes, back, error));
  EXPECT_NE(error.find("has credential"), std::string::npos) << error;
}

TEST(LockCodecTest, EveryTruncationIsAnError) {
  for (auto& c : every_command()) {
    auto bytes = encode(c);
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
      command back;
      std::string error;
      EXPECT_FALSE(decode(bytes.substr(0, cut), back, error));
      EXPECT_NE(error.find("offset"), std::string::npos) << error;
    }
  }
}

TEST(LockCodecTest, MalformedCommandsGiveErrorsAndChangeNothing) {
  lock_service svc;
  auto s = open(svc, 0);
  take(svc, 1, s, "a");
  auto before = *svc.snapshot();
  auto acquire_bytes = encode(command{acquire{2, s, "b", lock_mode::shared, false, 0}});
  auto bad_mode = acquire_bytes;
  bad_mode[1 + 8 + 8 + 4 + 1] = 7;  // tag now session len "b", then the mode
  auto bad_flag = acquire_bytes;
  bad_flag[1 + 8 + 8 + 4 + 1 + 1] = 2;
  auto a_query = encode(query{lock_info{"a"}});
  std::vector<std::string> inputs{
    "",
    std::string(1, '\x7f'),
    encode(command{tick{5}}) + "x",
    a_query,                   // a query is not a command
    encode(command{tick{5}}),  // nor a command a query
    bad_mode,
    bad_flag,
    std::string("\x06\0\0\0\0\0\0\0\0\1\0\0\0\0\0\0\0\xff\xff\xff\xff", 21)};
  for (auto& in : inputs) {
    result q;
    std::string error;
    ASSERT_TRUE(decode(svc.query(in), q, error)) << error;
    if (in != a_query) {
      EXPECT_EQ(q.code, result_code::bad_request);
    }
    if (in == encode(command{tick{5}}))
      continue;  // a valid command
    result r;
    ASSERT_TRUE(decode(svc.apply(in), r, error)) << error;
    EXPECT_EQ(r.code, result_code::bad_request);
    EXPECT_FALSE(r.message.empty());
    EXPECT_NE(r.message.find("offset"), std::string::npos) << r.message;
  }
  EXPECT_EQ(*svc.snapshot(), before);
}

TEST(LockCodecTest, RandomBytesNeverCrash) {
  lock_service svc;
  std::mt19937_64 rng{42};
  for (int i = 0; i < 20'000; ++i) {
    std::string bytes(rng() % 40, '\0');
    for (auto& b : bytes)
      b = static_cast<char>(rng());
    // Mostly valid tags, so the field decoders are exercised too.
    if (!bytes.empty() && rng() % 2 == 0)
      bytes[0] = static_cast<char>(1 + rng() % 10);
    result r;
    std::string error;
    ASSERT_TRUE(decode(svc.apply(bytes), r, error)) << error;
    ASSERT_TRUE(decode(svc.query(bytes), r, error)) << error;
    result junk;
    decode(bytes, junk, error);
  }
}

}  // namespace
