#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "caf/fwd.hpp"

#include "runtime/ballotd/options.hpp"
#include "runtime/gateway/bridge.hpp"

namespace ballot::metrics {
class http_server;
}

namespace ballot::ballotd {

class node_metrics;

/// The node's operator port (`--metrics HOST:PORT`): an HTTP server on a
/// thread of its own serving
///   /metrics   the registry in Prometheus's text format;
///   /health    200 "ok" when the node knows a leader that answers, a majority
///              of members answer and it is within `max_lag` slots of the
///              leader (`?max_lag=N` overrides); else 503 with the reason;
///   /status    the JSON of `ballotctl --json status`, as this node sees it;
///   /ui/state  what the status page shows, as JSON;
///   /          the status page (HTML and a little JavaScript, no build step).
/// Status and health ask every member through a bridge actor of their own
/// (the gateway's status probe), so they never wait behind client calls.
class observability {
 public:
  struct setup {
    endpoint where;
    std::uint32_t self = 0;
    bool embedded = false;
    std::vector<std::uint32_t> members;
    /// Client endpoints by member ("host:port"), for the status listing.
    std::map<std::uint32_t, std::string> client_endpoints;
    std::shared_ptr<node_metrics> metrics;
  };

  static constexpr std::uint64_t default_max_lag = 1000;

  /// Starts serving; throws std::runtime_error naming the endpoint if it
  /// cannot listen.
  static std::unique_ptr<observability> start(caf::actor_system& sys, setup s,
                                              gateway::replica_finder find);

  ~observability();
  observability(const observability&) = delete;
  observability& operator=(const observability&) = delete;

  /// "host:port" as bound.
  std::string endpoint() const;
  /// Stops the HTTP server, then the bridge. Idempotent.
  void stop();

 private:
  observability() = default;

  std::shared_ptr<const setup> setup_;
  std::unique_ptr<gateway::bridge> bridge_;
  std::unique_ptr<metrics::http_server> http_;
};

}  // namespace ballot::ballotd
