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
  auto later = ballotctl("watch k 2>&1");
  EXPECT_EQ(later.exit_code, 2);
  EXPECT_NE(later.out.find("not implemented yet"), std::string::npos) << later.out;
  auto help = ballotctl("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("usage: ballotctl"), std::string::npos);
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
