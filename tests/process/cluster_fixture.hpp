#pragma once

#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/client/client.hpp"
#include "tests/support/process.hpp"

namespace ballot::testing {

using namespace std::chrono_literals;

/// Three `ballotd` processes on 127.0.0.1 with temporary data directories,
/// killed and removed when the test ends, whatever happens.
class cluster_processes {
 public:
  explicit cluster_processes(std::size_t n = 3) : n_(n) {
    dir_ = std::filesystem::temp_directory_path() /
           ("ballot-process-" + std::to_string(getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::create_directories(dir_);
    for (std::size_t i = 1; i <= n_; ++i) {
      peer_ports_[i] = free_port();
      client_ports_[i] = free_port();
    }
  }

  ~cluster_processes() {
    nodes_.clear();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  /// The --peers list node `self` is started with: each member where it listens, or where
  /// `peer_route` says `self` reaches it (a proxy in between).
  std::string peers(std::size_t self = 0) const {
    std::string out;
    for (auto& [id, port] : peer_ports_) {
      if (joiners_.count(id) != 0)
        continue;  // not a bootstrap member
      auto where = host(id) + ":" + std::to_string(port);
      if (peer_route && self != 0 && self != id)
        where = peer_route(self, id);
      out += (out.empty() ? "" : ",") + std::to_string(id) + "=" + where;
    }
    return out;
  }

  std::string client_endpoint(std::size_t id) const {
    return host(id) + ":" + std::to_string(client_ports_.at(id));
  }

  /// The address node `id` listens on (peers and clients): 127.0.0.1 unless `hosts` says.
  std::string host(std::size_t id) const {
    auto it = hosts.find(id);
    return it == hosts.end() ? "127.0.0.1" : it->second;
  }

  std::vector<std::string> endpoints() const {
    std::vector<std::string> out;
    for (auto& [id, port] : client_ports_)
      out.push_back(client_endpoint(id));
    return out;
  }

  std::filesystem::path data_dir(std::size_t id) const { return dir_ / std::to_string(id); }

  /// Starts node `id` and waits for its ready line.
  void start(std::size_t id) {
    std::vector<std::string> argv;
    if (auto it = launch_prefix.find(id); it != launch_prefix.end())
      argv = it->second;
    for (const std::string& arg :
         {std::string{BALLOTD_BIN}, std::string{"--id"}, std::to_string(id), std::string{"--peers"},
          peers(id), std::string{"--client"}, client_endpoint(id), std::string{"--data-dir"},
          data_dir(id).string()})
      argv.push_back(arg);
    argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
    if (auto it = node_flags.find(id); it != node_flags.end())
      argv.insert(argv.end(), it->second.begin(), it->second.end());
    nodes_[id] = std::make_unique<process>(argv);
    ASSERT_TRUE(nodes_[id]->wait_for_output("ballotd ready", 15s))
      << "node " << id << " did not start:\n"
      << nodes_[id]->err();
  }

  /// Ports for a node `id` that joins later (ids after the bootstrap ones).
  void reserve(std::size_t id) {
    if (peer_ports_.count(id) != 0)
      return;
    peer_ports_[id] = free_port();
    client_ports_[id] = free_port();
    joiners_.insert(id);
  }

  /// Starts reserved node `id` with --join (the client endpoints of `via`),
  /// naming its id with --id unless `self_add`; waits for its ready line.
  void start_join(std::size_t id, const std::vector<std::size_t>& via, bool self_add = false) {
    std::string join;
    for (auto v : via)
      join += (join.empty() ? "" : ",") + client_endpoint(v);
    std::vector<std::string> argv{BALLOTD_BIN,         "--join",         join,
                                  "--peer-address",    peer_address(id), "--client",
                                  client_endpoint(id), "--data-dir",     data_dir(id).string()};
    if (!self_add)
      argv.insert(argv.end(), {"--id", std::to_string(id)});
    argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
    if (auto it = node_flags.find(id); it != node_flags.end())
      argv.insert(argv.end(), it->second.begin(), it->second.end());
    nodes_[id] = std::make_unique<process>(argv);
    ASSERT_TRUE(nodes_[id]->wait_for_output("ballotd ready", 20s))
      << "node " << id << " did not join:\n"
      << nodes_[id]->err();
  }

  std::string peer_address(std::size_t id) const {
    return host(id) + ":" + std::to_string(peer_ports_.at(id));
  }

  void start_all() {
    for (std::size_t i = 1; i <= n_; ++i)
      start(i);
  }

  void kill9(std::size_t id) {
    nodes_.at(id)->kill(SIGKILL);
    nodes_.at(id)->wait_exit(5s);
  }

  process& node(std::size_t id) { return *nodes_.at(id); }

  client::options client_options() const {
    client::options o;
    o.endpoints = endpoints();
    o.timeout = 4s;
    o.attempt_timeout = 700ms;
    return o;
  }

  /// The leader as some node sees it (0 if none answers within `wait`).
  std::uint32_t leader(std::chrono::milliseconds wait = 10s) {
    client::client c{client_options()};
    auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline) {
      auto st = c.status();
      if (st.ok() && st.leader_id != 0)
        return st.leader_id;
      std::this_thread::sleep_for(50ms);
    }
    return 0;
  }

  /// A leader other than `not_this` (0: any), asked again until `wait` ends; 0 if none.
  std::uint32_t leader_other_than(std::uint32_t not_this,
                                  std::chrono::milliseconds wait = std::chrono::seconds(20)) {
    auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline) {
      auto l = leader(std::chrono::seconds(2));
      if (l != 0 && l != not_this)
        return l;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return 0;
  }

  /// The last `n` lines of node `id`'s log that mention a leader or an
  /// election, for a failure message: what the cluster did instead.
  std::string election_lines(std::size_t id, std::size_t n = 12) {
    std::vector<std::string> hits;
    std::istringstream in{node(id).err()};
    for (std::string line; std::getline(in, line);)
      if (line.find("leader") != std::string::npos || line.find("elect") != std::string::npos)
        hits.push_back(line);
    std::string out = "--- node " + std::to_string(id) + ", last election lines:\n";
    for (std::size_t i = hits.size() > n ? hits.size() - n : 0; i < hits.size(); ++i)
      out += hits[i] + "\n";
    return out;
  }

  std::filesystem::path dir() const { return dir_; }

  /// Flags every node is started with, after the standard ones.
  std::vector<std::string> extra_flags;
  /// Flags of one node, after `extra_flags` (its peer certificate, say).
  std::map<std::size_t, std::vector<std::string>> node_flags;

  /// Peer TLS for every node: a `member-<id>` certificate (CN and SAN DNS)
  /// from `pki`, which must outlive the nodes. `pki` is a
  /// tests/support/test_certs.hpp CA (a template, so this header does not
  /// need it).
  template <class Pki>
  void use_peer_tls(Pki& pki) {
    for (std::size_t i = 1; i <= n_; ++i) {
      auto cn = "member-" + std::to_string(i);
      auto files = pki.issue(cn, cn, {"DNS:" + cn});
      node_flags[i] = {"--peer-cacert", pki.ca_cert(), "--peer-cert",
                       files.cert,      "--peer-key",  files.key};
    }
  }

  /// Where each node listens, for nodes not on 127.0.0.1 (each in its own network namespace).
  std::map<std::size_t, std::string> hosts;
  /// Put before a node's command line (`ip netns exec NS`, say); nothing by default.
  std::map<std::size_t, std::vector<std::string>> launch_prefix;
  /// If set, the HOST:PORT by which node `self` reaches node `peer` (a proxy in front of it).
  std::function<std::string(std::size_t self, std::size_t peer)> peer_route;

  std::uint16_t client_port(std::size_t id) const { return client_ports_.at(id); }
  std::uint16_t peer_port(std::size_t id) const { return peer_ports_.at(id); }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }

  std::size_t n_;
  std::filesystem::path dir_;
  std::map<std::size_t, std::uint16_t> peer_ports_, client_ports_;
  std::map<std::size_t, std::unique_ptr<process>> nodes_;
  /// Nodes started with --join (not in --peers).
  std::set<std::size_t> joiners_;
};

}  // namespace ballot::testing
