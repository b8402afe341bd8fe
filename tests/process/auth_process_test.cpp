// Users, roles and authentication with real processes: three ballotd nodes
// (with --audit-log) and ballotctl's auth, user and role commands, as an
// operator types them. Users and roles are replicated state: they survive a
// restart of every node and a leader change.
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "tests/process/cluster_fixture.hpp"

namespace {

using namespace ballot::testing;

struct ctl_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class AuthProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster = std::make_unique<cluster_processes>();
    audit = (cluster->dir() / "audit.log").string();
    cluster->extra_flags = {"--audit-log", audit};
    cluster->start_all();
    ASSERT_NE(cluster->leader(), 0u) << "no leader elected";
  }

  std::string endpoints() const {
    std::string out;
    for (auto& e : cluster->endpoints())
      out += (out.empty() ? "" : ",") + e;
    return out;
  }

  /// Runs `ballotctl --timeout 8 --endpoints ... ARGS` (a shell fragment),
  /// with `input` on stdin.
  ctl_result ctl(const std::string& args, const std::string& input = "",
                 const std::string& only = "") {
    ctl_result r;
    auto err_file = (cluster->dir() / "ctl.err").string();
    auto in_file = (cluster->dir() / "ctl.in").string();
    { std::ofstream{in_file} << input; }
    auto cmd = std::string{BALLOTCTL_BIN} + " --timeout 8 --endpoints " +
               (only.empty() ? endpoints() : only) + " " + args + " <" + in_file + " 2>" + err_file;
    FILE* pipe = ::popen(cmd.c_str(), "r");
    if (pipe == nullptr)
      return r;
    char buf[4096];
    while (auto n = std::fread(buf, 1, sizeof(buf), pipe))
      r.out.append(buf, n);
    auto status = ::pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream err{err_file};
    std::stringstream all;
    all << err.rdbuf();
    r.err = all.str();
    return r;
  }

  std::unique_ptr<cluster_processes> cluster;
  std::string audit;
};

#define EXPECT_CTL(r, code) EXPECT_EQ((r).exit_code, code) << (r).out << (r).err

TEST_F(AuthProcessTest, BallotctlUserRoleAndAuthCommands) {
  const std::string root = "--user root --password rootpw ";
  // Bootstrap while authentication is off: anybody may add the first users.
  EXPECT_CTL(ctl("user add root --new-password -", "rootpw\n"), 0);
  EXPECT_CTL(ctl("auth enable"), 2) << "refused without a user holding the root role";
  EXPECT_CTL(ctl("user grant root root"), 0);
  auto enable = ctl("--json auth enable");
  EXPECT_CTL(enable, 0);
  EXPECT_EQ(enable.out, "{\"ok\":true,\"op\":\"auth enable\"}\n");

  auto status = ctl(root + "--json auth status");
  EXPECT_CTL(status, 0);
  EXPECT_EQ(status.out, "{\"ok\":true,\"enabled\":true,\"user\":\"root\",\"root\":true}\n");

  // A restricted user: read-write under app/, locks under jobs/.
  EXPECT_CTL(ctl(root + "role add app"), 0);
  EXPECT_CTL(ctl(root + "role grant app readwrite app/"), 0);
  EXPECT_CTL(ctl(root + "role grant app lock jobs/"), 0);
  EXPECT_CTL(ctl(root + "role grant app sideways app/"), 2);
  auto exists = ctl(root + "--json role add app");
  EXPECT_CTL(exists, 1);
  EXPECT_NE(exists.out.find("\"error\":\"already_exists\""), std::string::npos) << exists.out;
  // The password from the environment, the new one from stdin.
  EXPECT_CTL(ctl("--user root user add alice --new-password -", "alicepw\n"), 2)
    << "--user without a password (BALLOT_PASSWORD is unset) is a usage error";
  EXPECT_CTL(ctl("--user root --password - user add alice --new-password -", "rootpw\nalicepw\n"),
             0);
  EXPECT_CTL(ctl(root + "user grant alice app"), 0);
  auto missing = ctl(root + "user grant alice nosuchrole");
  EXPECT_CTL(missing, 1);
  EXPECT_NE(missing.err.find("nosuchrole"), std::string::npos) << missing.err;
  EXPECT_CTL(ctl(root + "user add certonly --no-password"), 0);

  auto users = ctl(root + "--json user list");
  EXPECT_CTL(users, 0);
  EXPECT_NE(users.out.find("{\"user\":\"alice\",\"roles\":[\"app\"],\"password\":true}\n"),
            std::string::npos)
    << users.out;
  EXPECT_NE(users.out.find("{\"user\":\"certonly\",\"roles\":[],\"password\":false}\n"),
            std::string::npos)
    << users.out;
  EXPECT_NE(users.out.find("{\"enabled\":true}\n"), std::string::npos) << users.out;
  auto roles = ctl(root + "role list");
  EXPECT_CTL(roles, 0);
  EXPECT_EQ(roles.out, "app readwrite \"app/\"\napp lock \"jobs/\"\n");

  // alice at work, and refused outside her prefixes.
  const std::string alice = "--user alice --password alicepw ";
  EXPECT_CTL(ctl(alice + "put app/color blue"), 0);
  EXPECT_CTL(ctl(alice + "get app/color"), 0);
  auto denied = ctl(alice + "--json put other/color blue");
  EXPECT_CTL(denied, 1);
  EXPECT_NE(denied.out.find("\"error\":\"permission_denied\""), std::string::npos) << denied.out;
  EXPECT_CTL(ctl(alice + "get other/color"), 1);
  EXPECT_CTL(ctl(alice + "list"), 1);
  EXPECT_CTL(ctl(alice + "lock jobs/nightly --wait 5 -- true"), 0);
  EXPECT_CTL(ctl(alice + "lock other --wait 5 -- true"), 1);
  EXPECT_CTL(ctl(alice + "user list"), 1) << "listing users needs root";
  EXPECT_CTL(ctl(alice + "user add mallory --new-password x"), 1);

  // Wrong or missing credentials.
  auto wrong = ctl("--user alice --password nope get app/color");
  EXPECT_CTL(wrong, 1);
  EXPECT_NE(wrong.err.find("unauthenticated"), std::string::npos) << wrong.err;
  auto anonymous = ctl("get app/color");
  EXPECT_CTL(anonymous, 1);
  EXPECT_NE(anonymous.err.find("unauthenticated"), std::string::npos) << anonymous.err;
  EXPECT_CTL(ctl("--user alice --password nope auth status"), 1);

  // A password change takes effect at once; the old one is refused.
  EXPECT_CTL(ctl(root + "user passwd alice --new-password alice2"), 0);
  EXPECT_CTL(ctl(alice + "get app/color"), 1);
  EXPECT_CTL(ctl("--user alice --password alice2 get app/color"), 0);
  EXPECT_CTL(ctl(root + "user revoke alice app"), 0);
  EXPECT_CTL(ctl("--user alice --password alice2 get app/color"), 1);
  EXPECT_CTL(ctl(root + "role revoke app lock jobs/"), 0);
  EXPECT_CTL(ctl(root + "role revoke app lock jobs/"), 1) << "not granted any more";
  EXPECT_CTL(ctl(root + "role delete app"), 0);
  EXPECT_CTL(ctl(root + "user delete alice"), 0);
  EXPECT_CTL(ctl(root + "user delete alice"), 1);
  EXPECT_CTL(ctl(root + "auth disable"), 0);
  EXPECT_CTL(ctl("put open/again yes"), 0);

  // The audit log (--audit-log; the three nodes append to one file here).
  std::ifstream in{audit};
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(all.find("result=denied user=alice from=127.0.0.1 op=put target=other/color"),
            std::string::npos)
    << all;
  EXPECT_NE(all.find("op=authenticate target=alice why=\"wrong user name or password\""),
            std::string::npos)
    << all;
  EXPECT_NE(all.find("result=ok user=root from=127.0.0.1 op=\"auth change\" target=\"user add"),
            std::string::npos)
    << all;
}

TEST_F(AuthProcessTest, UsersAndRolesSurviveRestartsAndALeaderChange) {
  const std::string root = "--user root --password rootpw ";
  ASSERT_EQ(ctl("user add root --new-password rootpw").exit_code, 0);
  ASSERT_EQ(ctl("user grant root root").exit_code, 0);
  ASSERT_EQ(ctl("user add alice --new-password alicepw").exit_code, 0);
  ASSERT_EQ(ctl("role add app").exit_code, 0);
  ASSERT_EQ(ctl("role grant app readwrite app/").exit_code, 0);
  ASSERT_EQ(ctl("user grant alice app").exit_code, 0);
  ASSERT_EQ(ctl("auth enable").exit_code, 0);
  const std::string alice = "--user alice --password alicepw ";
  ASSERT_EQ(ctl(alice + "put app/k v1").exit_code, 0);

  // Every node restarts (one at a time, so the cluster keeps a quorum).
  for (std::size_t id = 1; id <= 3; ++id) {
    cluster->kill9(id);
    cluster->start(id);
  }
  ASSERT_NE(cluster->leader(), 0u);
  EXPECT_CTL(ctl(alice + "get app/k"), 0);
  EXPECT_CTL(ctl(alice + "put other/k v"), 1);
  EXPECT_CTL(ctl("get app/k"), 1) << "still enabled";

  // The leader dies: the others hold the same users and roles.
  auto leader = cluster->leader();
  ASSERT_NE(leader, 0u);
  cluster->kill9(leader);
  std::string others;
  for (std::size_t id = 1; id <= 3; ++id)
    if (id != leader)
      others += (others.empty() ? "" : ",") + cluster->client_endpoint(id);
  EXPECT_CTL(ctl(alice + "put app/k v2", "", others), 0);
  EXPECT_CTL(ctl(alice + "put other/k v", "", others), 1);
  auto wrong = ctl("--user alice --password nope get app/k", "", others);
  EXPECT_CTL(wrong, 1);
  EXPECT_NE(wrong.err.find("unauthenticated"), std::string::npos) << wrong.err;
  // A change made now (without the old leader) reaches it when it returns.
  EXPECT_CTL(ctl(root + "role grant app read shared/", "", others), 0);
  cluster->start(leader);
  auto roles = ctl(root + "--json role list", "", cluster->client_endpoint(leader));
  EXPECT_CTL(roles, 0);
  EXPECT_NE(roles.out.find("{\"kind\":\"read\",\"prefix\":\"shared/\"}"), std::string::npos)
    << roles.out;
}

TEST(AuthProcessFlagsTest, AnAuditLogThatCannotBeOpenedExitsTwo) {
  process node{{BALLOTD_BIN, "--audit-log", "/nonexistent-dir/audit.log"}};
  auto code = node.exit_code(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2);
  EXPECT_NE(node.err().find("--audit-log /nonexistent-dir/audit.log"), std::string::npos)
    << node.err();
}

}  // namespace
