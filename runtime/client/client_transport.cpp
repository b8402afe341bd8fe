// The client library's transport: the I/O thread and its event loop, the
// connections to the endpoints (TCP, TLS, authentication), timers, and the
// client's construction from its options.
#include <stdexcept>
#include <utility>

#include "runtime/client/client.hpp"
#include "runtime/client/client_impl.hpp"
#include "runtime/client/endpoint.hpp"
#include "runtime/tls/coalescing_stream.hpp"
#include "runtime/tls/pem_file.hpp"
#include "runtime/tls/read_ahead_stream.hpp"

namespace ballot::client {

using kv::result;
using kv::result_code;

void client::impl::run(std::promise<void>& ready) {
  auto io = kj::setupAsyncIo();
  provider = io.provider.get();
  io_thread = std::this_thread::get_id();
  executor = kj::getCurrentThreadExecutor().addRef();
  auto stop = kj::newPromiseAndCrossThreadFulfiller<void>();
  stop_signal = kj::mv(stop.fulfiller);
  struct : kj::TaskSet::ErrorHandler {
    void taskFailed(kj::Exception&&) override {}  // every call reports through its callback
  } ignore;
  {
    kj::TaskSet running{ignore};
    tasks = &running;
    ready.set_value();
    stop.promise.wait(io.waitScope);
    closed = true;
    auto still_running = live;
    for (auto& [cid, c] : still_running)
      finish(c, finished(result::error(result_code::unavailable, "the client was closed")));
    waiting_writes.clear();
  }
  tasks = nullptr;
  slots.clear();  // connections go before the event loop does
}

void client::impl::schedule(std::chrono::milliseconds delay, std::function<void()> fn) {
  auto add = [&] {
    if (closed || tasks == nullptr)
      return;
    tasks->add(provider->getTimer().afterDelay(to_kj(delay)).then([this, fn = std::move(fn)] {
      if (!closed)
        fn();
    }));
  };
  if (std::this_thread::get_id() == io_thread) {
    add();
    return;
  }
  try {
    executor->executeSync(add);
  } catch (const kj::Exception&) {
    // The client closed: nothing to schedule.
  }
}

std::size_t client::impl::slot_for(const std::string& address) {
  for (std::size_t i = 0; i < slots.size(); ++i)
    if (slots[i].address == address)
      return i;
  slot s;
  s.address = address;
  slots.push_back(std::move(s));
  return slots.size() - 1;
}

kj::Promise<kj::Own<kj::AsyncIoStream>> client::impl::secure(kj::Own<kj::AsyncIoStream> stream,
                                                             const std::string& address) {
  if (!tls)
    return kj::mv(stream);
  auto name = opts.tls.server_name;
  if (name.empty()) {
    endpoint ep;
    std::string ignored;
    if (parse_endpoint(address, ep, ignored))
      name = ep.host;
  }
  return tls->kj()
    .wrapClient(kj::mv(stream), name)
    .then([](kj::Own<kj::AsyncIoStream> secured) -> kj::Own<kj::AsyncIoStream> {
      return kj::heap<tls::coalescing_stream>(kj::mv(secured));
    })
    .catch_([name](kj::Exception&& e) {
      std::string why = e.getDescription().cStr();
      auto nl = why.find_last_of('\n');
      why = "TLS handshake failed: " + (nl == std::string::npos ? why : why.substr(nl + 1));
      // OpenSSL's host check compares DNS names only (see options::tls).
      if (why.find("certificate verify failed") != std::string::npos)
        why += " (the node's certificate must be signed by the CA given and carry DNS name '" +
               name + "' in its subjectAltName)";
      return kj::Promise<kj::Own<kj::AsyncIoStream>>{
        kj::Exception{kj::Exception::Type::FAILED, __FILE__, __LINE__, kj::str(why.c_str())}};
    });
}

kj::Promise<kj::Own<link>> client::impl::get_link(std::size_t i) {
  auto& s = slots[i];
  if (s.ready && !s.ready->broken)
    return kj::addRef(*s.ready);
  if (s.connect_done) {
    s.ready = nullptr;
    s.connect_done = false;
    auto connected =
      provider->getNetwork()
        .parseAddress(s.address)
        .then([](kj::Own<kj::NetworkAddress> addr) { return addr->connect().attach(kj::mv(addr)); })
        .then([this, address = s.address](kj::Own<kj::AsyncIoStream> stream) {
          return secure(kj::mv(stream), address);
        })
        .then([this](kj::Own<kj::AsyncIoStream> stream) {
          kj::Own<kj::AsyncIoStream> buffered = kj::heap<tls::read_ahead_stream>(kj::mv(stream));
          return authenticate(kj::refcounted<link>(kj::mv(buffered), limits));
        })
        .then(
          [this, i](kj::Own<link> l) {
            slots[i].ready = kj::mv(l);
            slots[i].connect_done = true;
          },
          [this, i](kj::Exception&& e) {
            slots[i].connect_done = true;
            kj::throwFatalException(kj::mv(e));
          });
    s.connecting = connected.fork();
  }
  KJ_IF_MAYBE (pending, s.connecting) {
    return pending->addBranch().then([this, i]() -> kj::Own<link> {
      auto& s = slots[i];
      // NOLINTNEXTLINE(bugprone-suspicious-semicolon): inside the KJ macro
      KJ_REQUIRE(s.ready.get() != nullptr && !s.ready->broken, "the connection failed");
      return kj::addRef(*s.ready);
    });
  }
  KJ_FAIL_REQUIRE("no connection attempt for endpoint", slots[i].address);
}

namespace {

/// The TLS context of `o`, every file read and checked first so that the
/// error names the one that is wrong.
std::unique_ptr<tls::context> client_tls(const options::tls_options& o) {
  auto read = [](const std::string& path, tls::pem_kind kind) {
    try {
      return tls::read_pem_file(path, kind);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string{"ballot client: "} + e.what());
    }
  };
  if (o.cert_file.empty() != o.key_file.empty())
    throw std::invalid_argument(
      "ballot client: a client certificate and its key go together (tls.cert_file, tls.key_file)");
  auto ca = read(o.ca_file, tls::pem_kind::certificate);
  std::string cert, key;
  if (!o.cert_file.empty()) {
    cert = read(o.cert_file, tls::pem_kind::certificate);
    key = read(o.key_file, tls::pem_kind::private_key);
    if (auto problem = tls::keypair_problem(cert, key); !problem.empty())
      throw std::invalid_argument("ballot client: " + o.key_file + " and " + o.cert_file + ": " +
                                  problem);
  }
  return tls::context::client(ca, cert, key);
}

}  // namespace

client::client(options opts) : impl_(std::make_unique<impl>()) {
  if (opts.endpoints.empty())
    throw std::invalid_argument("ballot client: no endpoints given");
  auto& p = *impl_;
  for (auto& text : opts.endpoints) {
    endpoint ep;
    std::string error;
    if (!parse_endpoint(text, ep, error))
      throw std::invalid_argument("ballot client: " + error);
    slot s;
    s.address = ep.to_string();
    p.slots.push_back(std::move(s));
  }
  if (opts.max_writes_in_flight == 0)
    opts.max_writes_in_flight = 1;
  p.id = opts.client_id != 0 ? opts.client_id : random_client_id();
  p.ids = paxos::request_ids{p.id};
  p.renew_id = opts.client_id == 0;
  p.limits.traversalLimitInWords = opts.max_message_bytes / sizeof(capnp::word);
  if (!opts.tls.ca_file.empty())
    p.tls = client_tls(opts.tls);
  else if (!opts.tls.cert_file.empty() || !opts.tls.key_file.empty())
    throw std::invalid_argument(
      "ballot client: a client certificate needs TLS: give the CA file (tls.ca_file) too");
  p.opts = std::move(opts);
  std::promise<void> ready;
  auto started = ready.get_future();
  p.thread = std::thread{[&p, ready = std::move(ready)]() mutable { p.run(ready); }};
  started.get();
}

client::~client() {
  impl_->stop_signal->fulfill();
  impl_->thread.join();
}

std::uint64_t client::client_id() const {
  return impl_->id;
}

}  // namespace ballot::client
