// Users, roles and permissions end to end in one process: three service
// replicas, a gateway per replica (with an audit log), and the client
// library's options::user/password and admin calls (issue 11, parts 2-4).

#include <gtest/gtest.h>

#include <capnp/ez-rpc.h>

#include <unistd.h>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <sstream>

#include "actors/auth/auth_store.hpp"
#include "runtime/discovery/registration.hpp"
#include "schemas/client.capnp.h"
#include "tests/gateway/cluster_fixture.hpp"

namespace {

using namespace ballot;
using namespace std::chrono_literals;
using client::auth_code;
using client::permission_kind;

class AuthGatewayTest : public test_support::ClusterFixture {
 protected:
  void SetUp() override {
    audit_path = std::filesystem::temp_directory_path() /
                 ("ballot-audit-" + std::to_string(getpid()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".log");
    std::filesystem::remove(audit_path);
    audit = std::make_shared<gateway::audit_log>(audit_path.string());
    for (paxos::node_id id : {1, 2, 3}) {
      auto opts = gateway_options(id);
      opts.audit = audit;
      gateways[id] = gateway::start(sys, opts, gateway::find_in(group));
    }
  }

  void TearDown() override { std::filesystem::remove(audit_path); }

  std::vector<std::string> all() { return {endpoint_of(1), endpoint_of(2), endpoint_of(3)}; }

  std::unique_ptr<client::client> as(const std::string& user, const std::string& password,
                                     std::chrono::milliseconds timeout = 5s) {
    client::options opts;
    opts.endpoints = all();
    opts.timeout = timeout;
    opts.attempt_timeout = 1s;
    opts.user = user;
    opts.password = password;
    return std::make_unique<client::client>(opts);
  }

  /// Waits until every node has applied the same users and roles, so that a
  /// check at any of them sees the last change.
  void settle() {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      std::set<std::uint64_t> revisions;
      for (auto& [id, feed] : feeds) {
        auto store = feed->auth();
        revisions.insert(store ? store->revision() : 0);
      }
      if (revisions.size() == 1)
        return;
      std::this_thread::sleep_for(10ms);
    }
    FAIL() << "the nodes did not agree on users and roles within 5 s";
  }

  /// root (password "rootpw") with the root role, and authentication on.
  void enable_with_root() {
    auto admin = make_client(all());
    ASSERT_TRUE(admin->user_add("root", "rootpw").ok());
    ASSERT_TRUE(admin->user_grant("root", "root").ok());
    auto on = admin->auth_enable();
    ASSERT_TRUE(on.ok()) << on.message;
    settle();
  }

  /// User `name` (password name + "pw") with a role of the same name that
  /// may read and write under "app/" and lock under "jobs/".
  void add_app_user(client::client& root, const std::string& name) {
    ASSERT_TRUE(root.user_add(name, name + "pw").ok());
    ASSERT_TRUE(root.role_add(name).ok());
    ASSERT_TRUE(root.role_grant(name, {permission_kind::readwrite, "app/"}).ok());
    ASSERT_TRUE(root.role_grant(name, {permission_kind::lock, "jobs/"}).ok());
    ASSERT_TRUE(root.user_grant(name, name).ok());
    settle();
  }

  std::vector<std::string> audit_lines() {
    std::ifstream in{audit_path};
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);)
      out.push_back(line);
    return out;
  }

  std::filesystem::path audit_path;
  std::shared_ptr<gateway::audit_log> audit;
};

TEST_F(AuthGatewayTest, EnableNeedsARootUser) {
  auto admin = make_client(all());
  auto refused = admin->auth_enable();
  EXPECT_EQ(refused.code, auth_code::bad_request) << refused.message;
  ASSERT_TRUE(admin->user_add("root", "rootpw").ok());
  EXPECT_EQ(admin->user_add("root", "x").code, auth_code::already_exists);
  EXPECT_EQ(admin->user_grant("nobody", "root").code, auth_code::not_found);
  EXPECT_EQ(admin->auth_enable().code, auth_code::bad_request) << "root exists but lacks the role";
  ASSERT_TRUE(admin->user_grant("root", "root").ok());
  ASSERT_TRUE(admin->auth_enable().ok());
  settle();
  auto who = admin->whoami();
  ASSERT_TRUE(who.ok()) << who.result.message;
  EXPECT_TRUE(who.enabled);
  EXPECT_EQ(who.user, "");
  auto root = as("root", "rootpw");
  who = root->whoami();
  EXPECT_EQ(who.user, "root");
  EXPECT_TRUE(who.root);
  auto listing = root->auth_list();
  ASSERT_TRUE(listing.ok()) << listing.result.message;
  EXPECT_TRUE(listing.enabled);
  ASSERT_EQ(listing.users.size(), 1u);
  EXPECT_EQ(listing.users[0].roles, std::vector<std::string>{"root"});
  EXPECT_TRUE(listing.users[0].has_password);
}

TEST_F(AuthGatewayTest, WrongPasswordOrNoUserIsUnauthenticated) {
  enable_with_root();
  auto anonymous = make_client(all());
  EXPECT_EQ(anonymous->put("k", "v").code, kv::result_code::unauthenticated);
  EXPECT_EQ(anonymous->get("k").code, kv::result_code::unauthenticated);
  EXPECT_EQ(anonymous->open_session(5s).code, lock::result_code::unauthenticated);
  EXPECT_TRUE(anonymous->status().ok()) << "status stays open to all";

  // Wrong credentials are final: the call ends well before its timeout
  // instead of trying every node until then.
  for (auto [user, password] : {std::pair{"root", "wrong"}, std::pair{"nobody", "rootpw"}}) {
    auto wrong = as(user, password, 8s);
    auto start = std::chrono::steady_clock::now();
    auto r = wrong->put("k", "v");
    EXPECT_EQ(r.code, kv::result_code::unauthenticated) << user << ": " << r.message;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 4s) << user;
    EXPECT_EQ(wrong->auth_list().result.code, auth_code::unauthenticated) << user;
  }
  auto root = as("root", "rootpw");
  EXPECT_TRUE(root->put("k", "v").ok());
}

TEST_F(AuthGatewayTest, AuthChangesNeedTheRootRole) {
  enable_with_root();
  auto root = as("root", "rootpw");
  add_app_user(*root, "alice");
  auto alice = as("alice", "alicepw");
  EXPECT_EQ(alice->user_add("mallory", "pw").code, auth_code::permission_denied);
  EXPECT_EQ(alice->user_grant("alice", "root").code, auth_code::permission_denied);
  EXPECT_EQ(alice->role_grant("alice", {permission_kind::readwrite, ""}).code,
            auth_code::permission_denied);
  EXPECT_EQ(alice->auth_disable().code, auth_code::permission_denied);
  EXPECT_EQ(alice->auth_list().result.code, auth_code::permission_denied);
  auto anonymous = make_client(all());
  EXPECT_EQ(anonymous->user_add("mallory", "pw").code, auth_code::unauthenticated);
  // The last root user is protected, and the root role is implicit.
  EXPECT_EQ(root->user_revoke("root", "root").code, auth_code::bad_request);
  EXPECT_EQ(root->role_add("root").code, auth_code::already_exists);
  EXPECT_TRUE(root->auth_disable().ok());
  settle();
  EXPECT_TRUE(anonymous->put("free/again", "v").ok());
}

TEST_F(AuthGatewayTest, PermissionDeniedOutsideThePrefixAllowedInside) {
  enable_with_root();
  auto root = as("root", "rootpw");
  add_app_user(*root, "alice");
  ASSERT_TRUE(root->put("other/k", "v").ok());
  auto alice = as("alice", "alicepw");
  using kv::result_code;
  EXPECT_TRUE(alice->put("app/k", "v").ok());
  EXPECT_TRUE(alice->get("app/k").ok());
  EXPECT_TRUE(alice->list("app/", 0).ok());
  EXPECT_TRUE(alice->del("app/k").ok());
  EXPECT_EQ(alice->put("other/k", "v").code, result_code::permission_denied);
  EXPECT_EQ(alice->get("other/k").code, result_code::permission_denied);
  EXPECT_EQ(alice->del("other/k").code, result_code::permission_denied);
  EXPECT_EQ(alice->list("", 0).code, result_code::permission_denied) << "the whole key space";
  EXPECT_EQ(alice->list("ap", 0).code, result_code::permission_denied) << "wider than app/";

  // A watch outside the prefix ends with permission_denied; inside it runs.
  std::promise<lock::result> ended;
  auto denied = alice->watch(
    "other/", true, std::nullopt, [](auto, auto) {},
    [&](lock::result r) { ended.set_value(std::move(r)); });
  auto end = ended.get_future();
  ASSERT_EQ(end.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(end.get().code, lock::result_code::permission_denied);
  std::atomic<int> seen{0};
  auto allowed = alice->watch("app/", true, std::nullopt, [&](std::vector<kv::event> evs, auto) {
    seen += static_cast<int>(evs.size());
  });
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!allowed->started() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(alice->put("app/w", "1").ok());
  while (seen == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(seen, 1);

  // Locks: only names under jobs/.
  auto s = alice->open_session(10s);
  ASSERT_TRUE(s.ok()) << s.message;
  auto got = alice->acquire(s.session, "jobs/a");
  ASSERT_TRUE(got.ok()) << got.message;
  EXPECT_TRUE(alice->check_token("jobs/a", got.token).ok());
  EXPECT_TRUE(alice->lock_info("jobs/a").ok());
  EXPECT_TRUE(alice->release(s.session, "jobs/a").ok());
  EXPECT_EQ(alice->acquire(s.session, "other").code, lock::result_code::permission_denied);
  EXPECT_EQ(alice->release(s.session, "other").code, lock::result_code::permission_denied);
  EXPECT_EQ(alice->check_token("other", 1).code, lock::result_code::permission_denied);
  EXPECT_EQ(alice->lock_info("other").code, lock::result_code::permission_denied);
  EXPECT_EQ(alice->acquire(s.session, "app/k").code, lock::result_code::permission_denied)
    << "readwrite on keys is not lock on names";
  EXPECT_EQ(alice->put_ephemeral(s.session, "other/e", "v").code,
            lock::result_code::permission_denied);
  EXPECT_TRUE(alice->put_ephemeral(s.session, "app/e", "v").ok());
}

TEST_F(AuthGatewayTest, LockInfoShowsTokensOnlyToTheHolderOrRoot) {
  enable_with_root();
  auto root = as("root", "rootpw");
  add_app_user(*root, "alice");
  add_app_user(*root, "bob");
  auto alice = as("alice", "alicepw");
  auto bob = as("bob", "bobpw");
  auto s = alice->open_session(10s);
  ASSERT_TRUE(s.ok());
  auto got = alice->acquire(s.session, "jobs/a");
  ASSERT_TRUE(got.ok());
  for (auto* c : {alice.get(), root.get(), bob.get()}) {
    auto info = c->lock_info("jobs/a");
    ASSERT_TRUE(info.ok()) << info.message;
    ASSERT_EQ(info.holders.size(), 1u);
    EXPECT_EQ(info.holders[0].token, c == bob.get() ? 0u : got.token);
  }
}

TEST_F(AuthGatewayTest, SessionsBelongToTheirOwner) {
  enable_with_root();
  auto root = as("root", "rootpw");
  add_app_user(*root, "alice");
  add_app_user(*root, "bob");
  auto alice = as("alice", "alicepw");
  auto bob = as("bob", "bobpw");
  auto s = alice->open_session(10s);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(alice->acquire(s.session, "jobs/a").ok());
  auto secret = alice->session_secret(s.session);
  ASSERT_NE(secret, 0u);
  using lock::result_code;

  // Another user knows the id: without the secret, with a guessed one, and
  // even with the right one, the session is not bob's.
  for (std::uint64_t guess : {std::uint64_t{0}, secret + 1, secret}) {
    if (guess != 0)
      bob->adopt_session(s.session, guess);
    EXPECT_EQ(bob->release(s.session, "jobs/a").code, result_code::permission_denied) << guess;
    EXPECT_EQ(bob->keep_alive(s.session).code, result_code::permission_denied) << guess;
    EXPECT_EQ(bob->close_session(s.session).code, result_code::permission_denied) << guess;
    EXPECT_EQ(bob->put_ephemeral(s.session, "app/x", "v").code, result_code::permission_denied);
  }
  // The same user on another client: the secret is what it needs.
  auto alice2 = as("alice", "alicepw");
  EXPECT_EQ(alice2->keep_alive(s.session).code, result_code::permission_denied);
  alice2->adopt_session(s.session, secret + 1);
  EXPECT_EQ(alice2->keep_alive(s.session).code, result_code::permission_denied);
  alice2->adopt_session(s.session, secret);
  EXPECT_TRUE(alice2->keep_alive(s.session).ok());
  auto info = root->lock_info("jobs/a");
  ASSERT_EQ(info.holders.size(), 1u) << "still alice's lock";
  EXPECT_TRUE(alice2->release(s.session, "jobs/a").ok());
  EXPECT_TRUE(alice2->close_session(s.session).ok());
}

TEST_F(AuthGatewayTest, DiscoveryRegistrationNeedsWritePermission) {
  enable_with_root();
  auto root = as("root", "rootpw");
  add_app_user(*root, "alice");
  auto alice = as("alice", "alicepw", 2s);
  discovery::registration_options ro;
  ro.ttl = 3s;
  ro.retry = 100ms;
  {
    discovery::registration outside{*alice, "services/web/a", "127.0.0.1:1", ro};
    EXPECT_FALSE(outside.wait_registered(2s));
  }
  EXPECT_EQ(root->get("services/web/a").code, kv::result_code::not_found);
  discovery::registration inside{*alice, "app/services/web/a", "127.0.0.1:1", ro};
  EXPECT_TRUE(inside.wait_registered(5s));
  EXPECT_TRUE(root->get("app/services/web/a").ok());
}

TEST_F(AuthGatewayTest, AuditLogHasOneLinePerDenialFailureAndChange) {
  enable_with_root();  // 3 changes: user add, user grant, enable
  auto root = as("root", "rootpw");
  ASSERT_TRUE(root->user_add("alice", "alicepw").ok());
  settle();
  auto alice = as("alice", "alicepw");
  std::string hostile = "app/x\n2026-01-01T00:00:00.000Z result=ok user=root op=put";
  EXPECT_EQ(alice->put(hostile, "v").code, kv::result_code::permission_denied);
  auto wrong = as("alice", "nope");
  EXPECT_EQ(wrong->get("k").code, kv::result_code::unauthenticated);
  auto lines = audit_lines();
  // 4 changes, 1 denial, and at least one failed authentication (the client
  // may have connected to more than one node before its first answer).
  std::size_t changes = 0, denied = 0, failed = 0;
  for (auto& line : lines) {
    EXPECT_NE(line.find(" from="), std::string::npos) << line;
    if (line.find("result=ok user=") != std::string::npos &&
        line.find("op=\"auth change\"") != std::string::npos)
      ++changes;
    if (line.find("result=denied user=alice from=127.0.0.1 op=put") != std::string::npos) {
      ++denied;
      EXPECT_NE(line.find("target=\"app/x\\x0a2026"), std::string::npos) << line;
    }
    if (line.find("result=failed user=- from=127.0.0.1 op=authenticate target=alice") !=
        std::string::npos)
      ++failed;
  }
  EXPECT_EQ(changes, 4u);
  EXPECT_EQ(denied, 1u);
  EXPECT_GE(failed, 1u);
  // No line was forged: every line starts with a time stamp and " result=".
  for (auto& line : lines)
    EXPECT_EQ(line.find(" result="), 24u) << line;
}

}  // namespace

TEST_F(AuthGatewayTest, OversizedCredentialsAreABadRequestNotAHashJob) {
  // A 1 MiB "password" must be refused before anything is hashed or proposed:
  // argon2 over it would cost the node far more than the bytes did.
  capnp::EzRpcClient rpc{endpoint_of(1)};
  auto cap = rpc.getMain<schemas::client::Ballot>();
  std::string huge(1u << 20, 'p');
  auto login = cap.authenticateRequest();
  login.setUser("root");
  login.setPassword(huge);
  auto answer = login.send().wait(rpc.getWaitScope()).getResult();
  ASSERT_TRUE(answer.isError());
  EXPECT_TRUE(answer.getError().isBadRequest());
  auto add = cap.authChangeRequest();
  add.initId().setClientId(77);
  add.getId().setSeq(1);
  auto u = add.initChange().initUserAdd();
  u.setName("mallory");
  u.setPassword(huge);
  auto added = add.send().wait(rpc.getWaitScope()).getResult();
  ASSERT_TRUE(added.isError());
  EXPECT_TRUE(added.getError().isBadRequest());
  // Nothing was added.
  auto listed = cap.authListRequest().send().wait(rpc.getWaitScope()).getResult();
  ASSERT_TRUE(listed.isListing());
  for (auto user : listed.getListing().getUsers())
    EXPECT_NE(std::string{user.getName().cStr()}, "mallory");
}

TEST_F(AuthGatewayTest, AFloodOfPasswordChecksIsRefusedAsOverloadedNotQueued) {
  enable_with_root();
  // Twelve logins sent at once on one connection: a node runs at most four
  // argon2 checks (19 MiB each) at a time; the rest are told to retry at
  // once rather than waiting in a queue an attacker could grow.
  capnp::EzRpcClient rpc{endpoint_of(1)};
  auto cap = rpc.getMain<schemas::client::Ballot>();
  std::vector<capnp::RemotePromise<schemas::client::Ballot::AuthenticateResults>> pending;
  for (int i = 0; i < 12; ++i) {
    auto login = cap.authenticateRequest();
    login.setUser("root");
    login.setPassword(i % 2 == 0 ? "rootpw" : "wrong");
    pending.push_back(login.send());
  }
  int overloaded = 0, ok = 0, refused = 0;
  for (auto& p : pending) {
    auto r = p.wait(rpc.getWaitScope()).getResult();
    if (r.isOk())
      ++ok;
    else if (r.getError().isOverloaded())
      ++overloaded;
    else if (r.getError().isUnauthenticated())
      ++refused;
  }
  EXPECT_EQ(ok + refused, 4) << "exactly the cap's four were checked";
  EXPECT_EQ(overloaded, 8);
  // The cap is on checks in progress, not on checks ever made: once they
  // are done, the next login is checked again.
  auto again = cap.authenticateRequest();
  again.setUser("root");
  again.setPassword("rootpw");
  EXPECT_TRUE(again.send().wait(rpc.getWaitScope()).getResult().isOk());
}

TEST_F(AuthGatewayTest, OnlyRootTakesABackupOnceAuthenticationIsOn) {
  enable_with_root();
  auto root = as("root", "rootpw");
  add_app_user(*root, "alice");
  auto sink = [](const char*, std::size_t, std::uint64_t) { return true; };
  auto denied = as("alice", "alicepw")->snapshot(sink, 5s);
  EXPECT_EQ(denied.code, kv::result_code::permission_denied) << denied.message;
  auto anonymous = make_client(all())->snapshot(sink, 5s);
  EXPECT_EQ(anonymous.code, kv::result_code::unauthenticated) << anonymous.message;
  auto ok = root->snapshot(sink, 5s);
  EXPECT_TRUE(ok.ok()) << ok.message;
  EXPECT_GT(ok.total_bytes, 0u);
}
