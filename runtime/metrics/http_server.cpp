#include "runtime/metrics/http_server.hpp"
#include "runtime/log/thread_name.hpp"

#include <atomic>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

#include <kj/async-io.h>
#include <kj/compat/http.h>
#include <kj/debug.h>

namespace ballot::metrics {

namespace {

class ignore_errors final : public kj::TaskSet::ErrorHandler {
 public:
  void taskFailed(kj::Exception&&) override {
    // A broken connection ends only itself.
  }
};

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

/// A promise on the server's thread fulfilled by a responder from any thread
/// (the answer travels in a shared box; see gateway's handoff).
std::pair<kj::Promise<http_response>, responder> answer_slot() {
  auto paf = kj::newPromiseAndCrossThreadFulfiller<void>();
  struct box {
    std::mutex mtx;
    bool answered = false;
    http_response value;
    kj::Own<kj::CrossThreadPromiseFulfiller<void>> fulfiller;
  };
  auto b = std::make_shared<box>();
  b->fulfiller = kj::mv(paf.fulfiller);
  responder respond = [b](http_response r) {
    std::lock_guard<std::mutex> guard{b->mtx};
    if (b->answered)
      return;  // only the first answer counts
    b->answered = true;
    b->value = std::move(r);
    b->fulfiller->fulfill();
  };
  auto promise = paf.promise.then([b] {
    std::lock_guard<std::mutex> guard{b->mtx};
    return std::move(b->value);
  });
  return {kj::mv(promise), std::move(respond)};
}

}  // namespace

struct http_server::impl final : public kj::HttpService {
  http_options opts;
  std::map<std::string, handler> routes;
  std::thread thread;
  std::uint16_t bound_port = 0;
  std::atomic<std::size_t> open{0};
  std::mutex mtx;
  bool stopped = false;
  kj::Own<kj::CrossThreadPromiseFulfiller<void>> stop_signal;
  kj::Timer* timer = nullptr;
  kj::HttpHeaderTable* table = nullptr;
  kj::HttpHeaderId cache_control{kj::HttpHeaderId::HOST};

  kj::Promise<void> request(kj::HttpMethod method, kj::StringPtr url,
                            const kj::HttpHeaders& /*headers*/, kj::AsyncInputStream& /*body*/,
                            Response& response) override {
    if (method != kj::HttpMethod::GET && method != kj::HttpMethod::HEAD)
      return send(response, {405, "text/plain; charset=utf-8", "only GET and HEAD are served\n"});
    std::string path{url.cStr(), url.size()};
    std::string query;
    if (auto q = path.find('?'); q != std::string::npos) {
      query = path.substr(q + 1);
      path.resize(q);
    }
    auto it = routes.find(path);
    if (it == routes.end())
      return send(response, {404, "text/plain; charset=utf-8", "no such page: " + path + "\n"});
    auto [answer, respond] = answer_slot();
    try {
      it->second(query, std::move(respond));
    } catch (const std::exception& e) {
      return send(response, {500, "text/plain; charset=utf-8", std::string{e.what()} + "\n"});
    }
    auto late = timer->afterDelay(opts.handler_timeout.count() * kj::MILLISECONDS).then([] {
      return http_response{504, "text/plain; charset=utf-8", "the answer took too long\n"};
    });
    return answer.exclusiveJoin(kj::mv(late)).then([this, &response](http_response r) {
      return send(response, std::move(r));
    });
  }

  kj::Promise<void> send(Response& response, http_response r) {
    kj::HttpHeaders headers{*table};
    headers.set(kj::HttpHeaderId::CONTENT_TYPE, r.content_type.c_str());
    headers.set(cache_control, "no-store");
    auto body = kj::heapString(r.body.data(), r.body.size());
    auto stream = response.send(static_cast<kj::uint>(r.status), reason_phrase(r.status), headers,
                                static_cast<std::uint64_t>(body.size()));
    auto written = stream->write(body.begin(), body.size());
    return written.attach(kj::mv(stream), kj::mv(body));
  }

  kj::Promise<void> accept_loop(kj::ConnectionReceiver& listener, kj::HttpServer& server,
                                kj::TaskSet& tasks) {
    return listener.accept()
      .then(
        [this, &server, &tasks](kj::Own<kj::AsyncIoStream> stream) -> kj::Promise<void> {
          if (open.load() >= opts.max_connections)
            return kj::READY_NOW;  // dropping the stream closes it
          ++open;
          auto life = timer->afterDelay(opts.max_connection_life.count() * kj::MILLISECONDS);
          tasks.add(
            server.listenHttp(kj::mv(stream)).exclusiveJoin(kj::mv(life)).attach(kj::defer([this] {
              --open;
            })));
          return kj::READY_NOW;
        },
        [this](kj::Exception&&) {
          // Out of descriptors and the like: back off, keep serving.
          return timer->afterDelay(100 * kj::MILLISECONDS);
        })
      .then([this, &listener, &server, &tasks] { return accept_loop(listener, server, tasks); });
  }

  void run(std::promise<void>& started) {
    ballot::logging::name_this_thread("ballot-http");
    try {
      auto io = kj::setupAsyncIo();
      auto& ws = io.waitScope;
      timer = &io.provider->getTimer();
      kj::Own<kj::ConnectionReceiver> listener;
      KJ_IF_MAYBE (e, kj::runCatchingExceptions([&] {
                     auto addr =
                       io.provider->getNetwork().parseAddress(opts.host, opts.port).wait(ws);
                     listener = addr->listen();
                   })) {
        throw std::runtime_error("cannot listen on " + opts.host + ":" + std::to_string(opts.port) +
                                 ": " + e->getDescription().cStr());
      }
      bound_port = static_cast<std::uint16_t>(listener->getPort());
      kj::HttpHeaderTable::Builder builder;
      cache_control = builder.add("Cache-Control");
      auto built = builder.build();
      table = built.get();
      kj::HttpServerSettings settings;
      settings.headerTimeout = opts.header_timeout.count() * kj::MILLISECONDS;
      settings.pipelineTimeout = opts.idle_timeout.count() * kj::MILLISECONDS;
      // A request body is never read: a client that sends one loses the connection.
      settings.canceledUploadGracePeriod = 0 * kj::MILLISECONDS;
      settings.canceledUploadGraceBytes = 0;
      kj::HttpServer server{*timer, *table, *this, settings};
      auto stop = kj::newPromiseAndCrossThreadFulfiller<void>();
      {
        std::lock_guard<std::mutex> guard{mtx};
        stop_signal = kj::mv(stop.fulfiller);
      }
      ignore_errors on_error;
      kj::TaskSet tasks{on_error};
      started.set_value();
      stop.promise.exclusiveJoin(accept_loop(*listener, server, tasks)).wait(ws);
      listener = nullptr;
      // Leaving the scope closes every connection (the task set owns them).
    } catch (...) {
      try {
        started.set_exception(std::current_exception());
      } catch (const std::future_error&) {
        // already started: nobody to tell; stop() still joins
      }
    }
  }
};

http_server::http_server(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

http_server::~http_server() {
  stop();
}

std::unique_ptr<http_server> http_server::start(http_options opts,
                                                std::map<std::string, handler> routes) {
  auto p = std::make_unique<impl>();
  p->opts = std::move(opts);
  p->routes = std::move(routes);
  std::promise<void> started;
  auto listening = started.get_future();
  p->thread =
    std::thread{[raw = p.get(), started = std::move(started)]() mutable { raw->run(started); }};
  try {
    listening.get();
  } catch (...) {
    p->thread.join();
    throw;
  }
  return std::unique_ptr<http_server>{new http_server{std::move(p)}};
}

std::uint16_t http_server::port() const {
  return impl_->bound_port;
}

std::string http_server::endpoint() const {
  return impl_->opts.host + ":" + std::to_string(impl_->bound_port);
}

std::size_t http_server::connections() const {
  return impl_->open.load();
}

void http_server::stop() {
  std::unique_lock<std::mutex> lock{impl_->mtx};
  if (impl_->stopped)
    return;
  impl_->stopped = true;
  if (impl_->stop_signal)
    impl_->stop_signal->fulfill();
  lock.unlock();
  if (impl_->thread.joinable())
    impl_->thread.join();
}

}  // namespace ballot::metrics
