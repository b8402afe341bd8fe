#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/metrics/http_server.hpp"
#include "tests/support/http_get.hpp"

namespace ballot::metrics {
namespace {

using namespace std::chrono_literals;

/// A raw TCP connection to 127.0.0.1:port.
class raw_connection {
 public:
  explicit raw_connection(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~raw_connection() { ::close(fd_); }

  bool connected() const { return connected_; }
  bool send(const std::string& text) {
    return ::send(fd_, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
  }
  /// Everything until the peer closes or `wait` passes with nothing new.
  std::string read_all(std::chrono::milliseconds wait = 3s) {
    std::string out;
    char buf[4096];
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0)
        break;
      auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0)
        break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  /// Whether the server closed the connection within `wait`.
  bool closed_within(std::chrono::milliseconds wait) {
    char buf[256];
    auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0) {
        auto n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0)
          return true;
      }
    }
    return false;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

/// The whole answer, status line and headers included.
std::string get(std::uint16_t port, const std::string& path) {
  auto a = testing::http_get(port, path);
  return a.status == 0 ? std::string{} : a.headers + "\r\n\r\n" + a.body;
}

std::unique_ptr<http_server> start_test_server(http_options o = {}) {
  o.port = 0;
  std::map<std::string, handler> routes;
  routes["/hello"] = [](const std::string& query, responder r) {
    r({200, "text/plain; charset=utf-8", "hello " + query + "\n"});
  };
  routes["/later"] = [](const std::string&, responder r) {
    // Answered from another thread, as the node's status probe is.
    std::thread{[r] {
      std::this_thread::sleep_for(50ms);
      r({503, "text/plain; charset=utf-8", "not yet\n"});
    }}.detach();
  };
  routes["/never"] = [](const std::string&, responder) {};
  return http_server::start(o, std::move(routes));
}

TEST(MetricsHttpTest, ServesRoutesAnswersFromOtherThreadsAndRefusesTheRest) {
  auto s = start_test_server();
  auto hello = get(s->port(), "/hello?x=1");
  EXPECT_NE(hello.find("HTTP/1.1 200 OK"), std::string::npos) << hello;
  EXPECT_NE(hello.find("Content-Type: text/plain; charset=utf-8"), std::string::npos) << hello;
  EXPECT_NE(hello.find("hello x=1\n"), std::string::npos) << hello;
  auto later = get(s->port(), "/later");
  EXPECT_NE(later.find("HTTP/1.1 503"), std::string::npos) << later;
  EXPECT_NE(later.find("not yet"), std::string::npos) << later;
  EXPECT_NE(get(s->port(), "/nope").find("HTTP/1.1 404"), std::string::npos);
  raw_connection c{s->port()};
  c.send("POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_NE(c.read_all().find("HTTP/1.1 405"), std::string::npos);
}

TEST(MetricsHttpTest, AHandlerThatNeverAnswersGets504) {
  http_options o;
  o.handler_timeout = 200ms;
  auto s = start_test_server(o);
  auto started = std::chrono::steady_clock::now();
  auto answer = get(s->port(), "/never");
  EXPECT_NE(answer.find("HTTP/1.1 504"), std::string::npos) << answer;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST(MetricsHttpTest, ConnectionsBeyondTheLimitAreClosedAtOnce) {
  http_options o;
  o.max_connections = 2;
  auto s = start_test_server(o);
  raw_connection a{s->port()}, b{s->port()};
  ASSERT_TRUE(a.connected() && b.connected());
  // Both are accepted (and held: they send nothing yet).
  for (int i = 0; i < 100 && s->connections() < 2; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(s->connections(), 2u);
  raw_connection third{s->port()};
  EXPECT_TRUE(third.closed_within(2s));
  // The two held ones still work.
  a.send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(a.read_all().find("200 OK"), std::string::npos);
}

TEST(MetricsHttpTest, SlowAndOversizedRequestsAreCutOff) {
  http_options o;
  o.header_timeout = 300ms;
  auto s = start_test_server(o);
  // Headers that never finish.
  raw_connection slow{s->port()};
  slow.send("GET /hello HTTP/1.1\r\nHost: x\r\n");
  EXPECT_TRUE(slow.closed_within(3s));
  // 1 MiB of headers: refused without reading it all into memory.
  raw_connection big{s->port()};
  big.send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: ");
  std::string chunk(64 * 1024, 'a');
  bool sent_all = true;
  for (int i = 0; i < 16 && sent_all; ++i)
    sent_all = big.send(chunk);
  auto answer = big.read_all(2s);
  EXPECT_EQ(answer.find("200 OK"), std::string::npos) << answer.substr(0, 200);
  EXPECT_TRUE(answer.empty() || answer.find("HTTP/1.1 4") != std::string::npos)
    << answer.substr(0, 200);
  // The server still serves others.
  EXPECT_NE(get(s->port(), "/hello").find("200 OK"), std::string::npos);
}

TEST(MetricsHttpTest, AnOccupiedPortIsAnErrorNamingIt) {
  auto s = start_test_server();
  http_options o;
  o.port = s->port();
  try {
    http_server::start(o, {});
    FAIL() << "a second server listened on the same port";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string{e.what()}.find(std::to_string(s->port())), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ballot::metrics
