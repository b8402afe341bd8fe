#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/ballotd/options.hpp"

namespace ballot::ballotd {

/// Exit codes of SURFACE.md.
constexpr int exit_usage = 2;  ///< bad flags or config
constexpr int exit_data = 3;   ///< unusable or corrupt data directory

/// One running ballotd: the actor system, the local replica(s) with their
/// write-ahead logs, the peer connections and the client gateway. Keeps CAF
/// and Cap'n Proto out of main.
class node {
 public:
  explicit node(options opts);
  ~node();

  /// Opens the data, starts the replicas, connects the peers and opens the
  /// client endpoint. Returns 0, or the exit code after printing why.
  int start();

  /// Stops accepting clients, lets in-flight durable writes finish and stops
  /// every actor.
  void stop();

  /// This node's member id (learnt from the cluster with --join), 0 embedded.
  std::uint32_t id() const;

  /// The client endpoint actually bound ("127.0.0.1:7400").
  std::string client_endpoint() const;

  /// The metrics endpoint bound ("127.0.0.1:7480"), "" when none is served.
  std::string metrics_endpoint() const;

 private:
  /// Serves --metrics and probes the peers for it; 0 or the exit code.
  int start_metrics(const std::vector<std::uint32_t>& members);

  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace ballot::ballotd
