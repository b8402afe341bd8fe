#pragma once

// What the backup and cluster-identity process tests share: a node's stored
// cluster id, a counter of its /metrics, and a key/value check through one node.
#include <fstream>
#include <sstream>
#include <string>

#include "tests/process/peer_security.hpp"
#include "tests/support/http_get.hpp"

namespace ballot::testing {

/// The cluster id node `id` keeps in its data directory (hex).
inline std::string stored_cluster_id(const cluster_processes& c, std::size_t id) {
  std::ifstream in{c.data_dir(id) / "cluster-id"};
  std::string hex;
  std::getline(in, hex);
  return hex;
}

/// The value of `ballot_peer_frames_dropped_total{reason="<reason>"}` on the
/// /metrics at `port` (-1 if absent).
inline long long dropped(std::uint16_t port, const std::string& reason) {
  auto page = http_get(port, "/metrics");
  auto name = "ballot_peer_frames_dropped_total{reason=\"" + reason + "\"}";
  auto at = page.body.find(name);
  if (at == std::string::npos)
    return -1;
  std::istringstream rest{page.body.substr(at + name.size())};
  double v = -1;
  rest >> v;
  return static_cast<long long>(v);
}

/// A client talking to node `id` only, with a short timeout.
inline ballot::client::options only(const cluster_processes& c, std::size_t id,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(2)) {
  auto o = c.client_options();
  o.endpoints = {c.client_endpoint(id)};
  o.timeout = timeout;
  return o;
}

}  // namespace ballot::testing
