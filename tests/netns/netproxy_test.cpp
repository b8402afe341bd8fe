// ballot-netproxy on 127.0.0.1, between a test client and an echo server of the test's own:
// it really delays (each round trip takes at least twice the configured latency), stalls and
// resets repeat with the seed, its faults end when their time is up, and SIGSTOP freezes it.
// No root needed: these run wherever the tests run.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/process.hpp"

namespace {

using namespace std::chrono_literals;
using ballot::testing::process;
using clock_type = std::chrono::steady_clock;

/// Echoes whatever it reads, one thread per connection, on 127.0.0.1 at a kernel-chosen port.
class echo_server {
 public:
  echo_server() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(fd_, 16) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("echo server: cannot listen");
    port_ = ntohs(a.sin_port);
    thread_ = std::thread{[this] { run(); }};
  }
  ~echo_server() {
    stop_ = true;
    thread_.join();
    close(fd_);
    for (auto& t : workers_)
      t.join();
  }
  std::uint16_t port() const { return port_; }

 private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0)
        continue;
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0)
        continue;
      workers_.emplace_back([this, c] {
        char buf[4096];
        while (!stop_) {
          pollfd p{c, POLLIN, 0};
          if (poll(&p, 1, 50) <= 0)
            continue;
          ssize_t n = read(c, buf, sizeof(buf));
          if (n <= 0 || send(c, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n)
            break;
        }
        close(c);
      });
    }
  }
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<std::thread> workers_;
};

/// A proxy process in front of `target_port`; returns it started, with its port.
std::unique_ptr<process> start_proxy(std::uint16_t target_port, std::vector<std::string> flags,
                                     std::uint16_t& port) {
  std::vector<std::string> argv{NETPROXY_BIN, "--listen", "127.0.0.1:0", "--target",
                                "127.0.0.1:" + std::to_string(target_port)};
  argv.insert(argv.end(), flags.begin(), flags.end());
  auto p = std::make_unique<process>(argv);
  if (!p->wait_for_output("ballot-netproxy ready listen=", 10s))
    throw std::runtime_error("proxy did not start: " + p->err());
  auto& out = p->out();
  auto at = out.find("listen=127.0.0.1:") + std::string{"listen=127.0.0.1:"}.size();
  port = static_cast<std::uint16_t>(std::stoi(out.substr(at)));
  return p;
}

int connect_to(std::uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0)
    throw std::runtime_error("cannot connect to the proxy");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

/// Reads exactly `n` bytes within `timeout`; false on timeout, EOF or reset.
bool read_exactly(int fd, std::size_t n, std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  char buf[256];
  while (n > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0)
      return false;
    ssize_t got = read(fd, buf, std::min(n, sizeof(buf)));
    if (got <= 0)
      return false;
    n -= static_cast<std::size_t>(got);
  }
  return true;
}

/// One 16-byte round trip through the proxy; its duration, or nothing if it failed.
std::optional<std::chrono::milliseconds> round_trip(int fd, std::chrono::milliseconds timeout) {
  const char msg[16] = "0123456789abcde";
  auto start = clock_type::now();
  if (send(fd, msg, sizeof(msg), MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof(msg)))
    return std::nullopt;
  if (!read_exactly(fd, sizeof(msg), timeout))
    return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start);
}

/// The decision lines of a proxy's --trace output.
std::vector<std::string> trace_lines(process& p) {
  std::vector<std::string> lines;
  std::string out = p.out();
  std::size_t start = 0;
  while (start < out.size()) {
    auto end = out.find('\n', start);
    if (end == std::string::npos)
      break;
    auto line = out.substr(start, end - start);
    if (line.rfind("conn=", 0) == 0)
      lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

TEST(NetnsProxyTest, EveryRoundTripTakesAtLeastTwiceTheLatency) {
  echo_server echo;
  std::uint16_t port = 0;
  auto proxy = start_proxy(
    echo.port(), {"--latency-ms", "30", "--jitter-ms", "20", "--seed", "5", "--trace"}, port);
  int fd = connect_to(port);
  std::chrono::milliseconds total{0};
  for (int i = 0; i < 15; ++i) {
    auto rtt = round_trip(fd, 5s);
    ASSERT_TRUE(rtt) << "round trip " << i << " failed";
    // The request and the echo are each held at least 30 ms.
    EXPECT_GE(rtt->count(), 60) << "round trip " << i;
    total += *rtt;
  }
  close(fd);
  auto lines = trace_lines(*proxy);
  ASSERT_EQ(lines.size(), 30u) << proxy->out();
  std::set<std::string> delays;
  for (auto& line : lines) {
    auto ms = std::stoi(line.substr(line.find("delay_ms=") + 9));
    EXPECT_GE(ms, 30);
    EXPECT_LE(ms, 50);
    delays.insert(std::to_string(ms));
  }
  EXPECT_GT(delays.size(), 3u) << "the jitter did not vary the delay";
  std::printf("[ proxy ] 15 round trips at latency 30 ms + jitter 20 ms each way: mean %lld ms\n",
              static_cast<long long>(total.count() / 15));
}

/// Forty round trips through a proxy with stalls and resets, reconnecting after each reset;
/// returns the proxy's decisions and counts the resets the client saw.
std::vector<std::string> faulty_run(std::uint64_t seed, int& resets_seen) {
  echo_server echo;
  std::uint16_t port = 0;
  auto proxy =
    start_proxy(echo.port(),
                {"--latency-ms", "2", "--jitter-ms", "8", "--stall-prob", "0.1", "--stall-ms", "80",
                 "--reset-prob", "0.05", "--seed", std::to_string(seed), "--trace"},
                port);
  resets_seen = 0;
  int fd = connect_to(port);
  for (int i = 0; i < 40; ++i) {
    if (!round_trip(fd, 3s)) {
      ++resets_seen;
      close(fd);
      fd = connect_to(port);
    }
  }
  close(fd);
  std::this_thread::sleep_for(100ms);
  return trace_lines(*proxy);
}

TEST(NetnsProxyTest, TheSameSeedStallsAndResetsTheSameWay) {
  int resets_a = 0, resets_b = 0, resets_c = 0;
  auto a = faulty_run(11, resets_a);
  auto b = faulty_run(11, resets_b);
  auto c = faulty_run(12, resets_c);
  EXPECT_EQ(a, b) << "two runs with seed 11 decided differently";
  EXPECT_NE(a, c) << "seeds 11 and 12 decided the same";
  int stalls = 0, resets = 0;
  for (auto& line : a) {
    stalls += line.find("stall_ms=0") == std::string::npos;
    resets += line.find("reset=1") != std::string::npos;
  }
  EXPECT_GT(stalls, 0) << "no stall in 40 round trips at 10 %";
  EXPECT_GT(resets, 0) << "no reset in 40 round trips at 5 %";
  // Every reset the proxy decided, the client saw as a failed round trip, and nothing else.
  EXPECT_EQ(resets_a, resets);
  EXPECT_EQ(resets_a, resets_b);
  std::printf("[ proxy ] seed 11: %zu decisions, %d stalls, %d resets; seed 12: %d resets\n",
              a.size(), stalls, resets, resets_c);
}

TEST(NetnsProxyTest, FaultsEndWhenTheirTimeIsUp) {
  echo_server echo;
  std::uint16_t port = 0;
  auto started = clock_type::now();
  auto proxy = start_proxy(echo.port(), {"--latency-ms", "300", "--faults-for-s", "1.5"}, port);
  int fd = connect_to(port);
  auto during = round_trip(fd, 5s);
  ASSERT_TRUE(during);
  EXPECT_GE(during->count(), 600);
  std::this_thread::sleep_until(started + 2s);
  auto after = round_trip(fd, 5s);
  ASSERT_TRUE(after);
  EXPECT_LT(after->count(), 300) << "the latency outlived --faults-for-s";
  close(fd);
}

TEST(NetnsProxyTest, SigstopFreezesTheLinkAndSigcontThawsIt) {
  echo_server echo;
  std::uint16_t port = 0;
  auto proxy = start_proxy(echo.port(), {}, port);
  int fd = connect_to(port);
  ASSERT_TRUE(round_trip(fd, 5s));
  proxy->kill(SIGSTOP);
  const char msg[16] = "frozen.........";
  ASSERT_EQ(send(fd, msg, sizeof(msg), MSG_NOSIGNAL), static_cast<ssize_t>(sizeof(msg)));
  EXPECT_FALSE(read_exactly(fd, sizeof(msg), 700ms)) << "an echo came through a frozen proxy";
  proxy->kill(SIGCONT);
  EXPECT_TRUE(read_exactly(fd, sizeof(msg), 5s)) << "the proxy did not thaw";
  close(fd);
}

}  // namespace
