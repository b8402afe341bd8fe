#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

/// A small HTTP/1.1 server for metrics, health and status pages, on a thread
/// of its own running a KJ event loop (KJ's HTTP library). It serves GET (and
/// HEAD) on fixed paths; anything else is 404 or 405. It is a network port
/// like the others, so every input is bounded: request headers (KJ stops
/// reading a request past 128 KiB of headers and answers 431/400), request
/// bodies (never read; the connection is closed if one is sent), the number
/// of connections, the time to send a request, the idle time between
/// requests, how long a handler may take and a connection's whole life.
namespace ballot::metrics {

struct http_response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

/// Hands a handler's answer to the server; callable from any thread, once.
using responder = std::function<void(http_response)>;
/// Answers one request (`query` is the text after '?', possibly empty). Called
/// on the server's thread: it must not block; it may answer later, from
/// another thread, through `respond`.
using handler = std::function<void(const std::string& query, responder respond)>;

struct http_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 7480;  ///< 0: any free port (see `http_server::port`)
  /// Connections beyond this many are closed at once.
  std::size_t max_connections = 32;
  /// The request line and headers must arrive within this.
  std::chrono::milliseconds header_timeout{5'000};
  /// A kept-alive connection idle this long between requests is closed.
  std::chrono::milliseconds idle_timeout{10'000};
  /// A handler that has not answered by then gets 504 sent for it.
  std::chrono::milliseconds handler_timeout{5'000};
  /// A connection is closed after this long, whatever it is doing (a client
  /// that never reads its answer cannot hold a slot for ever).
  std::chrono::milliseconds max_connection_life{60'000};
};

class http_server {
 public:
  /// Listens on `opts.host:opts.port` and serves `routes` (exact paths, such
  /// as "/metrics"). Returns once it listens; throws std::runtime_error naming
  /// the endpoint if it cannot.
  static std::unique_ptr<http_server> start(http_options opts,
                                            std::map<std::string, handler> routes);

  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  std::uint16_t port() const;
  /// "host:port" as bound.
  std::string endpoint() const;
  /// Connections open now (for tests).
  std::size_t connections() const;

  /// Closes the listener and every connection and joins the thread. Idempotent.
  void stop();

  struct impl;

 private:
  explicit http_server(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace ballot::metrics
