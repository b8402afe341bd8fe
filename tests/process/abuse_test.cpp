// Heavy and hostile clients against three real ballotd processes: large
// values from many clients, a burst of 1 MiB writes, a flood of idle sockets,
// a watcher that never takes its events, a request id reused for another
// write, and seq 0. For each: every node stays up and within its memory
// budget, a small write from another client answers within a second during
// and after, and nothing acknowledged is lost.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>

#include <capnp/ez-rpc.h>

#include "schemas/client.capnp.h"
#include "tests/process/cluster_fixture.hpp"

namespace {

using namespace ballot::testing;
using ballot::kv::result_code;

/// Each node's resident memory must stay under this (the README's budget).
constexpr std::size_t rss_budget_bytes = std::size_t{1536} << 20;

std::size_t rss_bytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stoull(line.substr(6)) * 1024;  // kB
  return 0;
}

/// Samples every node's RSS and, every 200 ms, times a 100-byte put from a
/// client of its own: what an innocent bystander sees while the abuse runs.
class bystander {
 public:
  explicit bystander(cluster_processes& c) : cluster_(c) {
    thread_ = std::thread([this] { run(); });
  }
  ~bystander() { stop(); }

  /// Waits until it has made `n` puts (or `limit` passed): the checks must
  /// see the cluster after the abuse too, however fast the abuse went.
  void await_puts(int n, std::chrono::milliseconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (made_.load() < n && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(20ms);
  }

  void stop() {
    if (!thread_.joinable())
      return;
    stop_ = true;
    thread_.join();
  }

  std::chrono::milliseconds worst_put{0};
  std::vector<std::chrono::milliseconds> latencies;
  int puts = 0;
  int failed = 0;
  std::size_t peak_rss = 0;
  std::string failure;

 private:
  void run() {
    // A client as shipped (the fixture's short attempts are for fail-over
    // tests): one slow answer is waited for, not abandoned for a detour.
    // 10 s rides over one leader election (see expect_healthy).
    auto opts = cluster_.client_options();
    opts.timeout = 10s;
    opts.attempt_timeout = ballot::client::options{}.attempt_timeout;
    ballot::client::client c{opts};
    for (int n = 0; !stop_; ++n) {
      for (std::size_t id = 1; id <= 3; ++id)
        peak_rss = std::max(peak_rss, rss_bytes(cluster_.node(id).pid()));
      auto start = std::chrono::steady_clock::now();
      auto r = c.put("bystander", std::string(100, 'b'));
      auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
      ++puts;
      ++made_;
      worst_put = std::max(worst_put, took);
      latencies.push_back(took);
      if (!r.ok()) {
        ++failed;
        failure = std::string{ballot::kv::to_string(r.code)} + " " + r.message;
      }
      std::this_thread::sleep_for(100ms);
    }
  }

  cluster_processes& cluster_;
  std::atomic<bool> stop_{false};
  std::atomic<int> made_{0};
  std::thread thread_;
};

/// What every abuse case must leave behind.
void expect_healthy(cluster_processes& cluster, bystander& b) {
  // A burst can end within a few of its puts (64 MiB took under a second);
  // a few more show the cluster serving after it.
  b.await_puts(6, 10s);
  b.stop();
  for (std::size_t id = 1; id <= 3; ++id)
    EXPECT_TRUE(cluster.node(id).running()) << "node " << id << " died: " << cluster.node(id).err();
  EXPECT_EQ(b.failed, 0) << "the bystander's puts failed: " << b.failure;
  EXPECT_GT(b.puts, 3);
  // Half within a second (nine in ten are, measured alone), every one
  // answered: the machine is shared with the rest of the suite, so a few
  // slow puts are not a failure, but a queue behind the large writes would
  // be. The slowest come from checkpoints: under 1 MB writes a node takes
  // one every 256 MiB of log and pauses for it (about a second for a
  // 128 MiB state on 2 cores), which can cost a leader election (README
  // "Limits and budgets"); so up to 8 s, not the 1 s of a quiet cluster.
  auto sorted = b.latencies;
  std::sort(sorted.begin(), sorted.end());
  auto p50 = sorted.empty() ? 0ms : sorted[sorted.size() / 2];
  auto p90 = sorted.empty() ? 0ms : sorted[sorted.size() * 9 / 10];
  EXPECT_LE(p50, 1000ms) << "half of the bystander's 100-byte puts took over " << p50.count()
                         << " ms";
  EXPECT_LE(b.worst_put, 8000ms) << "a 100-byte put took " << b.worst_put.count() << " ms";
  std::printf(
    "bystander: %d puts, p50 %lld ms, p90 %lld ms, worst %lld ms; peak node RSS %zu MiB\n", b.puts,
    static_cast<long long>(p50.count()), static_cast<long long>(p90.count()),
    static_cast<long long>(b.worst_put.count()), b.peak_rss >> 20);
  EXPECT_LE(b.peak_rss, rss_budget_bytes)
    << "a node's RSS reached " << (b.peak_rss >> 20) << " MiB";
  // And after: a fresh client's small put.
  ballot::client::client c{cluster.client_options()};
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.put("after", "x").ok());
  EXPECT_LE(std::chrono::steady_clock::now() - start, 1000ms);
}

/// Every acknowledged key must be readable with its value's size.
void expect_all_present(cluster_processes& cluster, const std::vector<std::string>& keys,
                        std::size_t value_size) {
  ballot::client::client c{cluster.client_options()};
  for (auto& k : keys) {
    auto r = c.get(k);
    ASSERT_TRUE(r.ok()) << "acknowledged key " << k << " is " << ballot::kv::to_string(r.code);
    EXPECT_EQ(r.value.size(), value_size) << k;
  }
}

/// `clients` threads each putting 1 MB values to their own keys for `duration`.
std::vector<std::string> large_puts(cluster_processes& cluster, int clients,
                                    std::chrono::milliseconds duration, int* refused) {
  std::mutex m;
  std::vector<std::string> acked;
  std::atomic<int> not_ok{0};
  std::vector<std::thread> threads;
  auto until = std::chrono::steady_clock::now() + duration;
  for (int i = 0; i < clients; ++i)
    threads.emplace_back([&, i] {
      ballot::client::client c{cluster.client_options()};
      std::string value(1'000'000, static_cast<char>('a' + i % 26));
      for (int n = 0; std::chrono::steady_clock::now() < until; ++n) {
        auto key = "big-" + std::to_string(i) + "-" + std::to_string(n % 4);
        auto r = c.put(key, value);
        std::lock_guard<std::mutex> g{m};
        if (r.ok())
          acked.push_back(key);
        else
          ++not_ok;  // overloaded or unavailable: refused, not lost
      }
    });
  for (auto& t : threads)
    t.join();
  *refused = not_ok;
  std::sort(acked.begin(), acked.end());
  acked.erase(std::unique(acked.begin(), acked.end()), acked.end());
  return acked;
}

TEST(AbuseTest, LargeValuesFromManyClientsLeaveTheClusterServing) {
  cluster_processes cluster;
  cluster.start_all();
  ASSERT_NE(cluster.leader(), 0u);
  bystander b{cluster};
  int refused = 0;
  auto acked = large_puts(cluster, 32, 10s, &refused);
  expect_healthy(cluster, b);
  EXPECT_GT(acked.size(), 0u) << refused << " refused";
  expect_all_present(cluster, acked, 1'000'000);
}

TEST(AbuseTest, ABurstOf64OneMebibyteWritesAppliesOrIsRefused) {
  cluster_processes cluster;
  cluster.start_all();
  ASSERT_NE(cluster.leader(), 0u);
  bystander b{cluster};
  ballot::client::client c{cluster.client_options()};
  std::mutex m;
  std::condition_variable cv;
  int done = 0;
  std::vector<std::string> acked;
  std::string value(1u << 20, 'v');
  for (int i = 0; i < 64; ++i) {
    auto key = "burst-" + std::to_string(i);
    c.async_put(key, value, std::nullopt, [&, key](ballot::kv::result r) {
      std::lock_guard<std::mutex> g{m};
      if (r.ok())
        acked.push_back(key);
      ++done;
      cv.notify_all();
    });
  }
  {
    std::unique_lock<std::mutex> lock{m};
    ASSERT_TRUE(cv.wait_for(lock, 30s, [&] { return done == 64; }));
  }
  expect_healthy(cluster, b);
  EXPECT_GT(acked.size(), 0u);
  expect_all_present(cluster, acked, 1u << 20);
}

/// A TCP connection from `source` (a loopback address) that says nothing.
int idle_socket(const char* source, std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &from.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0) {
    ::close(fd);
    return -1;
  }
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// Whether the server has closed `fd` (a read sees EOF or a reset).
bool closed_by_server(int fd) {
  timeval tv{0, 200'000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char c;
  auto n = ::recv(fd, &c, 1, 0);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

TEST(AbuseTest, AThousandIdleSocketsFromOneAddressLockNobodyElseOut) {
  cluster_processes cluster;
  cluster.extra_flags = {"--max-connections-per-address", "100"};
  cluster.start_all();
  ASSERT_NE(cluster.leader(), 0u);
  bystander b{cluster};
  std::vector<int> fds;
  // From 127.0.0.2 on every node: the bystander comes from 127.0.0.1.
  for (int i = 0; i < 1024; ++i)
    for (std::size_t id = 1; id <= 3 && fds.size() < 1024; ++id)
      if (int fd = idle_socket("127.0.0.2", cluster.client_port(id)); fd >= 0)
        fds.push_back(fd);
  std::this_thread::sleep_for(3s);
  // Beyond 100 per node from that address, the connections were closed at once.
  std::size_t closed = 0;
  for (int fd : fds)
    closed += closed_by_server(fd) ? 1 : 0;
  EXPECT_GE(closed, fds.size() - 300) << "of " << fds.size();
  expect_healthy(cluster, b);
  for (int fd : fds)
    ::close(fd);
}

/// A watch sink that never returns from `events`: a watcher that does not consume.
class stuck_sink final : public ballot::schemas::client::WatchSink::Server {
 public:
  kj::Promise<void> events(EventsContext) override { return kj::NEVER_DONE; }
};

TEST(AbuseTest, AWatcherThatNeverConsumesHoldsNothingUp) {
  cluster_processes cluster;
  cluster.start_all();
  ASSERT_NE(cluster.leader(), 0u);
  std::atomic<bool> stop{false};
  std::thread watcher([&] {
    capnp::EzRpcClient rpc{cluster.client_endpoint(1)};
    auto ballot_cap = rpc.getMain<ballot::schemas::client::Ballot>();
    std::vector<kj::Promise<void>> calls;
    for (int i = 0; i < 20; ++i) {
      auto req = ballot_cap.watchRequest();
      req.setKey("w/");
      req.setPrefix(true);
      req.setFromNow(true);
      req.setSink(kj::heap<stuck_sink>());
      calls.push_back(req.send().ignoreResult());
    }
    while (!stop)
      rpc.getWaitScope().poll(), std::this_thread::sleep_for(20ms);
  });
  bystander b{cluster};
  ballot::client::client c{cluster.client_options()};
  std::vector<std::string> acked;
  std::string value(100'000, 'w');
  // At least 100 puts and at least 2 s of them: the bystander, who puts
  // every 100 ms, must see the watchers' backlog build up, however fast the
  // cluster takes the writes.
  auto until = std::chrono::steady_clock::now() + 2s;
  for (int i = 0; i < 100 || std::chrono::steady_clock::now() < until; ++i) {
    auto key = "w/" + std::to_string(i);
    if (c.put(key, value).ok())
      acked.push_back(key);
    else
      ADD_FAILURE() << "put " << key << " failed";
  }
  expect_healthy(cluster, b);
  stop = true;
  watcher.join();
  EXPECT_GE(acked.size(), 100u);
  expect_all_present(cluster, acked, 100'000);
}

TEST(AbuseTest, AReusedRequestIdIsRefusedSeqZeroIsABadRequestAndAnUnknownLateSeqExpires) {
  cluster_processes cluster;
  cluster.start_all();
  ASSERT_NE(cluster.leader(), 0u);
  bystander b{cluster};
  auto opts = cluster.client_options();
  opts.client_id = 0x5eed'5eed'5eedULL;
  {
    ballot::client::client first{opts};
    ASSERT_TRUE(first.put("reused", "first").ok());
  }
  {
    // Another client with the same id starts at seq 1 again: another write
    // under the first one's request id.
    ballot::client::client second{opts};
    auto r = second.put("reused", "second");
    EXPECT_EQ(r.code, result_code::request_id_reused) << r.message;
  }
  ballot::client::client reader{cluster.client_options()};
  auto got = reader.get("reused");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got.value, "first");

  capnp::EzRpcClient rpc{cluster.client_endpoint(2)};
  auto cap = rpc.getMain<ballot::schemas::client::Ballot>();
  auto req = cap.putRequest();
  req.initId().setClientId(77);  // seq stays 0
  req.setKey("zero");
  req.setValue(kj::StringPtr("v").asBytes());
  auto res = req.send().wait(rpc.getWaitScope());
  ASSERT_TRUE(res.getResult().isError());
  ASSERT_TRUE(res.getResult().getError().isBadRequest());
  EXPECT_NE(std::string{res.getResult().getError().getBadRequest().cStr()}.find("seq is 0"),
            std::string::npos);
  EXPECT_EQ(reader.get("zero").code, result_code::not_found);

  // Seq 65 of a client id the cluster does not know: it may have been
  // forgotten after its write applied, so a retry must not apply again.
  auto late = cap.putRequest();
  late.initId().setClientId(0x1a7e'1a7eULL);
  late.getId().setSeq(65);
  late.setKey("late");
  late.setValue(kj::StringPtr("v").asBytes());
  auto refused = late.send().wait(rpc.getWaitScope());
  ASSERT_TRUE(refused.getResult().isError());
  ASSERT_TRUE(refused.getResult().getError().isExpired());
  EXPECT_NE(std::string{refused.getResult().getError().getExpired().cStr()}.find("fresh client id"),
            std::string::npos);
  EXPECT_EQ(reader.get("late").code, result_code::not_found);
  std::this_thread::sleep_for(1s);  // the bystander's view over a while
  expect_healthy(cluster, b);
}

TEST(AbuseTest, PastTheQuotaPutsAreRefusedWhileDeletesAndLocksGoOn) {
  cluster_processes cluster;
  cluster.extra_flags = {"--quota-bytes", "3000000"};
  cluster.start_all();
  ASSERT_NE(cluster.leader(), 0u);
  ballot::client::client c{cluster.client_options()};
  std::string value(500'000, 'q');
  int stored = 0;
  ballot::kv::result r;
  for (int i = 0; i < 20; ++i) {
    r = c.put("q/" + std::to_string(i), value);
    if (!r.ok())
      break;
    ++stored;
  }
  ASSERT_EQ(r.code, result_code::quota_exceeded) << r.message;
  EXPECT_GE(stored, 2);
  EXPECT_LE(stored, 7);  // 6 values of 500 kB reach the 3 MB quota
  auto s = c.open_session(5s);
  EXPECT_TRUE(s.ok()) << "sessions go on past the quota";
  EXPECT_TRUE(c.acquire(s.session, "q-lock").ok()) << "locks go on past the quota";
  for (int i = 0; i < stored; ++i)
    EXPECT_TRUE(c.del("q/" + std::to_string(i)).ok()) << "deletes go on past the quota";
  // Under the quota again: puts are taken.
  EXPECT_TRUE(c.put("q/again", value).ok());
}

}  // namespace
