#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "caf/fwd.hpp"

#include "runtime/gateway/bridge.hpp"
#include "runtime/gateway/options.hpp"

/// The client gateway of a node: serves schemas/client.capnp's `Ballot`
/// interface on a TCP endpoint with Cap'n Proto RPC, on a thread of its own
/// running a KJ event loop, and bridges each call to the node's replica actor
/// through one long-lived CAF actor (see bridge.hpp). Writes and reads go to
/// the local replica; a follower's not_leader is followed to the hinted
/// leader's replica actor, so clients need not find the leader themselves.
///
/// Malformed, truncated or oversized input closes that one connection (or
/// gets badRequest); the gateway keeps serving every other client.
///
/// How ballotd starts one:
///
///     gateway::options opts;
///     opts.host = "127.0.0.1"; opts.port = 7401;
///     opts.self = 1; opts.members = {1, 2, 3};
///     auto gw = gateway::start(sys, opts, gateway::find_in(peers));  // throws if it cannot listen
///     std::cout << "ballotd ready id=1 client=" << gw->endpoint() << std::endl;
///     ...
///     gw->stop();  // on SIGTERM: stop accepting, let in-flight calls finish, close
///
/// Stop (or destroy) the server before its actor system: the bridge actor
/// lives until then, and an actor system waits for its actors when it ends.
namespace ballot::gateway {

/// A running gateway. Destroying it stops it.
class server {
 public:
  ~server();

  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// The port it listens on (the chosen one when `options::port` was 0).
  std::uint16_t port() const;

  /// "host:port" as clients should dial it.
  std::string endpoint() const;

  /// Stops accepting connections, waits up to `options::drain_timeout` for
  /// calls in flight to answer, then closes every connection and stops the
  /// thread and the bridge actor. Idempotent; blocks (call it from `main` or a
  /// signal-watching thread, never from an actor).
  void stop();

 private:
  struct impl;
  friend std::unique_ptr<server> start(caf::actor_system&, options, replica_finder);
  explicit server(std::unique_ptr<impl> p);

  std::unique_ptr<impl> impl_;
};

/// Starts a gateway: binds `opts.host:opts.port`, then serves until stopped.
/// Returns once it listens. Throws std::runtime_error naming the endpoint if it
/// cannot listen, std::invalid_argument if `find` is empty or the TLS material
/// (`opts.tls`) is unusable.
std::unique_ptr<server> start(caf::actor_system& sys, options opts, replica_finder find);

}  // namespace ballot::gateway
