// Fenced lock holders across network stacks: three ballotd nodes in their own namespaces
// behind slow, stalling peer links, and `ballotctl lock` holders in the client namespace and
// in every node's namespace, each doing a read-modify-write of one shared counter file under
// the lock, while a seeded nemesis cuts the leader off, kills it and cuts off a node with a
// holder next to it.
//
// The counter file is the downstream service: like a storage server checking Chubby
// sequencers, it checks the token and writes in one step (under flock), keeps the highest
// token that wrote it and refuses an older one. Across partitions a holder can get its grant
// after its session expired (the grant was chosen, the reply crossed the partition late) and
// run with a token that is no longer the newest; the fence must refuse it. So: no write with
// a stale token is ever accepted (the tokens of the writes strictly increase), no accepted
// write is lost, and no fencing token is ever handed to two critical sections.
#include <sys/wait.h>

#include <atomic>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "tests/netns/netns_cluster.hpp"
#include "tests/process/fenced_log.hpp"

namespace {

using namespace ballot::testing;
using namespace ballot::testing::netns;
using namespace std::chrono_literals;

/// One critical section, run by ballotctl with the lock held, $2 naming the holder. Exit 0:
/// the counter was incremented under our token; 99: a newer token wrote first (we were fenced
/// off); anything else: failed before writing. The downstream serializes its requests (flock)
/// as a server would, and one request is not torn by the SIGTERM that ballotctl sends when it
/// learns its session is gone; each step is logged to "$f.sections" for the checks and for
/// diagnosis.
constexpr const char* critical_section = R"sh(
f="$1"
trap '' TERM
exec 9>>"$f.lock"
flock 9 || exit 4
echo "begin $BALLOT_FENCING_TOKEN holder=$2 $(date +%s.%N)" >> "$f.sections"
read count token < "$f" || exit 2
if [ "$BALLOT_FENCING_TOKEN" -le "$token" ]; then
  echo "fenced $BALLOT_FENCING_TOKEN holder=$2 $(date +%s.%N) newest=$token" >> "$f.sections"
  exit 99
fi
sleep 0.01
echo "$((count + 1)) $BALLOT_FENCING_TOKEN" > "$f.tmp.$$" && mv "$f.tmp.$$" "$f" || exit 3
echo "$BALLOT_FENCING_TOKEN" >> "$f.log"
echo "wrote $BALLOT_FENCING_TOKEN holder=$2 $(date +%s.%N)" >> "$f.sections"
)sh";

/// Runs one `ballotctl lock` in namespace `ns`; its exit code.
int run_holder_once(const std::string& ns, const std::string& endpoints, const std::string& file,
                    std::size_t who) {
  std::string cmd = ip_binary() + " netns exec " + ns + " " + BALLOTCTL_BIN +
                    " --timeout 8 --endpoints " + endpoints +
                    " lock counter --wait 8 --ttl 3 -- sh -c '" + critical_section + "' sh " +
                    file + " " + std::to_string(who) + " 2>>" + file + ".err" + std::to_string(who);
  int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(NetnsFencingTest, HoldersOnEveryStackNeverWriteWithAStaleToken) {
  BALLOT_SKIP_WITHOUT_NETNS();
  const int seconds = std::max(10, fault_seconds() / 2);
  const auto seed = fault_seed();
  std::printf("[ nemesis ] %d s of faults, seed %llu\n", seconds,
              static_cast<unsigned long long>(seed));
  link_faults faults;
  faults.faults_for_s = seconds;
  faults.seed = seed;
  netns_cluster nc{3, faults};
  auto& cluster = nc.cluster;
  scoped_netns in_clients{nc.net.client_ns()};
  cluster.start_all();
  ASSERT_NE(cluster.leader(), 0u) << "no leader elected";
  auto file = (cluster.dir() / "counter").string();
  { std::ofstream{file} << "0 0\n"; }

  // Two holders in the client namespace, one next to each node.
  std::vector<std::string> holder_ns{nc.net.client_ns(), nc.net.client_ns()};
  for (std::size_t id = 1; id <= 3; ++id)
    holder_ns.push_back(nc.net.node_ns(id));
  std::atomic<bool> stop{false};
  std::atomic<int> succeeded{0}, fenced{0}, failed{0}, succeeded_next_to_nodes{0};
  std::vector<std::thread> holders;
  for (std::size_t i = 0; i < holder_ns.size(); ++i)
    holders.emplace_back([&, i] {
      while (!stop) {
        auto code = run_holder_once(holder_ns[i], nc.endpoint_list(), file, i);
        if (code == 0) {
          ++succeeded;
          succeeded_next_to_nodes += i >= 2;
        } else if (code == 99) {
          ++fenced;
        } else {
          ++failed;
          std::this_thread::sleep_for(100ms);
        }
      }
    });

  std::mt19937_64 rng{seed};
  std::map<std::string, int> actions;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  for (int round = 0; std::chrono::steady_clock::now() < end; ++round) {
    auto l = cluster.leader(3s);
    std::size_t leader = l != 0 ? l : 1 + rng() % 3;
    switch (round == 0 ? 0 : rng() % 3) {
      case 0:  // the leader, and the holder next to it, cut off
        ++actions["leader isolated"];
        nc.net.isolate(leader);
        std::this_thread::sleep_for(std::chrono::milliseconds(3000 + rng() % 2000));
        nc.net.heal(leader);
        break;
      case 1:
        ++actions["leader killed"];
        cluster.kill9(leader);
        std::this_thread::sleep_for(std::chrono::milliseconds(1000 + rng() % 2000));
        cluster.start(leader);
        break;
      case 2: {  // a follower, and the holder next to it, cut off
        ++actions["follower isolated"];
        auto other = 1 + (leader + rng() % 2) % 3;
        nc.net.isolate(other);
        std::this_thread::sleep_for(std::chrono::milliseconds(2000 + rng() % 2000));
        nc.net.heal(other);
        break;
      }
    }
    nc.drain();
    if (HasFatalFailure())
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1000 + rng() % 1000));
  }
  nc.net.heal_all();
  // Healed, holders get the lock again: wait for a few more sections, and one next to a node.
  // A holder that fell into jeopardy abandons its session with the lock (ballotctl exit 75),
  // and the lock stays taken until that session expires (TTL + grace), so this can take a
  // while after a bad schedule.
  int healed_at = succeeded;
  auto healed_deadline = std::chrono::steady_clock::now() + 25s;
  while (std::chrono::steady_clock::now() < healed_deadline &&
         (succeeded < healed_at + 5 || succeeded_next_to_nodes == 0))
    std::this_thread::sleep_for(100ms);
  int after_heal = succeeded - healed_at;
  stop = true;
  for (auto& t : holders)
    t.join();
  ASSERT_FALSE(HasFatalFailure());

  std::uint64_t count = 0, last_token = 0;
  { std::ifstream{file} >> count >> last_token; }
  EXPECT_GE(after_heal, 5) << "holders did not get the lock again after the faults";
  EXPECT_GT(succeeded_next_to_nodes.load(), 0) << "no holder next to a node ever got the lock";
  EXPECT_EQ(count, static_cast<std::uint64_t>(succeeded.load()))
    << succeeded << " sections succeeded, " << fenced << " were fenced off, " << failed
    << " failed";
  expect_tokens_increase(file, count, last_token);
  // Each fencing token reached one critical section at most.
  std::ifstream sections{file + ".sections"};
  std::set<std::uint64_t> begun;
  std::string what, holder, line;
  std::uint64_t token = 0;
  while (std::getline(sections, line)) {
    std::istringstream in{line};
    in >> what >> token >> holder;
    if (what == "begin") {
      EXPECT_TRUE(begun.insert(token).second) << "token " << token << " was handed out twice";
    }
  }
  EXPECT_GE(begun.size(), static_cast<std::size_t>(succeeded + fenced));
  if (HasFailure()) {
    auto keep =
      std::filesystem::temp_directory_path() / ("ballot-netns-fencing-" + std::to_string(seed));
    std::filesystem::create_directories(keep);
    for (auto& entry : std::filesystem::directory_iterator(cluster.dir()))
      if (entry.path().filename().string().rfind("counter", 0) == 0)
        std::filesystem::copy(entry.path(), keep / entry.path().filename(),
                              std::filesystem::copy_options::overwrite_existing);
    ADD_FAILURE() << "the counter, its write log, sections and holders' stderr kept in " << keep;
  }
  std::string actions_text;
  for (auto& [what, n] : actions)
    actions_text += " " + what + " x" + std::to_string(n) + ";";
  std::printf(
    "[ fencing ] %d critical sections succeeded (%d by holders next to a node), %d "
    "stale holders fenced off (a grant that reached its holder after newer ones), "
    "%d not acquired or failed (%d succeeded after healing)\n[ nemesis ]%s\n",
    succeeded.load(), succeeded_next_to_nodes.load(), fenced.load(), failed.load(), after_heal,
    actions_text.c_str());
}

}  // namespace
