// Sessions belong to their owner (actors/lock with credentials) and the
// service machine keeps users, roles and owners across a snapshot.
#include <gtest/gtest.h>

#include "actors/auth/auth_codec.hpp"
#include "actors/lock/lock_codec.hpp"
#include "actors/lock/lock_service.hpp"
#include "actors/service/service_machine.hpp"

namespace ballot {
namespace {

using lock::credential;
using lock::result_code;

lock::session_id open(lock::lock_service& s, credential cred) {
  auto r = s.execute(lock::open_session{1000, 60'000, std::move(cred)});
  EXPECT_EQ(r.code, result_code::ok);
  return r.session;
}

TEST(SessionAuthTest, AnotherUserOrAWrongSecretCannotUseTheSession) {
  lock::lock_service s;
  auto id = open(s, {"alice", 42});
  ASSERT_EQ(
    s.execute(lock::acquire{1001, id, "L", lock::lock_mode::exclusive, false, 0, {"alice", 42}})
      .code,
    result_code::ok);
  for (credential wrong : {credential{"bob", 42}, credential{"alice", 41}, credential{}}) {
    EXPECT_EQ(s.execute(lock::release{1002, id, "L", wrong}).code, result_code::permission_denied);
    EXPECT_EQ(s.execute(lock::keep_alive{1002, id, wrong}).code, result_code::permission_denied);
    EXPECT_EQ(s.execute(lock::close_session{1002, id, wrong}).code, result_code::permission_denied);
    EXPECT_EQ(s.execute(lock::put_key{1002, "k", "v", id, wrong}).code,
              result_code::permission_denied);
    EXPECT_EQ(
      s.execute(lock::acquire{1002, id, "M", lock::lock_mode::exclusive, false, 0, wrong}).code,
      result_code::permission_denied);
  }
  // Nothing was taken from the holder.
  auto info = s.read(lock::lock_info{"L", false, ""});
  ASSERT_EQ(info.holders.size(), 1u);
  EXPECT_EQ(info.holders[0].session, id);
  EXPECT_EQ(s.keys().find("k"), nullptr);
  EXPECT_EQ(s.execute(lock::release{1003, id, "L", {"alice", 42}}).code, result_code::ok);
  EXPECT_EQ(s.execute(lock::close_session{1003, id, {"alice", 42}}).code, result_code::ok);
}

TEST(SessionAuthTest, SessionsWithoutCredentialsStayOpenToTheirId) {
  lock::lock_service s;
  auto id = open(s, {});
  EXPECT_EQ(s.execute(lock::keep_alive{1001, id, {}}).code, result_code::ok);
  EXPECT_EQ(s.execute(lock::keep_alive{1001, id, {"anyone", 7}}).code, result_code::ok);
}

TEST(SessionAuthTest, TokensAreHiddenFromOtherViewers) {
  lock::lock_service s;
  auto id = open(s, {"alice", 42});
  auto got =
    s.execute(lock::acquire{1001, id, "L", lock::lock_mode::exclusive, false, 0, {"alice", 42}});
  ASSERT_NE(got.token, 0u);
  EXPECT_EQ(s.read(lock::lock_info{"L", true, "bob"}).holders.at(0).token, 0u);
  EXPECT_EQ(s.read(lock::lock_info{"L", true, "alice"}).holders.at(0).token, got.token);
  EXPECT_EQ(s.read(lock::lock_info{"L", false, ""}).holders.at(0).token, got.token);
  // The query's tail survives the codec.
  lock::query q;
  std::string error;
  ASSERT_TRUE(lock::decode(lock::encode(lock::query{lock::lock_info{"L", true, "bob"}}), q, error));
  EXPECT_TRUE(std::get<lock::lock_info>(q).hide_tokens);
  EXPECT_EQ(std::get<lock::lock_info>(q).viewer, "bob");
}

TEST(SessionAuthTest, CredentialsSurviveTheCodecAndOldRecordsStillDecode) {
  lock::command c;
  std::string error;
  ASSERT_TRUE(
    lock::decode(lock::encode(lock::command{lock::release{5, 9, "L", {"u", 77}}}), c, error))
    << error;
  auto& rel = std::get<lock::release>(c);
  EXPECT_EQ(rel.cred.user, "u");
  EXPECT_EQ(rel.cred.secret, 77u);
  // A record written before credentials existed has no tail.
  auto old = lock::encode(lock::command{lock::release{5, 9, "L", {}}});
  ASSERT_TRUE(lock::decode(old, c, error)) << error;
  EXPECT_TRUE(std::get<lock::release>(c).cred.empty());
  // The leader's stamp still lands on `now`.
  auto stamped = lock::encode(lock::command{lock::keep_alive{0, 9, {"u", 77}}});
  ASSERT_TRUE(lock::stamp(stamped, 1234));
  ASSERT_TRUE(lock::decode(stamped, c, error));
  EXPECT_EQ(std::get<lock::keep_alive>(c).now, 1234u);
  EXPECT_EQ(std::get<lock::keep_alive>(c).cred.secret, 77u);
}

TEST(SessionAuthTest, ServiceSnapshotKeepsUsersRolesAndOwners) {
  service::service_machine a;
  a.apply(auth::encode(auth::command{auth::user_add{"root", "h"}}));
  a.apply(auth::encode(auth::command{auth::user_grant{"root", "root"}}));
  a.apply(auth::encode(auth::command{auth::auth_enable{}}));
  auto opened = a.apply(lock::encode(lock::command{lock::open_session{1, 60'000, {"root", 5}}}));
  lock::result r;
  std::string error;
  ASSERT_TRUE(lock::decode(opened, r, error)) << error;
  auto snap = a.snapshot();
  ASSERT_TRUE(snap);
  service::service_machine b;
  b.restore(*snap);
  EXPECT_TRUE(b.auth().enabled());
  EXPECT_TRUE(b.auth().is_root("root"));
  auto* s = b.locks().sessions().find(r.session);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->owner, "root");
  EXPECT_EQ(s->secret, 5u);
  // A machine without users writes the snapshot it always wrote.
  service::service_machine plain;
  auto plain_snap = plain.snapshot();
  ASSERT_TRUE(plain_snap);
  EXPECT_NE((*plain_snap)[0], static_cast<char>(0x80));
  service::service_machine c;
  c.restore(*plain_snap);
  EXPECT_FALSE(c.auth().enabled());
}

TEST(SessionAuthTest, AuthChangesReachTheObserver) {
  service::service_machine m;
  std::shared_ptr<const auth::auth_store> seen;
  m.set_observer([&](const service::change& ch) {
    if (ch.auth)
      seen = ch.auth;
  });
  m.apply(auth::encode(auth::command{auth::user_add{"u", "h"}}));
  ASSERT_TRUE(seen);
  EXPECT_NE(seen->find_user("u"), nullptr);
  auto before = seen;
  // A refused change is not news.
  m.apply(auth::encode(auth::command{auth::user_add{"u", "h"}}));
  EXPECT_EQ(seen, before);
}

}  // namespace
}  // namespace ballot
