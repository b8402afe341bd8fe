// The auth codec: every command round-trips; hostile bytes are refused.
#include "actors/auth/auth_codec.hpp"

#include <random>

#include <gtest/gtest.h>

namespace ballot::auth {
namespace {

TEST(AuthCodecTest, EveryCommandRoundTrips) {
  std::vector<command> all = {user_add{"a", "hash"},
                              user_delete{"a"},
                              user_passwd{"a", "h2"},
                              user_grant{"a", "r"},
                              user_revoke{"a", "r"},
                              role_add{"r"},
                              role_delete{"r"},
                              role_grant{"r", {permission_kind::lock, "jobs/"}},
                              role_revoke{"r", {permission_kind::readwrite, ""}},
                              auth_enable{},
                              auth_disable{}};
  for (auto& c : all) {
    auto bytes = encode(c);
    EXPECT_TRUE(is_auth_command(bytes));
    command back;
    std::string error;
    ASSERT_TRUE(decode(bytes, back, error)) << error;
    EXPECT_EQ(describe(back), describe(c));
    EXPECT_EQ(encode(back), bytes);
  }
}

TEST(AuthCodecTest, TruncatedAndRandomBytesAreRefusedNotMisread) {
  auto bytes = encode(role_grant{"role", {permission_kind::read, "prefix/"}});
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    command c;
    std::string error;
    EXPECT_FALSE(decode(bytes.substr(0, n), c, error));
  }
  std::mt19937 rng{7};
  for (int i = 0; i < 2000; ++i) {
    std::string junk(rng() % 40, '\0');
    for (auto& ch : junk)
      ch = static_cast<char>(rng());
    command c;
    std::string error;
    // It must not crash or allocate wildly; a rare valid parse is fine.
    (void)decode(junk, c, error);
  }
  command c;
  std::string error;
  auto bad_kind = encode(role_grant{"r", {permission_kind::read, "p"}});
  bad_kind[1 + 4 + 1] = 9;  // tag, role, kind
  EXPECT_FALSE(decode(bad_kind, c, error));
  EXPECT_NE(error.find("kind"), std::string::npos) << error;
}

TEST(AuthCodecTest, StateAnswerCarriesTheStore) {
  auth_store s;
  s.execute(user_add{"u", "h"});
  s.execute(role_add{"r"});
  result res;
  auth_store back;
  bool has = false;
  std::string error;
  ASSERT_TRUE(decode(encode_state(s), res, &back, has, error)) << error;
  EXPECT_TRUE(has);
  EXPECT_EQ(back.users().size(), 1u);
  EXPECT_EQ(back.roles().size(), 1u);
  ASSERT_TRUE(
    decode(encode(result{result_code::not_found, "no user x"}), res, nullptr, has, error));
  EXPECT_FALSE(has);
  EXPECT_EQ(res.code, result_code::not_found);
  EXPECT_EQ(res.message, "no user x");
}

}  // namespace
}  // namespace ballot::auth
