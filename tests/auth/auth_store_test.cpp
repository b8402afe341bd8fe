// The rules of users, roles and permissions (actors/auth/auth_store).
#include "actors/auth/auth_store.hpp"

#include <gtest/gtest.h>

namespace ballot::auth {
namespace {

result run(auth_store& s, command c) {
  return s.execute(c);
}

/// A store with root (role root), alice with role app (readwrite "app/",
/// lock "jobs/") and bob with no role.
auth_store populated() {
  auth_store s;
  EXPECT_EQ(run(s, user_add{"root", "h-root"}).code, result_code::ok);
  EXPECT_EQ(run(s, user_grant{"root", "root"}).code, result_code::ok);
  EXPECT_EQ(run(s, user_add{"alice", "h-alice"}).code, result_code::ok);
  EXPECT_EQ(run(s, user_add{"bob", "h-bob"}).code, result_code::ok);
  EXPECT_EQ(run(s, role_add{"app"}).code, result_code::ok);
  EXPECT_EQ(run(s, role_grant{"app", {permission_kind::readwrite, "app/"}}).code, result_code::ok);
  EXPECT_EQ(run(s, role_grant{"app", {permission_kind::lock, "jobs/"}}).code, result_code::ok);
  EXPECT_EQ(run(s, user_grant{"alice", "app"}).code, result_code::ok);
  return s;
}

TEST(AuthStoreTest, EverythingIsAllowedWhileAuthenticationIsOff) {
  auto s = populated();
  EXPECT_FALSE(s.enabled());
  EXPECT_TRUE(s.allowed("", access::write, "anything"));
  EXPECT_TRUE(s.allowed("bob", access::lock, "jobs/x"));
}

TEST(AuthStoreTest, EnableNeedsAUserWithTheRootRole) {
  auth_store s;
  auto r = run(s, auth_enable{});
  EXPECT_EQ(r.code, result_code::bad_request);
  EXPECT_NE(r.message.find("root"), std::string::npos);
  EXPECT_FALSE(s.enabled());
  run(s, user_add{"admin", "h"});
  EXPECT_EQ(run(s, auth_enable{}).code, result_code::bad_request);
  run(s, user_grant{"admin", "root"});
  EXPECT_EQ(run(s, auth_enable{}).code, result_code::ok);
  EXPECT_TRUE(s.enabled());
}

TEST(PermissionTest, RolesGrantByKindAndPrefixOnly) {
  auto s = populated();
  ASSERT_EQ(run(s, auth_enable{}).code, result_code::ok);
  EXPECT_TRUE(s.allowed("alice", access::read, "app/x"));
  EXPECT_TRUE(s.allowed("alice", access::write, "app/x"));
  EXPECT_FALSE(s.allowed("alice", access::write, "ap"));
  EXPECT_FALSE(s.allowed("alice", access::read, "other/x"));
  // Lock names and keys are separate grants.
  EXPECT_TRUE(s.allowed("alice", access::lock, "jobs/1"));
  EXPECT_FALSE(s.allowed("alice", access::lock, "app/x"));
  EXPECT_FALSE(s.allowed("alice", access::write, "jobs/1"));
  // A list or watch of a prefix needs a grant covering the whole prefix.
  EXPECT_TRUE(s.allowed_prefix("alice", access::read, "app/sub/"));
  EXPECT_FALSE(s.allowed_prefix("alice", access::read, "a"));
  EXPECT_FALSE(s.allowed_prefix("alice", access::read, ""));
  // No role, unknown user, anonymous: nothing.
  EXPECT_FALSE(s.allowed("bob", access::read, "app/x"));
  EXPECT_FALSE(s.allowed("mallory", access::read, "app/x"));
  EXPECT_FALSE(s.allowed("", access::read, "app/x"));
  // Root: everything.
  EXPECT_TRUE(s.allowed("root", access::write, "other/x"));
  EXPECT_TRUE(s.allowed_prefix("root", access::read, ""));
}

TEST(PermissionTest, ReadAndWriteGrantsAreDistinct) {
  auto s = populated();
  run(s, role_add{"reader"});
  run(s, role_grant{"reader", {permission_kind::read, "pub/"}});
  run(s, user_grant{"bob", "reader"});
  run(s, auth_enable{});
  EXPECT_TRUE(s.allowed("bob", access::read, "pub/a"));
  EXPECT_FALSE(s.allowed("bob", access::write, "pub/a"));
}

TEST(PermissionTest, RevokingAndDeletingTakeEffect) {
  auto s = populated();
  run(s, auth_enable{});
  ASSERT_TRUE(s.allowed("alice", access::write, "app/x"));
  EXPECT_EQ(run(s, role_revoke{"app", {permission_kind::readwrite, "app/"}}).code, result_code::ok);
  EXPECT_FALSE(s.allowed("alice", access::write, "app/x"));
  EXPECT_TRUE(s.allowed("alice", access::lock, "jobs/1"));
  EXPECT_EQ(run(s, role_delete{"app"}).code, result_code::ok);
  EXPECT_FALSE(s.allowed("alice", access::lock, "jobs/1"));
  EXPECT_TRUE(s.find_user("alice")->roles.empty());
}

TEST(AuthStoreTest, TheLastRootUserCannotBeRemovedWhileEnabled) {
  auto s = populated();
  run(s, auth_enable{});
  EXPECT_EQ(run(s, user_delete{"root"}).code, result_code::bad_request);
  EXPECT_EQ(run(s, user_revoke{"root", "root"}).code, result_code::bad_request);
  run(s, user_grant{"alice", "root"});
  EXPECT_EQ(run(s, user_revoke{"root", "root"}).code, result_code::ok);
  EXPECT_EQ(run(s, role_delete{"root"}).code, result_code::bad_request);
}

TEST(AuthStoreTest, RefusalsNameTheProblemAndChangeNothing) {
  auto s = populated();
  auto rev = s.revision();
  EXPECT_EQ(run(s, user_add{"alice", "x"}).code, result_code::already_exists);
  EXPECT_EQ(run(s, user_grant{"alice", "nope"}).code, result_code::not_found);
  EXPECT_EQ(run(s, user_grant{"nobody", "app"}).code, result_code::not_found);
  EXPECT_EQ(run(s, user_add{"has space", "x"}).code, result_code::bad_request);
  EXPECT_EQ(run(s, user_add{"", "x"}).code, result_code::bad_request);
  EXPECT_EQ(run(s, user_add{std::string(300, 'a'), "x"}).code, result_code::bad_request);
  EXPECT_EQ(run(s, role_add{"root"}).code, result_code::already_exists);
  EXPECT_EQ(run(s, role_grant{"app", {permission_kind::lock, "jobs/"}}).code,
            result_code::already_exists);
  EXPECT_EQ(s.revision(), rev);
  EXPECT_EQ(run(s, user_passwd{"alice", "h2"}).code, result_code::ok);
  EXPECT_EQ(s.find_user("alice")->password_hash, "h2");
  EXPECT_EQ(s.revision(), rev + 1);
}

TEST(AuthStoreTest, SaveAndLoadGiveTheSameStore) {
  auto s = populated();
  run(s, auth_enable{});
  kv::detail::writer w;
  s.save(w);
  auto bytes = w.take();
  auth_store back;
  kv::detail::reader r{bytes};
  ASSERT_TRUE(back.load(r) && r.finish()) << r.error();
  EXPECT_TRUE(back.enabled());
  EXPECT_EQ(back.revision(), s.revision());
  EXPECT_TRUE(back.allowed("alice", access::write, "app/x"));
  EXPECT_FALSE(back.allowed("bob", access::read, "app/x"));
  EXPECT_EQ(back.find_user("alice")->password_hash, "h-alice");
  // Every truncation is refused, never read as a smaller store.
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auth_store cut;
    kv::detail::reader cr{std::string_view{bytes}.substr(0, n)};
    EXPECT_FALSE(cut.load(cr) && cr.finish()) << "prefix of " << n << " bytes";
  }
}

TEST(AuthStoreTest, TheStoreIsBoundedInBytesNotOnlyInCounts) {
  auth_store s;
  ASSERT_EQ(s.execute(role_add{"r"}).code, result_code::ok);
  std::string prefix(auth_store::max_prefix_bytes, 'p');
  std::size_t granted = 0;
  result last;
  // Many roles of long prefixes, each within every count cap.
  for (int role = 0; role < 20; ++role) {
    auto name = "r" + std::to_string(role);
    s.execute(role_add{name});
    for (std::size_t i = 0; i < auth_store::max_perms_per_role; ++i) {
      auto tag = std::to_string(i);
      prefix.replace(0, tag.size(), tag);
      prefix[tag.size()] = '/';
      last = s.execute(role_grant{name, {permission_kind::read, prefix}});
      if (last.code != result_code::ok)
        break;
      ++granted;
    }
    if (last.code != result_code::ok)
      break;
  }
  EXPECT_EQ(last.code, result_code::bad_request);
  EXPECT_NE(last.message.find("MiB"), std::string::npos) << last.message;
  EXPECT_LE(s.bytes(), auth_store::max_state_bytes);
  EXPECT_GT(granted, 1000u);
  // Removing still works past the bound, and frees room.
  EXPECT_EQ(s.execute(role_delete{"r0"}).code, result_code::ok);
  EXPECT_EQ(s.execute(role_grant{"r", {permission_kind::read, "x"}}).code, result_code::ok);
}

}  // namespace
}  // namespace ballot::auth
