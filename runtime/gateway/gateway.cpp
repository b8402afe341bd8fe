#include "runtime/gateway/gateway.hpp"

#include <algorithm>
#include <future>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>

#include "runtime/gateway/call_util.hpp"
#include "runtime/gateway/connection_service.hpp"
#include "runtime/gateway/gateway_metrics.hpp"
#include "runtime/gateway/metered_stream.hpp"
#include "runtime/gateway/service.hpp"
#include "runtime/log/log.hpp"
#include "runtime/log/thread_name.hpp"
#include "runtime/tls/coalescing_stream.hpp"
#include "runtime/tls/read_ahead_stream.hpp"
#include "runtime/tls/tls_context.hpp"

namespace ballot::gateway {

namespace {

capnp::ReaderOptions reader_options(const options& opts) {
  capnp::ReaderOptions r;
  // Checked against the segment table before the message body is read, so an
  // oversized message costs no memory: the connection is closed instead.
  r.traversalLimitInWords = opts.max_message_bytes / sizeof(capnp::word);
  r.nestingLimit = opts.max_nesting_depth;
  return r;
}

/// One client connection: its (watched) stream and an RPC system on it, with the limits.
struct connection {
  connection(kj::Own<metered_stream> s, capnp::Capability::Client cap, const options& opts)
      : meter(*s),
        stream(kj::heap<tls::read_ahead_stream>(kj::mv(s))),
        network(*stream, capnp::rpc::twoparty::Side::SERVER, reader_options(opts)),
        rpc(capnp::makeRpcServer(network, kj::mv(cap))) {
    rpc.setFlowLimit(opts.max_in_flight_bytes_per_connection / sizeof(capnp::word));
  }

  /// Watches the socket's own reads and writes, beneath the read-ahead.
  const metered_stream& meter;
  kj::Own<tls::read_ahead_stream> stream;
  capnp::TwoPartyVatNetwork network;
  capnp::RpcSystem<capnp::rpc::twoparty::VatId> rpc;
};

/// Resolves when `conn` has been silent past the handshake timeout or idle
/// past the idle timeout; the caller then drops (closes) it.
kj::Promise<void> watchdog(const connection& conn, const options& opts, kj::Timer& timer) {
  auto every = std::min(opts.handshake_timeout, std::chrono::milliseconds{1000});
  return timer.afterDelay(to_kj(every)).then([&conn, &opts, &timer]() -> kj::Promise<void> {
    auto now = timer.now();
    const auto& s = conn.meter;
    if (!s.heard_from() && now - s.opened() >= to_kj(opts.handshake_timeout))
      return kj::READY_NOW;
    if (opts.idle_timeout.count() > 0 && now - s.last_activity() >= to_kj(opts.idle_timeout))
      return kj::READY_NOW;
    return watchdog(conn, opts, timer);
  });
}

/// A failed connection (bad input, a reset) concerns only its own client.
class ignore_errors final : public kj::TaskSet::ErrorHandler {
 public:
  void taskFailed(kj::Exception&&) override {}
};

}  // namespace

struct server::impl {
  options opts;
  std::unique_ptr<bridge> br;
  /// Set when the endpoint speaks TLS.
  std::unique_ptr<tls::context> tls;
  std::thread thread;
  std::uint16_t port = 0;

  std::mutex mtx;
  /// Wakes the KJ thread from `stop()`; set once the thread listens.
  kj::Own<kj::CrossThreadPromiseFulfiller<void>> stop_signal;
  bool stopped = false;

  void run(std::promise<std::uint16_t>& started);

  kj::Promise<void> accept_loop(kj::ConnectionReceiver& listener, service& shared,
                                kj::TaskSet& tasks, std::size_t& connections, kj::Timer& timer);
  /// Takes one accepted stream under the connection limits and serves it a
  /// capability of its own (see connection_service.hpp).
  void admit(kj::Own<kj::AsyncIoStream> stream, service& shared, kj::TaskSet& tasks,
             std::size_t& connections, kj::Timer& timer);
  /// With TLS: the handshake, bounded by the handshake timeout; then `serve`.
  kj::Promise<void> handshake(kj::Own<kj::AsyncIoStream> stream, kj::Own<connection_context> who,
                              service& shared, kj::Timer& timer);
  /// Runs the RPC system on a (decrypted) stream until the client leaves or
  /// the watchdog closes it. `opened`: when the TCP connection was accepted.
  kj::Promise<void> serve(kj::Own<kj::AsyncIoStream> stream, kj::Own<connection_context> who,
                          service& shared, kj::Timer& timer, kj::TimePoint opened);

  /// Open connections per client address.
  std::map<std::string, std::size_t> per_address;
};

void server::impl::admit(kj::Own<kj::AsyncIoStream> stream, service& shared, kj::TaskSet& tasks,
                         std::size_t& connections, kj::Timer& timer) {
  auto address = peer_address(*stream);
  auto& from_here = per_address[address];
  // Dropping the stream closes it: the client sees the connection end.
  if (connections >= opts.max_connections || from_here >= opts.max_connections_per_address) {
    if (from_here == 0)
      per_address.erase(address);
    if (opts.metrics)
      opts.metrics->refused_connections.inc();
    // Debug, not warn: a flood of connections must not become a flood of lines
    // (refusals are counted in the metrics).
    logging::debug("client connection refused: connection limit reached",
                   {{"event", "client_refused"},
                    {"address", address},
                    {"connections", connections},
                    {"from_address", from_here}});
    return;
  }
  // Counted from here, the TLS handshake included: sockets that never finish
  // one hold a slot only until the handshake timeout.
  ++connections;
  ++from_here;
  if (opts.metrics)
    opts.metrics->connections.add(1);
  auto who = kj::heap<connection_context>();
  who->address = address;
  auto served = tls ? handshake(kj::mv(stream), kj::mv(who), shared, timer)
                    : serve(kj::mv(stream), kj::mv(who), shared, timer, timer.now());
  // A failed handshake or a broken stream ends in the task set's error
  // handler, which ignores it: only this connection closes.
  logging::debug("client connected", {{"event", "client_connected"}, {"address", address}});
  tasks.add(served.attach(kj::defer([this, &connections, address] {
    logging::debug("client connection closed", {{"event", "client_closed"}, {"address", address}});
    --connections;
    if (opts.metrics)
      opts.metrics->connections.add(-1);
    if (auto it = per_address.find(address); it != per_address.end() && --it->second == 0)
      per_address.erase(it);
  })));
}  // NOLINT(clang-analyzer-cplusplus.NewDeleteLeaks): `tasks` owns the promise

kj::Promise<void> server::impl::handshake(kj::Own<kj::AsyncIoStream> stream,
                                          kj::Own<connection_context> who, service& shared,
                                          kj::Timer& timer) {
  using maybe_stream = kj::Maybe<kj::AuthenticatedStream>;
  auto opened = timer.now();
  // The address is known already (who->address); KJ wants some inner identity.
  auto done =
    tls->kj()
      .wrapServer(kj::AuthenticatedStream{kj::mv(stream), kj::UnknownPeerIdentity::newInstance()})
      .then([](kj::AuthenticatedStream s) { return maybe_stream{kj::mv(s)}; });
  auto too_late =
    timer.afterDelay(to_kj(opts.handshake_timeout)).then([] { return maybe_stream{nullptr}; });
  return done.exclusiveJoin(kj::mv(too_late))
    .then([this, who = kj::mv(who), &shared, &timer,
           opened](maybe_stream s) mutable -> kj::Promise<void> {
      KJ_IF_MAYBE (ok, s) {
        auto& peer = kj::downcast<kj::TlsPeerIdentity>(*ok->peerIdentity);
        // Only a certificate the handshake verified against the client CA
        // gets here (verifyClients); without client-cert-auth none is asked.
        if (peer.hasCertificate())
          who->cert_common_name = peer.getCommonName().cStr();
        return serve(kj::heap<tls::coalescing_stream>(kj::mv(ok->stream)), kj::mv(who), shared,
                     timer, opened);
      }
      logging::debug("client TLS handshake timed out",
                     {{"event", "client_handshake_timeout"}, {"address", who->address}});
      return kj::READY_NOW;  // timed out: dropping the stream closes it
    });
}

kj::Promise<void> server::impl::serve(kj::Own<kj::AsyncIoStream> stream,
                                      kj::Own<connection_context> who, service& shared,
                                      kj::Timer& timer, kj::TimePoint opened) {
  if (opts.on_connect)
    opts.on_connect(*who);
  capnp::Capability::Client cap = kj::heap<connection_service>(shared, kj::mv(who));
  auto conn = kj::heap<connection>(kj::heap<metered_stream>(kj::mv(stream), timer, opened),
                                   kj::mv(cap), opts);
  auto closed = conn->network.onDisconnect().exclusiveJoin(watchdog(*conn, opts, timer));
  return closed.attach(kj::mv(conn));
}

kj::Promise<void> server::impl::accept_loop(kj::ConnectionReceiver& listener, service& shared,
                                            kj::TaskSet& tasks, std::size_t& connections,
                                            kj::Timer& timer) {
  return listener.accept()
    .then(
      [&](kj::Own<kj::AsyncIoStream> stream) -> kj::Promise<void> {
        admit(kj::mv(stream), shared, tasks, connections, timer);
        return kj::READY_NOW;
      },
      [&](kj::Exception&&) {
        // Out of file descriptors and the like: back off, keep serving the rest.
        return timer.afterDelay(100 * kj::MILLISECONDS);
      })
    .then([this, &listener, &shared, &tasks, &connections, &timer] {
      return accept_loop(listener, shared, tasks, connections, timer);
    });
}

void server::impl::run(std::promise<std::uint16_t>& started) {
  logging::name_this_thread("ballot-gateway");
  try {
    auto io = kj::setupAsyncIo();
    auto& ws = io.waitScope;
    auto& timer = io.provider->getTimer();
    kj::Own<kj::ConnectionReceiver> listener;
    KJ_IF_MAYBE (e, kj::runCatchingExceptions([&] {
                   auto addr =
                     io.provider->getNetwork().parseAddress(opts.host, opts.port).wait(ws);
                   listener = addr->listen();
                 })) {
      throw std::runtime_error("gateway: cannot listen on " + opts.host + ":" +
                               std::to_string(opts.port) + ": " + e->getDescription().cStr());
    }
    port = static_cast<std::uint16_t>(listener->getPort());
    opts.port = port;
    // The bound endpoint is the truth (the configured port may have been 0).
    opts.client_endpoints[opts.self] = opts.host + ":" + std::to_string(port);
    auto stop = kj::newPromiseAndCrossThreadFulfiller<void>();
    {
      std::lock_guard<std::mutex> guard{mtx};
      stop_signal = kj::mv(stop.fulfiller);
    }
    std::size_t in_flight = 0;
    std::size_t connections = 0;
    ignore_errors on_error;
    // Each connection's capability holds a reference too (see service.hpp).
    auto shared = kj::refcounted<service>(*br, opts, timer, in_flight);
    kj::TaskSet tasks{on_error};
    started.set_value(port);
    stop.promise.exclusiveJoin(accept_loop(*listener, *shared, tasks, connections, timer)).wait(ws);
    listener = nullptr;  // refuse new connections from here on
    auto drain_until = timer.now() + opts.drain_timeout.count() * kj::MILLISECONDS;
    while (in_flight > 0 && timer.now() < drain_until)
      timer.afterDelay(10 * kj::MILLISECONDS).wait(ws);
    // Leaving the scope closes every connection (the task set owns them),
    // then drops the service.
  } catch (...) {
    // Before set_value: a start-up failure for start() to rethrow. After it
    // there is no one to tell: the loop itself failed, and stop() still joins.
    try {
      started.set_exception(std::current_exception());
    } catch (const std::future_error&) {
    }
  }
}

server::server(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

server::~server() {
  stop();
}

std::uint16_t server::port() const {
  return impl_->port;
}

std::string server::endpoint() const {
  return impl_->opts.host + ":" + std::to_string(impl_->port);
}

void server::stop() {
  std::unique_lock<std::mutex> lock{impl_->mtx};
  if (impl_->stopped)
    return;
  impl_->stopped = true;
  if (impl_->stop_signal)
    impl_->stop_signal->fulfill();
  lock.unlock();
  if (impl_->thread.joinable())
    impl_->thread.join();
  impl_->br.reset();
}

std::unique_ptr<server> start(caf::actor_system& sys, options opts, replica_finder find) {
  if (!find)
    throw std::invalid_argument("gateway::start: the replica finder is empty");
  if (opts.members.empty())
    opts.members = {opts.self};
  if (!opts.feed)
    opts.feed = std::make_shared<change_feed>();
  auto p = std::make_unique<server::impl>();
  p->opts = opts;
  if (!opts.tls.cert_pem.empty())
    p->tls = tls::context::server(opts.tls.cert_pem, opts.tls.key_pem, opts.tls.client_ca_pem,
                                  opts.tls.client_cert_auth);
  p->br = std::make_unique<bridge>(sys, std::move(find), opts);
  std::promise<std::uint16_t> started;
  auto listening = started.get_future();
  p->thread =
    std::thread{[raw = p.get(), started = std::move(started)]() mutable { raw->run(started); }};
  try {
    listening.get();
  } catch (...) {
    p->thread.join();
    throw;
  }
  return std::unique_ptr<server>{new server{std::move(p)}};
}

}  // namespace ballot::gateway
