#pragma once

#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "tests/netns/netns_network.hpp"
#include "tests/process/cluster_fixture.hpp"

/// Skips the test, with the reason in its output, where namespaces cannot be made.
#define BALLOT_SKIP_WITHOUT_NETNS()                                              \
  do {                                                                           \
    if (auto why = ::ballot::testing::netns::unavailable_reason(); !why.empty()) \
      GTEST_SKIP() << why;                                                       \
  } while (false)

namespace ballot::testing::netns {

/// How ballot-netproxy degrades the peer links of a cluster (see tests/netns/netproxy.cpp).
struct link_faults {
  int latency_ms = 1;
  int jitter_ms = 4;
  double stall_prob = 0.001;
  int stall_ms = 150;
  double reset_prob = 0.0002;
  double faults_for_s = 30;
  std::uint64_t seed = 1;
};

/// Seconds of faults for the namespace tests: BALLOT_NETNS_SECONDS, 30 by default.
inline int fault_seconds() {
  const char* env = std::getenv("BALLOT_NETNS_SECONDS");
  int s = env ? std::atoi(env) : 0;
  return s > 0 ? s : 30;
}

/// The seed of a run's fault schedule: BALLOT_NETNS_SEED, or one drawn and printed.
inline std::uint64_t fault_seed() {
  const char* env = std::getenv("BALLOT_NETNS_SEED");
  if (env && *env)
    return std::strtoull(env, nullptr, 10);
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) %
         1000000;
}

/// `ballotd` processes, each in its own namespace of a `network`, on the same fixture as the
/// loopback process tests (data directories, kill -9 and restart with the same directory).
/// With `faults`, a ballot-netproxy in each node's namespace stands in front of its peer
/// port: every peer message a node receives crosses that node's proxy.
///
/// Destroyed in the right order: nodes and proxies before the namespaces they run in.
class netns_cluster {
 public:
  explicit netns_cluster(std::size_t n, std::optional<link_faults> faults = std::nullopt)
      : net(n), cluster(n), faults_(faults) {
    // The nodes are not on loopback: without certificates (see
    // cluster.use_peer_tls) they run the peer port insecure, on purpose.
    cluster.extra_flags.push_back("--insecure-peers");
    for (std::size_t i = 1; i <= n; ++i) {
      cluster.hosts[i] = network::node_address(i);
      cluster.launch_prefix[i] = net.exec_in(net.node_ns(i));
      proxy_ports_[i] = free_port();
    }
    if (faults_) {
      cluster.peer_route = [this](std::size_t, std::size_t peer) {
        return network::node_address(peer) + ":" + std::to_string(proxy_ports_.at(peer));
      };
      for (std::size_t i = 1; i <= n; ++i)
        start_proxy(i);
    }
  }

  /// Starts node `id`'s proxy (again, after `stop_proxy`).
  void start_proxy(std::size_t id) {
    auto& f = *faults_;
    auto argv = net.exec_in(net.node_ns(id));
    auto addr = network::node_address(id);
    for (std::string arg :
         {std::string{NETPROXY_BIN}, std::string{"--listen"},
          addr + ":" + std::to_string(proxy_ports_.at(id)), std::string{"--target"},
          addr + ":" + std::to_string(cluster.peer_port(id)), std::string{"--seed"},
          std::to_string(f.seed * 16 + id), std::string{"--latency-ms"},
          std::to_string(f.latency_ms), std::string{"--jitter-ms"}, std::to_string(f.jitter_ms),
          std::string{"--stall-prob"}, std::to_string(f.stall_prob), std::string{"--stall-ms"},
          std::to_string(f.stall_ms), std::string{"--reset-prob"}, std::to_string(f.reset_prob),
          std::string{"--faults-for-s"}, std::to_string(f.faults_for_s)})
      argv.push_back(arg);
    proxies_[id] = std::make_unique<process>(argv);
    if (!proxies_[id]->wait_for_output("ballot-netproxy ready", std::chrono::seconds(10)))
      throw std::runtime_error("proxy of node " + std::to_string(id) +
                               " did not start: " + proxies_[id]->err());
  }

  process& proxy(std::size_t id) { return *proxies_.at(id); }

  /// Reads what the nodes printed so far: a node whose stderr pipe filled up during a long
  /// run of faults would block on its next log line, a fault the test did not ask for.
  void drain() {
    for (std::size_t id = 1; id <= net.nodes(); ++id) {
      cluster.node(id).out();
      cluster.node(id).err();
      if (auto it = proxies_.find(id); it != proxies_.end())
        it->second->out();
    }
  }

  /// The `ballotctl --endpoints` list of every node.
  std::string endpoint_list() const {
    std::string out;
    for (auto& e : cluster.endpoints())
      out += (out.empty() ? "" : ",") + e;
    return out;
  }

  // Declared in destruction order, last first: the namespaces outlive what runs in them.
  network net;

 private:
  std::map<std::size_t, std::unique_ptr<process>> proxies_;

 public:
  cluster_processes cluster;

 private:
  std::optional<link_faults> faults_;
  std::map<std::size_t, std::uint16_t> proxy_ports_;
};

}  // namespace ballot::testing::netns
