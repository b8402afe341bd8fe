// Jeopardy with real processes: a `ballotctl lock -- CMD` holder whose
// traffic to the cluster is frozen (a relay that stops forwarding, as a
// partition would) must stop CMD before the cluster can expire its session
// and grant the lock to somebody else. The holder asks for no lock-delay, so
// nothing but jeopardy stands between its CMD and the next holder.
//
// When the next grant happened is bracketed from below by a poller: a
// linearizable check-token that still calls holder 1's token current was
// answered after that read was sent, so the grant came after the send. The
// test asserts such a read was sent after holder 1's ballotctl had exited,
// and ballotctl exits only after it has reaped CMD.
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <sstream>

#include "tests/process/cluster_fixture.hpp"
#include "tests/process/freezable_relay.hpp"

namespace {

using namespace ballot::testing;
using wall = std::chrono::system_clock;  // the clock of `date +%s%N`

/// CMD: its token, then a timestamp every 50 ms; on SIGTERM one last "end"
/// timestamp, then exit. (`wait` is interrupted by the trap at once.)
constexpr const char* holder_script = R"sh(
f="$1"
echo "token $BALLOT_FENCING_TOKEN" >> "$f"
trap 'echo "end $(date +%s%N)" >> "$f"; exit 0' TERM
while :; do
  echo "tick $(date +%s%N)" >> "$f"
  sleep 0.05 &
  wait $!
done
)sh";

std::int64_t wall_ns(wall::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

struct holder_log {
  std::uint64_t token = 0;
  std::vector<std::int64_t> ticks;
  std::optional<std::int64_t> end;
  std::size_t lines = 0;
};

holder_log read_log(const std::string& path) {
  holder_log out;
  std::ifstream in{path};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words{line};
    std::string kind;
    std::int64_t value = 0;
    if (!(words >> kind >> value))
      continue;  // a line being written
    ++out.lines;
    if (kind == "token")
      out.token = static_cast<std::uint64_t>(value);
    else if (kind == "tick")
      out.ticks.push_back(value);
    else if (kind == "end")
      out.end = value;
  }
  return out;
}

TEST(ProcessJeopardyTest, CutOffHolderStopsItsCommandBeforeTheLockIsGrantedElsewhere) {
  cluster_processes cluster;
  cluster.start_all();
  ASSERT_NE(cluster.leader(), 0u) << "no leader elected";
  std::string endpoints;
  for (auto& e : cluster.endpoints())
    endpoints += (endpoints.empty() ? "" : ",") + e;
  freezable_relay relay{cluster.client_port(1)};
  auto log1 = (cluster.dir() / "holder1.log").string();
  auto log2 = (cluster.dir() / "holder2.log").string();

  // TTL 3 s: jeopardy 1.2 s before the cluster may expire the session,
  // SIGKILL 0.4 s after SIGTERM, keep-alives every 0.6 s.
  process holder1{{BALLOTCTL_BIN,
                   "--endpoints",
                   relay.endpoint(),
                   "--timeout",
                   "3",
                   "lock",
                   "jeop",
                   "--wait",
                   "10",
                   "--ttl",
                   "3",
                   "--jeopardy-margin",
                   "1.2",
                   "--kill-grace",
                   "0.4",
                   "--",
                   "/bin/sh",
                   "-c",
                   holder_script,
                   "sh",
                   log1}};
  auto deadline = std::chrono::steady_clock::now() + 15s;
  while (read_log(log1).ticks.size() < 3 && holder1.running() &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  auto started = read_log(log1);
  ASSERT_GE(started.ticks.size(), 3u) << "holder 1 did not start CMD:\n" << holder1.err();
  ASSERT_NE(started.token, 0u);

  // More than a TTL with the relay open: keep-alives keep it healthy.
  std::this_thread::sleep_for(3500ms);
  ASSERT_TRUE(holder1.running()) << "holder 1 stopped while connected:\n" << holder1.err();

  auto frozen_at = wall::now();
  relay.freeze();

  // The poller: (send time, valid) of linearizable check-tokens of holder
  // 1's token, straight to the cluster, until the token is stale.
  std::mutex m;
  std::optional<wall::time_point> last_valid_sent, first_stale_answered;
  std::atomic<bool> stop_polling{false};
  std::thread poller([&] {
    ballot::client::client c{cluster.client_options()};
    while (!stop_polling) {
      auto sent = wall::now();
      auto r = c.check_token("jeop", started.token);
      std::lock_guard<std::mutex> guard{m};
      if (r.ok()) {
        last_valid_sent = sent;
      } else if (r.code == ballot::lock::result_code::stale) {
        first_stale_answered = wall::now();
        return;
      }
      std::this_thread::sleep_for(10ms);
    }
  });

  // Holder 2 asks for the same lock directly; CMD records when it started.
  process holder2{{BALLOTCTL_BIN, "--endpoints", endpoints, "lock", "jeop", "--wait", "20", "--ttl",
                   "5", "--", "/bin/sh", "-c", "date +%s%N > \"$1\"", "sh", log2}};

  // Holder 1's ballotctl exits after it reaped CMD: its exit is CMD's end.
  deadline = std::chrono::steady_clock::now() + 10s;
  while (holder1.running() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(2ms);
  auto holder1_exited = wall::now();
  auto code1 = holder1.exit_code(1s);
  auto code2 = holder2.exit_code(25s);
  // Let the poller see the stale token (holder 2's grant).
  deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> guard{m};
      if (first_stale_answered)
        break;
    }
    std::this_thread::sleep_for(20ms);
  }
  stop_polling = true;
  poller.join();

  ASSERT_TRUE(code1.has_value()) << "holder 1 did not exit:\n" << holder1.err();
  EXPECT_EQ(*code1, 75) << holder1.err();
  EXPECT_NE(holder1.err().find("jeopardy"), std::string::npos) << holder1.err();
  EXPECT_NE(holder1.err().find("SIGTERM"), std::string::npos) << holder1.err();
  ASSERT_TRUE(code2.has_value()) << "holder 2 did not finish:\n" << holder2.err();
  EXPECT_EQ(*code2, 0) << holder2.err();

  // CMD ended: it handled SIGTERM (or, on a machine too busy to run its trap
  // within the grace, was killed) and wrote nothing more.
  auto ended = read_log(log1);
  ASSERT_FALSE(ended.ticks.empty());
  if (!ended.end) {
    EXPECT_NE(holder1.err().find("sending SIGKILL"), std::string::npos)
      << "CMD neither recorded its end nor was killed:\n"
      << holder1.err();
  }
  auto cmd_last = ended.end.value_or(ended.ticks.back());
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(read_log(log1).lines, ended.lines) << "CMD still writes after ballotctl exited";
  for (auto t : ended.ticks)
    EXPECT_LE(t, cmd_last);
  EXPECT_LE(cmd_last, wall_ns(holder1_exited));
  // Jeopardy, not something sooner: the last keep-alive confirmed before the
  // freeze was sent about 0.6 s (an interval) before it, at worst a few
  // retries earlier on a slow machine; jeopardy is 1.8 s after that send.
  EXPECT_GE(cmd_last - wall_ns(frozen_at), 700'000'000) << "CMD stopped too soon after the freeze";

  // The grant came after CMD ended: the cluster still called holder 1's
  // token current in a read sent after holder 1 had exited.
  std::lock_guard<std::mutex> guard{m};
  ASSERT_TRUE(first_stale_answered.has_value()) << "holder 1's token never became stale";
  ASSERT_TRUE(last_valid_sent.has_value());
  EXPECT_GT(*last_valid_sent, holder1_exited)
    << "no read after holder 1 exited found its token current: the lock may have been granted "
       "elsewhere while CMD ran ("
    << std::chrono::duration_cast<std::chrono::milliseconds>(holder1_exited - *last_valid_sent)
         .count()
    << " ms before the exit)";
  // Holder 2's CMD ran after that.
  std::int64_t granted_cmd = 0;
  { std::ifstream{log2} >> granted_cmd; }
  EXPECT_GT(granted_cmd, wall_ns(*last_valid_sent));
  EXPECT_GT(granted_cmd, cmd_last);
  std::printf(
    "jeopardy: CMD ended %lld ms after the freeze; the cluster still named holder 1 %lld ms "
    "after that; holder 2's CMD started %lld ms after CMD ended\n",
    static_cast<long long>((cmd_last - wall_ns(frozen_at)) / 1'000'000),
    static_cast<long long>((wall_ns(*last_valid_sent) - cmd_last) / 1'000'000),
    static_cast<long long>((granted_cmd - cmd_last) / 1'000'000));
  std::printf("holder 1 said:\n%s", holder1.err().c_str());
}

}  // namespace
