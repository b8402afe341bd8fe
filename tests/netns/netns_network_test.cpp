// The namespace harness itself: nodes reach each other across the hub's bridge only while
// their links are up, nothing of the test network is in the root namespace, and the harness
// removes what it made and what a crashed run left behind.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "tests/netns/netns_cluster.hpp"

namespace {

using namespace ballot::testing;
using namespace ballot::testing::netns;
using namespace std::chrono_literals;

/// A TCP socket made in namespace `ns` (it stays there whatever thread uses it); in the
/// calling thread's own namespace if `ns` is empty.
int socket_in(const std::string& ns) {
  if (ns.empty())
    return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  scoped_netns in{ns};
  return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

sockaddr_in address(const std::string& ip, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  return a;
}

/// Whether a connection from namespace `from` to ip:port is established within `wait`.
bool connects(const std::string& from, const std::string& ip, std::uint16_t port,
              std::chrono::milliseconds wait) {
  int fd = socket_in(from);
  fcntl(fd, F_SETFL, O_NONBLOCK);
  auto a = address(ip, port);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  if (!ok && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof(err);
    ok = poll(&p, 1, static_cast<int>(wait.count())) == 1 &&
         getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
  }
  close(fd);
  return ok;
}

/// Retries `connects` for up to `wait` (a link just set up takes a moment to forward).
bool connects_soon(const std::string& from, const std::string& ip, std::uint16_t port,
                   std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  do {
    if (connects(from, ip, port, 500ms))
      return true;
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

std::string root_addresses() {
  return ip_output({"-o", "addr", "show"});
}

TEST(NetnsNetworkTest, NodesReachEachOtherOnlyWhileTheirLinkIsUp) {
  BALLOT_SKIP_WITHOUT_NETNS();
  std::vector<std::string> made;
  {
    network net{2};
    made = net.namespaces();
    // Nothing of the test network in the root namespace, and no way out of the namespaces.
    EXPECT_EQ(root_addresses().find("198.18."), std::string::npos) << root_addresses();
    for (std::size_t i = 1; i <= 2; ++i)
      EXPECT_EQ(ip_output({"-n", net.node_ns(i), "route"}).find("default"), std::string::npos);
    EXPECT_NE(ip_output({"-n", net.node_ns(1), "-o", "addr"}).find("198.18.0.11/24"),
              std::string::npos);

    // A listener on node 1's address, in node 1's namespace.
    int listener = socket_in(net.node_ns(1));
    auto a = address(network::node_address(1), 0);
    ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0) << strerror(errno);
    ASSERT_EQ(listen(listener, 64), 0);
    socklen_t len = sizeof(a);
    getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
    auto port = ntohs(a.sin_port);
    auto node1 = network::node_address(1);

    EXPECT_TRUE(connects_soon(net.client_ns(), node1, port, 5s)) << "client -> node 1";
    EXPECT_TRUE(connects_soon(net.node_ns(2), node1, port, 5s)) << "node 2 -> node 1";
    // The root namespace has no route of its own into the test network: it
    // would send there only by its default route, out of the machine. Asked
    // of the routing table, not by a connection (a SYN from here would leave
    // the machine, and whatever sits past its gateway may answer it).
    auto routes = ip_output({"-o", "route", "show", "table", "all"});
    EXPECT_EQ(routes.find("198.18."), std::string::npos) << routes;

    net.isolate(1);
    EXPECT_FALSE(connects(net.client_ns(), node1, port, 1s)) << "client -> isolated node 1";
    EXPECT_FALSE(connects(net.node_ns(2), node1, port, 1s)) << "node 2 -> isolated node 1";
    // The minority side still works within itself: a client next to the node reaches it.
    EXPECT_TRUE(connects(net.node_ns(1), node1, port, 1s)) << "node 1 -> itself";

    net.heal(1);
    EXPECT_TRUE(connects_soon(net.client_ns(), node1, port, 5s)) << "client -> healed node 1";
    close(listener);
  }
  auto left = ip_output({"netns", "list"});
  for (auto& ns : made)
    EXPECT_EQ(left.find(ns), std::string::npos) << ns << " outlived the network";
}

TEST(NetnsNetworkTest, RemovesTheLeftoversOfACrashedRun) {
  BALLOT_SKIP_WITHOUT_NETNS();
  // A pid no process can have: the kernel hands out pids below pid_max.
  long pid_max = 0;
  std::ifstream{"/proc/sys/kernel/pid_max"} >> pid_max;
  ASSERT_GT(pid_max, 0);
  auto stale = "bt" + std::to_string(pid_max) + "-0-hub";
  ip({"netns", "add", stale});
  ASSERT_NE(ip_output({"netns", "list"}).find(stale), std::string::npos);
  network net{1};
  EXPECT_EQ(ip_output({"netns", "list"}).find(stale), std::string::npos)
    << "the leftover " << stale << " was not removed";
}

}  // namespace
