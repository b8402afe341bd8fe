// ballotctl as a user runs it: the real binary against gateways in this
// process. Checks output, --json lines and the exit codes of SURFACE.md.

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>

#include "tests/gateway/cluster_fixture.hpp"
#include "tests/gateway/run_ballotctl.hpp"

namespace {

using namespace ballot;
using namespace std::chrono_literals;

using test_support::ballotctl;
using test_support::run_result;

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
  EXPECT_EQ(ballotctl("put 2>/dev/null").exit_code, 2);
  EXPECT_EQ(ballotctl("put k v extra 2>/dev/null").exit_code, 2);
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

TEST_F(BallotctlTest, JeopardyTimingIsValidatedNamingTheValue) {
  // Refused before anything is sent: no endpoint is reachable here.
  auto margin = ballotctl("lock L --ttl 3 --jeopardy-margin 3 -- true 2>&1");
  EXPECT_EQ(margin.exit_code, 2);
  EXPECT_NE(margin.out.find("--jeopardy-margin '3' must be less than"), std::string::npos)
    << margin.out;
  // The default margin is TTL/4 = 0.75 s: a grace of 1 s would outlive it.
  auto grace = ballotctl("lock L --ttl 3 --kill-grace 1 -- true 2>&1");
  EXPECT_EQ(grace.exit_code, 2);
  EXPECT_NE(grace.out.find("--kill-grace '1' must be less than the jeopardy margin (0.75 s)"),
            std::string::npos)
    << grace.out;
  auto equal = ballotctl("lock L --jeopardy-margin 2 --kill-grace 2 -- true 2>&1");
  EXPECT_EQ(equal.exit_code, 2);
  EXPECT_NE(equal.out.find("--kill-grace '2'"), std::string::npos) << equal.out;
  auto zero = ballotctl("lock L --jeopardy-margin 0 -- true 2>&1");
  EXPECT_EQ(zero.exit_code, 2);
  EXPECT_NE(zero.out.find("--jeopardy-margin '0'"), std::string::npos) << zero.out;
  auto negative = ballotctl("lock L --kill-grace -1 -- true 2>&1");
  EXPECT_EQ(negative.exit_code, 2);
  EXPECT_NE(negative.out.find("--kill-grace '-1'"), std::string::npos) << negative.out;
  // No room left for keep-alives before jeopardy.
  auto tight = ballotctl("lock L --ttl 0.1 --jeopardy-margin 0.099 --kill-grace 0 -- true 2>&1");
  EXPECT_EQ(tight.exit_code, 2);
  EXPECT_NE(tight.out.find("keep-alive interval 0 ms"), std::string::npos) << tight.out;
  auto misplaced = ballotctl("get k --kill-grace 1 2>&1");
  EXPECT_EQ(misplaced.exit_code, 2);
  EXPECT_NE(misplaced.out.find("--kill-grace applies to lock"), std::string::npos) << misplaced.out;
}

TEST_F(BallotctlTest, AConnectedHolderIsNeverInJeopardy) {
  // Four TTLs of CMD with a tight margin: keep-alives keep the session
  // healthy, so CMD runs to its end and its status is ballotctl's.
  auto r = ballotctl(endpoints +
                     " lock steady --ttl 0.5 --jeopardy-margin 0.2 --kill-grace 0.1 -- sh -c "
                     "'sleep 2; exit 7'");
  EXPECT_EQ(r.exit_code, 7);
}

TEST_F(BallotctlTest, LockRunsTheCommandWithItsFencingToken) {
  auto r = ballotctl(
    endpoints + " lock jobs -- sh -c 'echo \"$BALLOT_LOCK_NAME $BALLOT_FENCING_TOKEN\"; exit 7'");
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
  auto json = ballotctl(endpoints +
                        " --json watch cfg/b --count 1 &"
                        " sleep 0.5; " +
                        BALLOTCTL_PATH + " " + endpoints + " put cfg/b 3 >/dev/null; wait");
  EXPECT_NE(json.out.find("{\"type\":\"put\",\"key\":\"cfg/b\""), std::string::npos) << json.out;
}

/// Writes `bytes` to a new temporary file; its path.
std::string temp_file(const std::string& bytes) {
  char path[] = "/tmp/ballotctl-test-XXXXXX";
  int fd = ::mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  ::close(fd);
  return path;
}

TEST_F(BallotctlTest, PutReadsTheValueFromStdinByteForByte) {
  auto c = make_client({endpoint_of(1)});
  // Every byte value, newlines and NULs included, then a full 1 MiB.
  std::string binary;
  for (int i = 0; i < 256; ++i)
    binary += static_cast<char>(i);
  auto small = temp_file(binary);
  auto r = ballotctl(endpoints + " put bin < " + small);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(c->get("bin").value, binary);
  std::string mib(1u << 20, 'm');
  mib[0] = '\0';
  mib[mib.size() - 1] = '\n';
  auto full = temp_file(mib);
  r = ballotctl(endpoints + " put big - < " + full);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(c->get("big").value, mib);
  // Empty stdin is an empty value.
  ASSERT_EQ(ballotctl(endpoints + " put empty < /dev/null").exit_code, 0);
  auto empty = c->get("empty");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty.value, "");
  // One byte over the limit: refused before anything is sent, naming the size.
  auto over = temp_file(mib + "x");
  r = ballotctl(endpoints + " put big < " + over + " 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("the value on stdin is 1048577 bytes, over the limit of 1048576"),
            std::string::npos)
    << r.out;
  // From a pipe the size is unknown: ballotctl stops reading past the limit.
  r = ballotctl(endpoints + " put big - 2>&1 < /dev/zero");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("more than 1048576 bytes, over the limit of 1048576"), std::string::npos)
    << r.out;
  EXPECT_EQ(c->get("big").value, mib);  // unchanged
  for (auto& f : {small, full, over})
    std::remove(f.c_str());
}

TEST_F(BallotctlTest, HumanOutputEscapesKeysAndValues) {
  auto c = make_client({endpoint_of(1)});
  // A key that would forge a second line, and a value with control bytes.
  std::string key = "esc/evil\nesc/forged 99";
  std::string value = std::string("a\tb\\c\x01\xff\n") + "\xc3\xa9";  // ends in a UTF-8 é
  auto put = c->put(key, value);
  ASSERT_TRUE(put.ok()) << put.message;
  auto v = std::to_string(put.version);
  auto list = ballotctl(endpoints + " list esc/ --values");
  ASSERT_EQ(list.exit_code, 0);
  EXPECT_EQ(list.out, "esc/evil\\nesc/forged 99 " + v + " a\\tb\\\\c\\x01\\xff\\n\xc3\xa9\n");
  auto get = ballotctl(endpoints + " get 'esc/evil\nesc/forged 99'");
  ASSERT_EQ(get.exit_code, 0);
  EXPECT_EQ(get.out, "a\\tb\\\\c\\x01\\xff\\n\xc3\xa9\nversion " + v + "\n");
  // --json lines are ASCII: the byte 0xff reads as U+00FF, the UTF-8 é is U+00E9.
  auto json = ballotctl(endpoints + " --json list esc/ --values");
  ASSERT_EQ(json.exit_code, 0);
  EXPECT_EQ(json.out, "{\"key\":\"esc/evil\\nesc/forged 99\",\"version\":" + v +
                        ",\"value\":\"a\\tb\\\\c\\u0001\\u00ff\\n\\u00e9\"}\n");
  auto watch = ballotctl(endpoints + " watch esc/ --prefix --count 1 --from-revision " +
                         std::to_string(put.version - 1));
  ASSERT_EQ(watch.exit_code, 0);
  EXPECT_EQ(std::count(watch.out.begin(), watch.out.end(), '\n'), 1) << watch.out;
  EXPECT_EQ(watch.out.rfind("put esc/evil\\nesc/forged 99 " + v + " a\\tb", 0), 0u) << watch.out;
}

TEST_F(BallotctlTest, ListPagesThroughEveryKeyWithLimitAndValues) {
  // Small pages at every node, so ballotctl must page: 2,500 keys in pages
  // of at most 100 entries (or 4 KiB).
  std::string all_endpoints;
  for (paxos::node_id id : {1, 2, 3}) {
    auto opts = gateway_options(id);
    opts.max_list_entries = 100;
    opts.max_list_bytes = 4096;
    gateways[id] = gateway::start(sys, opts, gateway::find_in(group));
    all_endpoints += (id == 1 ? "" : ",") + endpoint_of(id);
  }
  auto at = "--timeout 10 --endpoints " + all_endpoints;
  auto c = make_client({endpoint_of(1), endpoint_of(2)}, 10s);
  constexpr int n = 2500;
  std::atomic<int> pending{n};
  std::atomic<int> failed{0};
  for (int i = 0; i < n; ++i) {
    char key[32];
    std::snprintf(key, sizeof(key), "many/%05d", i);
    c->async_put(key, "value " + std::to_string(i), std::nullopt, [&](const kv::result& r) {
      failed += r.ok() ? 0 : 1;
      --pending;
    });
  }
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (pending > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  ASSERT_EQ(pending, 0);
  ASSERT_EQ(failed, 0);
  ASSERT_TRUE(c->put("many0", "outside").ok());

  auto list = ballotctl(at + " list many/");
  ASSERT_EQ(list.exit_code, 0);
  ASSERT_EQ(std::count(list.out.begin(), list.out.end(), '\n'), n);
  std::istringstream lines{list.out};
  std::string line;
  for (int i = 0; std::getline(lines, line); ++i) {
    char key[32];
    std::snprintf(key, sizeof(key), "many/%05d ", i);
    ASSERT_EQ(line.rfind(key, 0), 0u) << "line " << i << ": " << line;
  }
  auto valued = ballotctl(at + " list many/ --values");
  ASSERT_EQ(valued.exit_code, 0);
  ASSERT_EQ(std::count(valued.out.begin(), valued.out.end(), '\n'), n);
  EXPECT_NE(valued.out.find(" value 0\n"), std::string::npos);
  EXPECT_EQ(valued.out.substr(valued.out.rfind('\n', valued.out.size() - 2) + 1, 11),
            "many/02499 ");
  EXPECT_NE(valued.out.find(" value 2499\n"), std::string::npos);
  // --limit counts keys over pages; JSON is one object a line.
  auto limited = ballotctl(at + " --json list many/ --limit 250 --values");
  ASSERT_EQ(limited.exit_code, 0);
  EXPECT_EQ(std::count(limited.out.begin(), limited.out.end(), '\n'), 251);  // + truncated
  EXPECT_EQ(limited.out.rfind("{\"key\":\"many/00000\",\"version\":", 0), 0u) << limited.out;
  EXPECT_NE(limited.out.find("\"value\":\"value 249\"}\n{\"truncated\":true,\"returned\":250}\n"),
            std::string::npos);
  auto exact = ballotctl(at + " list many/ --limit 2500");
  EXPECT_EQ(std::count(exact.out.begin(), exact.out.end(), '\n'), n);
  EXPECT_EQ(ballotctl(at + " list many/ --limit 0 2>/dev/null").exit_code, 2);
  EXPECT_EQ(ballotctl(at + " get k --values 2>/dev/null").exit_code, 2);
}

TEST_F(BallotctlTest, WatchFromARevisionPastTheCurrentOneExitsTwo) {
  auto c = make_client({endpoint_of(1)});
  auto put = c->put("w", "1");
  ASSERT_TRUE(put.ok());
  auto start = std::chrono::steady_clock::now();
  auto r = ballotctl(endpoints + " watch w --from-revision " + std::to_string(put.version + 500) +
                     " 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("is past the current revision"), std::string::npos) << r.out;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);  // at once, not a silent wait
  auto json = ballotctl(endpoints + " --json watch w --from-revision " +
                        std::to_string(put.version + 500) + " 2>/dev/null");
  EXPECT_EQ(json.exit_code, 2);
  EXPECT_NE(json.out.find("\"error\":\"bad_request\""), std::string::npos) << json.out;
  // At exactly the current revision it waits for the next change.
  auto at_current =
    ballotctl(endpoints + " watch w --count 1 --from-revision " + std::to_string(put.version) +
              " & sleep 0.5; " + BALLOTCTL_PATH + " " + endpoints + " put w 2 >/dev/null; wait");
  EXPECT_EQ(at_current.out.rfind("put w ", 0), 0u) << at_current.out;
}

TEST_F(BallotctlTest, WaitOverTheNodesMaximumIsAUsageError) {
  for (auto wait : {"3600.001", "3601", "86401", "1e30"}) {
    auto r = ballotctl(std::string{"lock L --wait "} + wait + " -- true 2>&1");
    EXPECT_EQ(r.exit_code, 2) << wait;
    EXPECT_NE(r.out.find("is over the maximum of 3600000 (1 hour)"), std::string::npos) << r.out;
  }
  auto r = ballotctl("lock L --wait 3601 -- true 2>&1");
  EXPECT_NE(r.out.find("--wait '3601': waitMs 3601000 is over the maximum of 3600000 (1 hour)"),
            std::string::npos)
    << r.out;
  // The maximum itself is a wait like any other.
  auto ok = ballotctl(endpoints + " lock L --wait 3600 -- true");
  EXPECT_EQ(ok.exit_code, 0);
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
