// Mutual exclusion and fencing with real processes: three ballotd nodes and
// several `ballotctl lock` holders, each running a read-modify-write of one
// shared file, while the leader is killed with SIGKILL and restarted.
//
// The file is the "downstream service": it holds a counter and the highest
// fencing token that ever wrote it, and a critical section refuses to write
// with an older token (Chubby's sequencer check). The read-modify-write is
// deliberately not atomic (read, pause, write): two holders at once would
// lose an update. So the final counter equals the number of critical
// sections that reported success only if the lock service never let two
// holders overlap, across the fail-over.
#include <sys/wait.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "tests/process/cluster_fixture.hpp"
#include "tests/process/fenced_log.hpp"

namespace {

using namespace ballot::testing;

/// One critical section, run by ballotctl with the lock held. Exit 0: the
/// counter was incremented under our token; 99: a newer token wrote first
/// (we were fenced off); anything else: failed before writing.
constexpr const char* critical_section = R"(
f="$1"
read count token < "$f" || exit 2
if [ "$BALLOT_FENCING_TOKEN" -le "$token" ]; then exit 99; fi
sleep 0.01
echo "$((count + 1)) $BALLOT_FENCING_TOKEN" > "$f.tmp.$$" && mv "$f.tmp.$$" "$f" || exit 3
echo "$BALLOT_FENCING_TOKEN" >> "$f.log"
)";

int run_holder_once(const std::string& endpoints, const std::string& file) {
  std::string cmd = std::string{BALLOTCTL_BIN} + " --timeout 8 --endpoints " + endpoints +
                    " lock counter --wait 8 --ttl 3 -- sh -c '" + critical_section + "' sh " +
                    file + " 2>/dev/null";
  int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ProcessFencingTest, LockHoldersNeverOverlapAcrossAFailover) {
  cluster_processes cluster;
  cluster.start_all();
  auto leader = cluster.leader();
  ASSERT_NE(leader, 0u) << "no leader elected";
  std::string endpoints;
  for (auto& e : cluster.endpoints())
    endpoints += (endpoints.empty() ? "" : ",") + e;
  auto file = (cluster.dir() / "counter").string();
  { std::ofstream{file} << "0 0\n"; }

  std::atomic<bool> stop{false};
  std::atomic<int> succeeded{0}, fenced{0}, failed{0};
  std::vector<std::thread> holders;
  for (int i = 0; i < 4; ++i)
    holders.emplace_back([&] {
      while (!stop) {
        auto code = run_holder_once(endpoints, file);
        if (code == 0)
          ++succeeded;
        else if (code == 99)
          ++fenced;
        else
          ++failed;
      }
    });
  std::this_thread::sleep_for(2500ms);
  int before_kill = succeeded;
  cluster.kill9(leader);
  std::this_thread::sleep_for(2500ms);
  int while_down = succeeded;
  cluster.start(leader);
  std::this_thread::sleep_for(1500ms);
  stop = true;
  for (auto& t : holders)
    t.join();

  std::uint64_t count = 0, last_token = 0;
  { std::ifstream{file} >> count >> last_token; }
  EXPECT_GT(before_kill, 5) << "too few critical sections before the kill";
  EXPECT_GT(while_down, before_kill) << "no critical section ran with the leader dead";
  EXPECT_EQ(count, static_cast<std::uint64_t>(succeeded.load()))
    << succeeded << " sections succeeded, " << fenced << " were fenced off, " << failed
    << " failed";
  expect_tokens_increase(file, count, last_token);
  std::printf(
    "fencing: %d critical sections succeeded (%d before the kill, %d with the leader "
    "dead), %d fenced off, %d not acquired or failed\n",
    succeeded.load(), before_kill, while_down - before_kill, fenced.load(), failed.load());
}

}  // namespace
