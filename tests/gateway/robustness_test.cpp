// Hostile input over a raw TCP socket: garbage bytes, a truncated message, an
// oversized message and a well-framed message that is not RPC. Each must end
// with the gateway closing that connection (or answering an error), never
// with a crash, and a normal client must still be served afterwards.

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>

#include "tests/gateway/cluster_fixture.hpp"

namespace {

using namespace ballot;
using namespace std::chrono_literals;

/// A blocking TCP connection with a receive timeout, closed on destruction.
class raw_socket {
 public:
  explicit raw_socket(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{3, 0};  // every read below ends within 3 s
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }

  ~raw_socket() { ::close(fd_); }

  bool connected() const { return connected_; }

  /// Sends everything; false once the peer has closed (EPIPE/ECONNRESET).
  bool send_all(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0)
        return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  void finish_sending() { ::shutdown(fd_, SHUT_WR); }

  /// Reads until the peer closes (true) or the receive timeout passes (false).
  bool closed_by_peer() {
    char buf[4096];
    while (true) {
      auto n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n == 0)
        return true;
      if (n < 0)
        return errno == ECONNRESET;
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

std::string u32le(std::uint32_t x) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i)
    out[i] = static_cast<char>((x >> (8 * i)) & 0xff);
  return out;
}

class GatewayRobustnessTest : public test_support::ClusterFixture {
 protected:
  void SetUp() override {
    auto opts = gateway_options(1);
    opts.max_message_bytes = 1 << 20;  // 1 MiB, so "oversized" is cheap to build
    gateways[1] = gateway::start(sys, opts, gateway::find_in(group));
    port = gateways[1]->port();
    normal = make_client({endpoint_of(1)});
    ASSERT_TRUE(normal->put("before", "ok").ok());
  }

  /// A normal client on a fresh connection is still served.
  void expect_still_serving() {
    auto fresh = make_client({endpoint_of(1)});
    auto r = fresh->put("after", "ok");
    EXPECT_TRUE(r.ok()) << r.message;
    EXPECT_TRUE(fresh->get("before").ok());
    // And the client connected before the attack kept its connection.
    EXPECT_TRUE(normal->get("after").ok());
  }

  std::uint16_t port = 0;
  std::unique_ptr<client::client> normal;
};

TEST_F(GatewayRobustnessTest, GarbageBytesCloseTheConnection) {
  raw_socket s{port};
  ASSERT_TRUE(s.connected());
  std::mt19937 rng{1};
  std::string junk(4096, '\0');
  for (auto& c : junk)
    c = static_cast<char>(rng());
  junk.replace(0, 4, u32le(0xfffffff0));  // an absurd segment count
  s.send_all(junk);
  EXPECT_TRUE(s.closed_by_peer());
  expect_still_serving();
}

TEST_F(GatewayRobustnessTest, TruncatedMessageClosesTheConnection) {
  raw_socket s{port};
  ASSERT_TRUE(s.connected());
  // One segment of 100 words announced, 3 words sent, then end of stream.
  s.send_all(u32le(0) + u32le(100) + std::string(24, '\0'));
  s.finish_sending();
  EXPECT_TRUE(s.closed_by_peer());
  expect_still_serving();
}

TEST_F(GatewayRobustnessTest, OversizedMessageIsRefusedBeforeItsBodyArrives) {
  raw_socket s{port};
  ASSERT_TRUE(s.connected());
  // One segment of 16 Mi words (128 MiB) against a 1 MiB limit: refused on
  // the header alone, so the gateway never buffers the body.
  s.send_all(u32le(0) + u32le(16u << 20));
  EXPECT_TRUE(s.closed_by_peer());
  expect_still_serving();
}

TEST_F(GatewayRobustnessTest, ManySegmentsAreRefused) {
  raw_socket s{port};
  ASSERT_TRUE(s.connected());
  // 1000 one-word segments: over Cap'n Proto's segment-count limit.
  std::string header = u32le(999);
  for (int i = 0; i < 1000; ++i)
    header += u32le(1);
  s.send_all(header);
  EXPECT_TRUE(s.closed_by_peer());
  expect_still_serving();
}

TEST_F(GatewayRobustnessTest, WellFramedNonsenseClosesTheConnection) {
  raw_socket s{port};
  ASSERT_TRUE(s.connected());
  // A correctly framed 4-word message whose content is not an RPC message.
  std::string body(32, '\0');
  for (std::size_t i = 0; i < body.size(); ++i)
    body[i] = static_cast<char>(0xa5 ^ i);
  s.send_all(u32le(0) + u32le(4) + body);
  EXPECT_TRUE(s.closed_by_peer());
  expect_still_serving();
}

TEST_F(GatewayRobustnessTest, ManyHostileConnectionsInARow) {
  for (int i = 0; i < 20; ++i) {
    raw_socket s{port};
    ASSERT_TRUE(s.connected());
    s.send_all(u32le(static_cast<std::uint32_t>(i * 7919)) + std::string(64, '\xff'));
    s.finish_sending();
    EXPECT_TRUE(s.closed_by_peer()) << "connection " << i;
  }
  expect_still_serving();
}

}  // namespace
