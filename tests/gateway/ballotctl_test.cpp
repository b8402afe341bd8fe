// ballotctl as a user runs it: the real binary against gateways in this
// process. Checks output, --json lines and the exit codes of SURFACE.md.

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "tests/gateway/cluster_fixture.hpp"

namespace {

using namespace ballot;

struct run_result {
  int exit_code = -1;
  std::string out;
};

/// Runs ballotctl with `args` (a shell fragment); stdout is captured, stderr
/// goes to the test log. A --timeout in every cluster call bounds the run.
run_result ballotctl(const std::string& args) {
  run_result r;
  auto cmd = std::string{BALLOTCTL_PATH} + " " + args;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe)
    return r;
  char buf[4096];
  while (auto n = std::fread(buf, 1, sizeof(buf), pipe))
    r.out.append(buf, n);
  auto status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class BallotctlTest : public test_support::ClusterFixture {
 protected:
  void SetUp() override {
    start_all_gateways();
    endpoints =
      "--timeout 5 --endpoints " + endpoint_of(1) + "," + endpoint_of(2) + "," + endpoint_of(3);
  }

  std::string endpoints;
};

TEST_F(BallotctlTest, PutGetListDelete) {
  auto put = ballotctl(endpoints + " put greeting 'hello world'");
  ASSERT_EQ(put.exit_code, 0) << put.out;
  EXPECT_EQ(put.out.rfind("version ", 0), 0u) << put.out;
  auto get = ballotctl(endpoints + " get greeting");
  ASSERT_EQ(get.exit_code, 0);
  EXPECT_EQ(get.out, "hello world\n" + put.out);
  ASSERT_EQ(ballotctl(endpoints + " put greeting2 x").exit_code, 0);
  auto list = ballotctl(endpoints + " list greet");
  ASSERT_EQ(list.exit_code, 0);
  EXPECT_EQ(std::count(list.out.begin(), list.out.end(), '\n'), 2) << list.out;
  EXPECT_EQ(list.out.rfind("greeting ", 0), 0u) << list.out;
  EXPECT_EQ(ballotctl(endpoints + " delete greeting").exit_code, 0);
  EXPECT_EQ(ballotctl(endpoints + " get greeting").exit_code, 1);
  EXPECT_EQ(ballotctl(endpoints + " delete greeting").exit_code, 1);
}

TEST_F(BallotctlTest, IfVersionRefusalsExitOne) {
  ASSERT_EQ(ballotctl(endpoints + " put k v --if-version 0").exit_code, 0);
  auto again = ballotctl(endpoints + " --json put k w --if-version 0");
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.out.find("\"error\":\"version_mismatch\""), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("\"current_version\":"), std::string::npos) << again.out;
}

TEST_F(BallotctlTest, JsonIsOneObjectPerLine) {
  auto put = ballotctl(endpoints + " --json put 'a\"b' 'line1\nline2'");
  ASSERT_EQ(put.exit_code, 0);
  EXPECT_EQ(put.out.rfind("{\"ok\":true,\"key\":\"a\\\"b\",\"version\":", 0), 0u) << put.out;
  auto get = ballotctl(endpoints + " --json get 'a\"b'");
  ASSERT_EQ(get.exit_code, 0);
  EXPECT_NE(get.out.find("\"value\":\"line1\\nline2\""), std::string::npos) << get.out;
  EXPECT_EQ(std::count(get.out.begin(), get.out.end(), '\n'), 1);
  auto status = ballotctl(endpoints + " --json status");
  ASSERT_EQ(status.exit_code, 0);
  EXPECT_EQ(std::count(status.out.begin(), status.out.end(), '\n'), 1);
  EXPECT_NE(status.out.find("\"members\":[{\"id\":1,"), std::string::npos) << status.out;
  EXPECT_EQ(status.out.find("\"leader\":0,"), std::string::npos) << status.out;
}

TEST_F(BallotctlTest, StatusPrintsEveryMember) {
  auto status = ballotctl(endpoints + " status");
  ASSERT_EQ(status.exit_code, 0);
  EXPECT_NE(status.out.find("leader "), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("commit index"), std::string::npos) << status.out;
  for (auto id : {"\n1 ", "\n2 ", "\n3 "})
    EXPECT_NE(status.out.find(id), std::string::npos) << status.out;
}

TEST_F(BallotctlTest, UsageErrorsExitTwoAndNameTheFlag) {
  EXPECT_EQ(ballotctl("--timeout abc status 2>/dev/null").exit_code, 2);
  EXPECT_EQ(ballotctl("--endpoints nocolon status 2>/dev/null").exit_code, 2);
  EXPECT_EQ(ballotctl("--frobnicate status 2>/dev/null").exit_code, 2);
  EXPECT_EQ(ballotctl("put onlykey 2>/dev/null").exit_code, 2);
  EXPECT_EQ(ballotctl("2>/dev/null").exit_code, 2);
  EXPECT_EQ(ballotctl(endpoints + " put k v --if-version -3 2>/dev/null").exit_code, 2);
  auto msg = ballotctl("--timeout abc status 2>&1");
  EXPECT_NE(msg.out.find("--timeout 'abc'"), std::string::npos) << msg.out;
  msg = ballotctl("--endpoints host:99999 status 2>&1");
  EXPECT_NE(msg.out.find("'host:99999'"), std::string::npos) << msg.out;
  auto no_cmd = ballotctl("lock L 2>&1");
  EXPECT_EQ(no_cmd.exit_code, 2);
  EXPECT_NE(no_cmd.out.find("after '--'"), std::string::npos) << no_cmd.out;
  auto misplaced = ballotctl("get k --shared 2>&1");
  EXPECT_EQ(misplaced.exit_code, 2);
  EXPECT_NE(misplaced.out.find("--shared applies to lock"), std::string::npos) << misplaced.out;
  auto bad_wait = ballotctl("lock L --wait soon -- true 2>&1");
  EXPECT_EQ(bad_wait.exit_code, 2);
  EXPECT_NE(bad_wait.out.find("--wait 'soon'"), std::string::npos) << bad_wait.out;
  EXPECT_EQ(ballotctl("check-token L notanumber 2>/dev/null").exit_code, 2);
  auto help = ballotctl("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("usage: ballotctl"), std::string::npos);
}

TEST_F(BallotctlTest, LockRunsTheCommandWithItsFencingToken) {
  auto r = ballotctl(endpoints +
                     " lock jobs -- sh -c 'echo \"$BALLOT_LOCK_NAME $BALLOT_FENCING_TOKEN\"; exit 7'");
  EXPECT_EQ(r.exit_code, 7) << r.out;
  ASSERT_EQ(r.out.rfind("jobs ", 0), 0u) << r.out;
  auto token = std::stoull(r.out.substr(5));
  EXPECT_GT(token, 0u);
  // Released afterwards: the token is stale, and a try-lock gets it again
  // with a higher token.
  auto check = ballotctl(endpoints + " check-token jobs " + std::to_string(token));
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_EQ(check.out, "stale\n");
  auto again = ballotctl(endpoints + " lock jobs --wait 0 -- sh -c 'echo $BALLOT_FENCING_TOKEN'");
  ASSERT_EQ(again.exit_code, 0) << again.out;
  EXPECT_GT(std::stoull(again.out), token);
}

TEST_F(BallotctlTest, TryLockOnAHeldLockExitsOne) {
  auto c = make_client({endpoint_of(1)});
  auto s = c->open_session(std::chrono::seconds(10));
  auto held = c->acquire(s.session, "busy");
  ASSERT_TRUE(held.ok());
  auto valid = ballotctl(endpoints + " check-token busy " + std::to_string(held.token));
  EXPECT_EQ(valid.exit_code, 0);
  EXPECT_EQ(valid.out, "valid\n");
  auto start = std::chrono::steady_clock::now();
  auto r = ballotctl(endpoints + " lock busy --wait 0.3 -- echo ran 2>/dev/null");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");  // the command never ran
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
  // Shared holders run side by side once the writer lets go.
  ASSERT_TRUE(c->release(s.session, "busy").ok());
  auto shared = ballotctl(endpoints + " lock busy --shared --wait 5 -- " + BALLOTCTL_PATH + " " +
                          endpoints + " lock busy --shared --wait 0 -- echo both");
  EXPECT_EQ(shared.exit_code, 0);
  EXPECT_EQ(shared.out, "both\n");
}

TEST_F(BallotctlTest, WatchPrintsEventsInCommitOrder) {
  auto c = make_client({endpoint_of(2)});
  auto first = c->put("cfg/a", "1");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(c->put("cfg/b", "2").ok());
  ASSERT_TRUE(c->del("cfg/a").ok());
  // Replays from a revision, stops after --count events.
  auto r = ballotctl(endpoints + " watch cfg/ --prefix --count 3 --from-revision " +
                     std::to_string(first.version - 1));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto v = first.version;
  EXPECT_EQ(r.out, "put cfg/a " + std::to_string(v) + " 1\nput cfg/b " + std::to_string(v + 1) +
                     " 2\ndelete cfg/a " + std::to_string(v + 2) + "\n");
  auto json = ballotctl(endpoints + " --json watch cfg/b --count 1 &"
                                    " sleep 0.5; " +
                        BALLOTCTL_PATH + " " + endpoints + " put cfg/b 3 >/dev/null; wait");
  EXPECT_NE(json.out.find("{\"type\":\"put\",\"key\":\"cfg/b\""), std::string::npos)
    << json.out;
}

TEST_F(BallotctlTest, UnreachableClusterExitsThreeWithinTheTimeout) {
  // Nothing listens on a gateway's port once it has stopped.
  auto port = gateways[1]->port();
  gateways.erase(1);
  auto start = std::chrono::steady_clock::now();
  auto r =
    ballotctl("--timeout 0.5 --endpoints 127.0.0.1:" + std::to_string(port) + " get k 2>/dev/null");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

}  // namespace
