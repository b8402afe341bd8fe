// Permissions are checked again where a write applies (issue 11): a gateway
// checks a write against the users and roles its own replica has applied,
// which may be behind the log, so a write a revoked user sent a moment
// before the revocation committed could otherwise apply after it. Writes a
// gateway stamped with their user are refused by the state machine itself
// when, at their point of the log, that user may not make them; writes from
// the in-process actor API (no stamp) are not checked.
#include <gtest/gtest.h>

#include "actors/auth/auth_codec.hpp"
#include "actors/kv/command_codec.hpp"
#include "actors/lock/lock_codec.hpp"
#include "actors/service/service_machine.hpp"

namespace ballot {
namespace {

using auth::permission_kind;

class ApplyPermissionTest : public ::testing::Test {
 protected:
  service::service_machine m;

  void auth_apply(const auth::command& c) {
    auth::result r;
    std::string error;
    auth::auth_store ignored;
    bool has = false;
    ASSERT_TRUE(auth::decode(m.apply(auth::encode(c)), r, &ignored, has, error)) << error;
    ASSERT_EQ(r.code, auth::result_code::ok) << r.message;
  }

  kv::result kv_apply(const kv::request& req) {
    kv::result r;
    std::string error;
    EXPECT_TRUE(kv::decode(m.apply(kv::encode(req)), r, error)) << error;
    return r;
  }

  lock::result lock_apply(const lock::command& cmd) {
    lock::result r;
    std::string error;
    EXPECT_TRUE(lock::decode(m.apply(lock::encode(cmd)), r, error)) << error;
    return r;
  }

  /// root, and alice with readwrite on app/ and lock on jobs/; auth on.
  void users() {
    auth_apply(auth::user_add{"root", "h"});
    auth_apply(auth::user_grant{"root", "root"});
    auth_apply(auth::role_add{"app"});
    auth_apply(auth::role_grant{"app", {permission_kind::readwrite, "app/"}});
    auth_apply(auth::role_grant{"app", {permission_kind::lock, "jobs/"}});
    auth_apply(auth::user_add{"alice", "h"});
    auth_apply(auth::user_grant{"alice", "app"});
    auth_apply(auth::auth_enable{});
  }
};

TEST_F(ApplyPermissionTest, AWriteStampedBeforeARevocationIsRefusedAfterIt) {
  users();
  auto first = kv_apply(kv::put_request{"app/a", "1", {}, "alice"});
  ASSERT_TRUE(first.ok()) << first.message;
  auth_apply(auth::user_revoke{"alice", "app"});
  // The gateway checked these while alice still had the role; they apply now.
  auto put = kv_apply(kv::put_request{"app/a", "2", {}, "alice"});
  EXPECT_EQ(put.code, kv::result_code::permission_denied) << put.message;
  EXPECT_NE(put.message.find("alice"), std::string::npos) << put.message;
  EXPECT_EQ(kv_apply(kv::del_request{"app/a", {}, "alice"}).code,
            kv::result_code::permission_denied);
  // Nothing changed: the first value is still there, at its version.
  kv::result got;
  std::string error;
  ASSERT_TRUE(kv::decode(m.query(kv::encode(kv::get_request{"app/a"})), got, error)) << error;
  EXPECT_EQ(got.value, "1");
  EXPECT_EQ(got.version, first.version);
  // root may; a user who was never there may not; nor may no user.
  EXPECT_TRUE(kv_apply(kv::put_request{"app/a", "3", {}, "root"}).ok());
  EXPECT_EQ(kv_apply(kv::put_request{"app/a", "4", {}, "mallory"}).code,
            kv::result_code::permission_denied);
  EXPECT_EQ(kv_apply(kv::put_request{"app/a", "5", {}, ""}).code,
            kv::result_code::permission_denied);
}

TEST_F(ApplyPermissionTest, UnstampedWritesAndWritesWhileAuthIsOffApply) {
  // Before authentication is on, a stamped write applies whoever sent it.
  EXPECT_TRUE(kv_apply(kv::put_request{"x", "1", {}, ""}).ok());
  users();
  // The in-process actor API stamps nothing and is not checked.
  EXPECT_TRUE(kv_apply(kv::put_request{"anything", "1", {}}).ok());
  EXPECT_TRUE(kv_apply(kv::del_request{"anything", {}}).ok());
  // A stamped write inside the user's prefix applies.
  EXPECT_TRUE(kv_apply(kv::put_request{"app/b", "1", {}, "alice"}).ok());
  // Outside it, refused, even with authentication then turned off later:
  // the check is at this point of the log.
  EXPECT_EQ(kv_apply(kv::put_request{"other", "1", {}, "alice"}).code,
            kv::result_code::permission_denied);
  auth_apply(auth::auth_disable{});
  EXPECT_TRUE(kv_apply(kv::put_request{"other", "1", {}, "alice"}).ok());
}

TEST_F(ApplyPermissionTest, LockAcquiresAndEphemeralPutsOfANamedUserAreCheckedToo) {
  users();
  lock::credential alice{"alice", 7};
  auto s = lock_apply(lock::open_session{1000, 60'000, alice});
  ASSERT_TRUE(s.ok()) << s.message;
  auto ok = lock_apply(
    lock::acquire{1000, s.session, "jobs/1", lock::lock_mode::exclusive, false, 0, alice});
  EXPECT_TRUE(ok.ok()) << ok.message;
  auth_apply(auth::user_revoke{"alice", "app"});
  auto late = lock_apply(
    lock::acquire{1000, s.session, "jobs/2", lock::lock_mode::exclusive, false, 0, alice});
  EXPECT_EQ(late.code, lock::result_code::permission_denied) << late.message;
  auto eph = lock_apply(lock::put_key{1000, "app/e", "v", s.session, alice});
  EXPECT_EQ(eph.code, lock::result_code::permission_denied) << eph.message;
  // Her session is still hers: she may release what she holds.
  EXPECT_TRUE(lock_apply(lock::release{1000, s.session, "jobs/1", alice}).ok());
}

TEST_F(ApplyPermissionTest, TheStampSurvivesTheCodecAndUnstampedRecordsDecodeAsBefore) {
  kv::request out;
  std::string error;
  ASSERT_TRUE(kv::decode(kv::encode(kv::put_request{"k", "v", 3, "alice"}), out, error)) << error;
  EXPECT_EQ(std::get<kv::put_request>(out).checked_user, std::optional<std::string>{"alice"});
  ASSERT_TRUE(kv::decode(kv::encode(kv::del_request{"k", {}, ""}), out, error)) << error;
  EXPECT_EQ(std::get<kv::del_request>(out).checked_user, std::optional<std::string>{""});
  auto plain = kv::encode(kv::put_request{"k", "v", {}});
  ASSERT_TRUE(kv::decode(plain, out, error)) << error;
  EXPECT_FALSE(std::get<kv::put_request>(out).checked_user);
  // A stamp that is cut short is an error naming the field, not a crash.
  auto stamped = kv::encode(kv::put_request{"k", "v", {}, "alice"});
  for (std::size_t cut = plain.size() + 1; cut < stamped.size(); ++cut) {
    EXPECT_FALSE(kv::decode(stamped.substr(0, cut), out, error)) << cut;
    EXPECT_NE(error.find("checked_user"), std::string::npos) << error;
  }
}

}  // namespace
}  // namespace ballot
