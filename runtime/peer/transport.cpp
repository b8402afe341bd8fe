#include "runtime/peer/transport.hpp"

#include <array>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

#include <kj/async-io.h>
#include <kj/compat/tls.h>
#include <kj/debug.h>

#include "runtime/log/log.hpp"
#include "runtime/log/thread_name.hpp"
#include "runtime/peer/peer_log.hpp"
#include "runtime/peer/peer_tls.hpp"
#include "runtime/peer/socket_write.hpp"

namespace ballot::peer {

namespace {

/// At most this many frames go into one vectored write.
constexpr std::size_t max_batch_frames = 256;
/// Batches up to this size are copied into one buffer before writing.
constexpr std::size_t coalesce_bytes = 256 * 1024;
/// Connect and TLS handshake of a dial, each.
constexpr auto dial_timeout = 3 * kj::SECONDS;

kj::Duration to_kj(std::chrono::milliseconds ms) {
  return ms.count() * kj::MILLISECONDS;
}

/// A task of the loop that failed: said, never silent (a dial chain that
/// ended would leave a member unreachable for good).
class log_errors final : public kj::TaskSet::ErrorHandler {
 public:
  explicit log_errors(std::function<void(const std::string&)> say) : say_(std::move(say)) {}
  void taskFailed(kj::Exception&& e) override { say_(e.getDescription().cStr()); }

 private:
  std::function<void(const std::string&)> say_;
};

/// One connection this member dialed: where its frames to that member go.
struct out_conn {
  kj::Own<kj::AsyncIoStream> stream;
  kj::Own<kj::PromiseFulfiller<void>> dead;
  std::vector<char> hello;               ///< written before any queued frame
  std::vector<std::vector<char>> batch;  ///< being written
  std::size_t batch_bytes = 0;
  bool writing = false;
  std::array<kj::byte, 1> probe{};
  kj::TimePoint up_since = kj::origin<kj::TimePoint>();
  // Declared last so they are destroyed first: they refer to the above.
  kj::Maybe<kj::Promise<void>> write;
  kj::Maybe<kj::Promise<void>> watch;

  void fail() {
    if (dead->isWaiting())
      dead->fulfill();
  }
};

/// One connection this member accepted: where frames from that member come.
struct in_conn {
  kj::Own<kj::AsyncIoStream> stream;
  std::string address;
  std::uint32_t member = 0;  ///< 0 until authenticated
  bool greeted = false;      ///< its hello (with this cluster's id) was taken
  frame_decoder decoder;
  std::array<bool, drop_reason_count> logged{};
  kj::Array<kj::byte> buf = kj::heapArray<kj::byte>(64 * 1024);
};

}  // namespace

struct transport::impl {
  transport_options opts;
  peer_policy policy;
  drop_counters counters;

  // -- shared with the callers' threads, under `mtx`
  struct link {
    outbox box;
    std::deque<std::vector<char>> queue;
    bool connected = false;
    /// The member just connected to us (so it is alive) and our dial to it
    /// is under way: frames queue rather than fail, so that the answers to
    /// its first requests are not lost in the moment before our connection
    /// to it is up. A dial that fails drops them.
    bool expected = false;
    /// Times the connection went down: what was queued then is gone, so a
    /// snapshot transfer that straddles a reset knows to start over.
    std::uint64_t resets = 0;
    /// The socket, for callers' direct writes (direct_write_bytes); -1 with
    /// TLS, without a connection, or with direct writes off.
    int fd = -1;
    /// The loop's write chain owns the socket (the hello or a batch is on
    /// its way): a caller may not write past it, or frames would reorder.
    bool loop_writing = false;
  };
  mutable std::mutex mtx;
  std::map<std::uint32_t, link> links;
  kj::Own<kj::CrossThreadPromiseFulfiller<void>> wake;
  kj::Own<kj::CrossThreadPromiseFulfiller<void>> stop_signal;
  bool stopping = false;
  std::uint64_t direct_frames = 0;
  std::uint16_t port = 0;
  /// Runs set_members on the loop's thread (null until it runs, and after).
  kj::Own<const kj::Executor> executor;

  /// Operator lines, rate-limited, written by a thread of their own.
  peer_log lines{opts.log, [this] { return counters.summary(); }};

  // -- the loop's thread only
  std::thread thread;
  kj::Timer* timer = nullptr;
  kj::Network* network = nullptr;
  kj::TlsContext* tls = nullptr;
  kj::TaskSet* tasks = nullptr;
  std::map<std::uint32_t, kj::Own<out_conn>> out;
  std::map<std::uint32_t, std::string> last_dial_error;
  /// Each member's dial loop (keep_dialing): dropping one cancels it.
  std::map<std::uint32_t, kj::Promise<void>> dialers;
  /// Ends a member's backoff early: set while its dial loop waits.
  std::map<std::uint32_t, kj::Own<kj::PromiseFulfiller<void>>> redial;
  std::size_t inbound = 0;

  impl(transport_options o)
      : opts(std::move(o)),
        policy(
          opts.self,
          [&] {
            std::set<std::uint32_t> ids;
            for (auto& [id, where] : opts.members)
              ids.insert(id);
            return ids;
          }(),
          opts.cluster_id) {
    for (auto& [id, where] : opts.members)
      if (id != opts.self)
        links.emplace(id, link{outbox{opts.budget_bytes}, {}, false});
  }

  void log(const std::string& line, std::size_t topic = peer_log::link_topic,
           logging::level lvl = logging::level::info, std::vector<logging::field> fields = {}) {
    lines.log(line, topic, lvl, std::move(fields));
  }

  /// Counts a refusal or drop; logs the first of each reason per connection.
  void note(in_conn* c, const std::string& address, drop_reason r, const std::string& detail) {
    counters.count(r);
    if (c != nullptr) {
      auto& seen = c->logged[static_cast<std::size_t>(r)];
      if (seen)
        return;
      seen = true;
    }
    std::string who = address;
    if (c != nullptr && c->member != 0)
      who += " (member " + std::to_string(c->member) + ")";
    log("peer connection from " + who + ": " + reason_name(r) + ": " + detail +
          (c != nullptr && c->greeted ? "; frame dropped, further ones of this kind on this "
                                        "connection are only counted"
                                      : "; connection refused"),
        static_cast<std::size_t>(r));
  }

  // ---------------------------------------------------------------- sending

  /// Moves the hello (if unsent) and up to a batch of queued frames into
  /// `c->batch`; false when there is nothing to write.
  bool take_batch(out_conn& c, std::uint32_t id) {
    c.batch.clear();
    c.batch_bytes = 0;
    if (!c.hello.empty()) {
      c.batch.push_back(std::move(c.hello));
      c.hello.clear();
    }
    std::lock_guard<std::mutex> guard{mtx};
    auto& l = links.at(id);
    while (!l.queue.empty() && c.batch.size() < max_batch_frames) {
      c.batch_bytes += l.queue.front().size();
      c.batch.push_back(std::move(l.queue.front()));
      l.queue.pop_front();
    }
    l.loop_writing = !c.batch.empty();
    return l.loop_writing;
  }

  /// Writes `c->batch`, then the next batch, until the queue is empty. One
  /// chain per connection at a time (`writing`); it continues itself rather
  /// than being restarted from its own continuation.
  kj::Promise<void> write_batches(out_conn* c, std::uint32_t id) {
    // Small frames go as one buffer: over TLS each piece would be a record
    // of its own (a heartbeat's 40 bytes costing a record and a syscall).
    if (c->batch.size() > 1 && c->batch_bytes <= coalesce_bytes) {
      std::vector<char> one;
      one.reserve(c->batch_bytes + 64);
      for (auto& f : c->batch)
        one.insert(one.end(), f.begin(), f.end());
      c->batch.clear();
      c->batch.push_back(std::move(one));
    }
    auto pieces = kj::heapArray<kj::ArrayPtr<const kj::byte>>(c->batch.size());
    for (std::size_t i = 0; i < c->batch.size(); ++i)
      pieces[i] = kj::ArrayPtr<const kj::byte>(
        reinterpret_cast<const kj::byte*>(c->batch[i].data()), c->batch[i].size());
    auto p = c->stream->write(pieces.asPtr());
    return p.attach(kj::mv(pieces)).then([this, c, id]() -> kj::Promise<void> {
      {
        std::lock_guard<std::mutex> guard{mtx};
        links.at(id).box.written(c->batch_bytes);
      }
      if (!take_batch(*c, id)) {
        c->writing = false;
        return kj::READY_NOW;
      }
      return write_batches(c, id);
    });
  }

  /// Starts writing what is queued for `id`, unless a write chain runs.
  void flush(std::uint32_t id) {
    auto it = out.find(id);
    if (it == out.end() || !it->second)
      return;
    auto* c = it->second.get();
    if (c->writing || !take_batch(*c, id))
      return;
    c->writing = true;
    // evalNow: a write to a connection the member already closed can throw
    // at once (EPIPE) rather than reject; thrown out of here it would end
    // the pump task that flushes every member, and nothing queued would go
    // out again.
    c->write = kj::evalNow([this, c, id] {
                 return write_batches(c, id);
               }).eagerlyEvaluate([c](kj::Exception&&) { c->fail(); });
  }

  void flush_all() {
    for (auto& [id, c] : out)
      flush(id);
  }

  /// Waits for a caller's wake-up, flushes every member, re-arms.
  kj::Promise<void> pump() {
    auto paf = kj::newPromiseAndCrossThreadFulfiller<void>();
    {
      std::lock_guard<std::mutex> guard{mtx};
      wake = kj::mv(paf.fulfiller);
    }
    // What was queued before the fulfiller was armed goes now.
    flush_all();
    return paf.promise.then([this] { return pump(); });
  }

  /// Has the loop flush what callers queued; under `mtx`.
  void wake_loop() {
    if (wake) {
      wake->fulfill();
      wake = nullptr;
    }
  }

  /// Marks the link down and drops what was queued for it: consensus re-sends.
  void set_down(std::uint32_t id) {
    std::lock_guard<std::mutex> guard{mtx};
    auto& l = links.at(id);
    l.connected = false;
    l.expected = false;
    l.fd = -1;  // before the socket closes: no caller writes to a reused number
    l.loop_writing = false;
    l.queue.clear();
    l.box.reset();
    ++l.resets;
  }

  /// An accepted connection authenticated as `member`: it is up again (a
  /// restart, say), so dial it now instead of at the end of a backoff of up
  /// to `max_backoff`; we can only answer it on a connection we dialed.
  void heard_from(std::uint32_t member) {
    if (out.count(member) > 0)
      return;
    auto it = redial.find(member);
    if (it == redial.end())
      return;  // a dial is under way already
    {
      std::lock_guard<std::mutex> guard{mtx};
      links.at(member).expected = true;
    }
    auto f = kj::mv(it->second);
    redial.erase(it);
    f->fulfill();
  }

  kj::Promise<kj::Own<kj::AsyncIoStream>> connect(std::uint32_t id) {
    auto& where = opts.members.at(id);
    return network->parseAddress(where.first, where.second)
      .then([](kj::Own<kj::NetworkAddress> addr) { return addr->connect().attach(kj::mv(addr)); })
      .then([this, id](kj::Own<kj::AsyncIoStream> s) -> kj::Promise<kj::Own<kj::AsyncIoStream>> {
        if (tls == nullptr)
          return kj::mv(s);
        // The server must prove it is the member we meant to reach.
        auto name = peer_policy::common_name_of(id);
        return timer->timeoutAfter(dial_timeout, tls->wrapClient(kj::mv(s), name));
      });
  }

  /// Keeps one connection to member `id`: dial, hold it until it breaks, back off, again.
  kj::Promise<void> dial(std::uint32_t id, std::chrono::milliseconds backoff) {
    auto& where = opts.members.at(id);
    auto address = where.first + ":" + std::to_string(where.second);
    return timer->timeoutAfter(dial_timeout * 2, connect(id))
      .then(
        [this, id, address](kj::Own<kj::AsyncIoStream> s) -> kj::Promise<bool> {
          auto c = kj::heap<out_conn>();
          c->stream = kj::mv(s);
          auto paf = kj::newPromiseAndFulfiller<void>();
          c->dead = kj::mv(paf.fulfiller);
          // Always, TLS or not: the hello carries the cluster id.
          c->hello =
            encode_frame(frame_kind::hello, opts.self, 0,
                         std::vector<char>(opts.cluster_id.begin(), opts.cluster_id.end()));
          // Nothing comes back on a dialed connection: a read that ends
          // means the member closed it (restarted, or refused us).
          auto* raw = c.get();
          raw->up_since = timer->now();
          c->watch =
            c->stream->tryRead(c->probe.data(), 1, 1)
              .then([raw](std::size_t) { raw->fail(); }, [raw](kj::Exception&&) { raw->fail(); })
              .eagerlyEvaluate(nullptr);
          int fd = -1;
          if (tls == nullptr && opts.direct_write_bytes > 0)
            KJ_IF_MAYBE (f, raw->stream->getFd())
              fd = *f;
          out[id] = kj::mv(c);
          {
            std::lock_guard<std::mutex> guard{mtx};
            auto& l = links.at(id);
            l.connected = true;
            l.expected = false;
            l.fd = fd;
            l.loop_writing = true;  // the hello goes first: flush(id) below
          }
          if (last_dial_error[id] != "up")
            log("peer link to member " + std::to_string(id) + " at " + address + " is up",
                drop_reason_count, logging::level::info,
                {{"event", "peer_connected"}, {"peer", id}, {"address", address}});
          last_dial_error[id] = "up";
          flush(id);
          // A connection the member closed at once (it refused us) backs
          // off like a failed dial; one that served a while retries at once.
          return paf.promise.then(
            [this, raw] { return timer->now() - raw->up_since >= 1 * kj::SECONDS; });
        },
        [this, id, address](kj::Exception&& e) -> kj::Promise<bool> {
          std::string why = e.getDescription().cStr();
          // One line per change of reason, not one per retry.
          if (last_dial_error[id] != why)
            log("cannot reach member " + std::to_string(id) + " at " + address + ": " + why,
                drop_reason_count, logging::level::info,
                {{"event", "peer_unreachable"}, {"peer", id}, {"address", address}});
          last_dial_error[id] = why;
          return false;
        })
      .then([this, id, backoff](bool served) {
        set_down(id);
        out.erase(id);
        if (last_dial_error[id] == "up") {
          log("peer link to member " + std::to_string(id) + " is down", drop_reason_count,
              logging::level::info, {{"event", "peer_lost"}, {"peer", id}});
          last_dial_error[id] = "down";
        }
        auto next = served ? opts.first_backoff : std::min(backoff * 2, opts.max_backoff);
        auto early = kj::newPromiseAndFulfiller<void>();
        redial[id] = kj::mv(early.fulfiller);
        return timer->afterDelay(to_kj(served ? opts.first_backoff : backoff))
          .then([this, id, next] {
            redial.erase(id);
            return next;
          })
          .exclusiveJoin(early.promise.then([this] { return opts.first_backoff; }))
          .then([this, id](std::chrono::milliseconds after) { return dial(id, after); });
      });
  }

  void start_dialing(std::uint32_t id) {
    dialers.erase(id);
    dialers.emplace(id, keep_dialing(id).eagerlyEvaluate([this, id](kj::Exception&& e) {
      log("peer: dialing member " + std::to_string(id) + " failed: " + e.getDescription().cStr());
    }));
  }

  /// On the loop's thread: the members are now `wanted` (see set_members).
  void apply_members(const std::map<std::uint32_t, std::pair<std::string, std::uint16_t>>& wanted) {
    for (auto& [id, where] : wanted) {
      if (id == opts.self)
        continue;
      auto known = opts.members.find(id);
      if (known != opts.members.end() && known->second == where)
        continue;
      // New, or (never in practice: ids are not reused) at a new address.
      drop_member(id);
      opts.members[id] = where;
      {
        std::lock_guard<std::mutex> guard{mtx};
        links.emplace(id, link{outbox{opts.budget_bytes}, {}, false});
      }
      log("peer: member " + std::to_string(id) + " at " + where.first + ":" +
            std::to_string(where.second) + " joined the membership",
          drop_reason_count, logging::level::info, {{"event", "peer_added"}, {"peer", id}});
      start_dialing(id);
    }
    std::vector<std::uint32_t> gone;
    for (auto& [id, where] : opts.members)
      if (id != opts.self && wanted.count(id) == 0)
        gone.push_back(id);
    for (auto id : gone) {
      drop_member(id);
      log("peer: member " + std::to_string(id) + " left the membership; its link is closed",
          drop_reason_count, logging::level::info, {{"event", "peer_removed"}, {"peer", id}});
    }
    std::set<std::uint32_t> ids;
    for (auto& [id, where] : opts.members)
      ids.insert(id);
    policy.set_members(std::move(ids));
  }

  /// Forgets member `id`: its dial loop first (so nothing of it runs on),
  /// then its connection and queue.
  void drop_member(std::uint32_t id) {
    if (id == opts.self || opts.members.count(id) == 0)
      return;
    dialers.erase(id);
    redial.erase(id);
    {
      std::lock_guard<std::mutex> guard{mtx};
      links.erase(id);  // before its socket closes (direct writes)
    }
    out.erase(id);
    last_dial_error.erase(id);
    opts.members.erase(id);
  }

  /// Dials `id` for as long as the transport runs: if the chain ever ends
  /// with an exception it is said and started again, never lost.
  kj::Promise<void> keep_dialing(std::uint32_t id) {
    return dial(id, opts.first_backoff).catch_([this, id](kj::Exception&& e) {
      log("peer: dialing member " + std::to_string(id) +
          " stopped on an error and starts again: " + e.getDescription().cStr());
      set_down(id);
      out.erase(id);
      redial.erase(id);
      return timer->afterDelay(to_kj(opts.max_backoff)).then([this, id] {
        return keep_dialing(id);
      });
    });
  }

  // -------------------------------------------------------------- receiving

  /// Handles one decoded item; false closes the connection.
  bool take(in_conn& c, frame_decoder::item&& it) {
    if (it.is == frame_decoder::item::what::unknown_kind) {
      note(&c, c.address, drop_reason::unknown_kind,
           "kind byte " + std::to_string(it.raw_kind) + " is not in the table");
      return c.greeted;
    }
    if (it.is == frame_decoder::item::what::too_large_for_kind) {
      note(&c, c.address, drop_reason::too_large_for_kind,
           std::string{"a "} + kind_name(static_cast<frame_kind>(it.raw_kind)) +
             " frame over its size cap");
      return c.greeted;
    }
    auto& f = it.frame;
    if (!c.greeted) {
      drop_reason why{};
      auto member = policy.member_of_hello(f, why, c.member);
      if (!member) {
        c.member = 0;  // logged as a refusal: the connection is closed
        note(&c, c.address, why, policy.why_refused(f, why));
        return false;
      }
      c.member = *member;
      c.greeted = true;
      heard_from(c.member);
      return true;
    }
    if (auto why = policy.check(c.member, f)) {
      note(
        &c, c.address, *why,
        std::string{"a "} + kind_name(f.kind) + " claiming to be from " + std::to_string(f.from));
      return true;
    }
    auto kind = f.kind;
    if (opts.on_frame)
      if (auto why = opts.on_frame(c.member, std::move(f)))
        note(&c, c.address, *why, std::string{"a "} + kind_name(kind) + " frame");
    return true;
  }

  /// Reads frames until the connection ends (or, with `until_member`, until
  /// it has named its member).
  kj::Promise<void> read(in_conn& c, bool until_member) {
    // Frames decoded from an earlier read first (after a hello, say).
    while (!(until_member && c.greeted)) {
      auto it = c.decoder.next();
      if (!it)
        break;
      if (!take(c, std::move(*it)))
        return kj::READY_NOW;
    }
    if (until_member && c.greeted)
      return kj::READY_NOW;
    return c.stream->tryRead(c.buf.begin(), 1, c.buf.size())
      .then([this, &c, until_member](std::size_t n) -> kj::Promise<void> {
        if (n == 0)
          return kj::READY_NOW;
        if (!c.decoder.feed(reinterpret_cast<const char*>(c.buf.begin()), n)) {
          auto r = c.decoder.failure() == frame_decoder::error::length_too_large
                     ? drop_reason::length_too_large
                     : drop_reason::length_too_small;
          c.member = 0;  // logged as a refusal: the connection is closed
          c.greeted = false;
          note(&c, c.address, r,
               "frame length " + std::to_string(c.decoder.bad_length()) + " outside 13.." +
                 std::to_string(max_frame_bytes));
          return kj::READY_NOW;
        }
        return read(c, until_member);
      });
  }

  /// Authenticates an accepted connection, then reads it to its end.
  kj::Promise<void> serve(kj::Own<in_conn> owned, kj::AuthenticatedStream s) {
    auto& c = *owned;
    kj::Promise<void> ready = nullptr;
    if (tls != nullptr) {
      ready = tls->wrapServer(kj::mv(s)).then(
        [this, &c](kj::AuthenticatedStream secured) -> kj::Promise<void> {
          c.stream = kj::mv(secured.stream);
          auto& id = kj::downcast<kj::TlsPeerIdentity>(*secured.peerIdentity);
          if (!id.hasCertificate()) {
            note(nullptr, c.address, drop_reason::tls_handshake, "no client certificate");
            return KJ_EXCEPTION(DISCONNECTED, "refused");
          }
          std::string cn = id.getCommonName().cStr();
          auto member = policy.member_of_common_name(cn);
          if (!member) {
            note(nullptr, c.address, drop_reason::not_a_member,
                 "certificate common name '" + cn + "' is not member-<id> of another member");
            return KJ_EXCEPTION(DISCONNECTED, "refused");
          }
          // Named by its certificate; its hello (below) must agree and
          // carry this cluster's id before any frame of it is taken.
          c.member = *member;
          return kj::READY_NOW;
        },
        [this, &c](kj::Exception&& e) -> kj::Promise<void> {
          note(nullptr, c.address, drop_reason::tls_handshake, e.getDescription().cStr());
          return kj::mv(e);
        });
    } else {
      c.stream = kj::mv(s.stream);
      ready = kj::READY_NOW;
    }
    return ready
      .then([this, &c] {
        return timer->timeoutAfter(to_kj(opts.handshake_timeout), read(c, true))
          .then([&c]() -> kj::Promise<void> {
            if (!c.greeted)
              return KJ_EXCEPTION(DISCONNECTED, "no hello");
            return kj::READY_NOW;
          });
      })
      .then([this, &c] { return read(c, false); })
      .attach(kj::mv(owned), kj::defer([this] { --inbound; }));
  }

  kj::Promise<void> accept(kj::ConnectionReceiver& listener) {
    return listener.acceptAuthenticated().then(
      [this, &listener](kj::AuthenticatedStream s) {
        auto c = kj::heap<in_conn>();
        c->address = s.peerIdentity->toString().cStr();
        if (inbound >= opts.max_inbound_connections) {
          note(nullptr, c->address, drop_reason::too_many_connections,
               std::to_string(inbound) + " peer connections are open");
        } else {
          ++inbound;
          // A refused or broken connection was noted where it failed.
          tasks->add(serve(kj::mv(c), kj::mv(s)).catch_([](kj::Exception&&) {}));
        }
        return accept(listener);
      },
      [this, &listener](kj::Exception&&) {
        // Out of descriptors, say: wait a little rather than spin.
        return timer->afterDelay(100 * kj::MILLISECONDS).then([this, &listener] {
          return accept(listener);
        });
      });
  }

  kj::Own<kj::ConnectionReceiver> listen(kj::WaitScope& ws) {
    auto& me = opts.members.at(opts.self);
    kj::Own<kj::ConnectionReceiver> listener;
    KJ_IF_MAYBE (e, kj::runCatchingExceptions([&] {
                   auto addr = network->parseAddress(me.first, me.second).wait(ws);
                   listener = addr->listen();
                 })) {
      throw std::runtime_error("cannot listen for peers on " + me.first + ":" +
                               std::to_string(me.second) + ": " + e->getDescription().cStr());
    }
    return listener;
  }

  /// Accepts, dials and sends until stop(); then cancels every task and
  /// leaves the links as a stopped transport shows them.
  void serve_until_stopped(kj::ConnectionReceiver& listener, kj::WaitScope& ws,
                           std::promise<void>& started) {
    auto stop = kj::newPromiseAndCrossThreadFulfiller<void>();
    {
      std::lock_guard<std::mutex> guard{mtx};
      stop_signal = kj::mv(stop.fulfiller);
    }
    log_errors on_error{[this](const std::string& why) { log("peer: a task failed: " + why); }};
    {
      kj::TaskSet task_set{on_error};
      tasks = &task_set;
      task_set.add(accept(listener));
      for (auto& [id, where] : opts.members)
        if (id != opts.self)
          start_dialing(id);
      task_set.add(pump());
      {
        std::lock_guard<std::mutex> guard{mtx};
        executor = kj::getCurrentThreadExecutor().addRef();
      }
      started.set_value();
      stop.promise.wait(ws);
      {
        std::lock_guard<std::mutex> guard{mtx};
        executor = nullptr;
      }
      // Leaving the scope cancels every task: reads, writes, dials.
      dialers.clear();
      out.clear();
      redial.clear();
    }
    tasks = nullptr;
    std::lock_guard<std::mutex> guard{mtx};
    wake = nullptr;
    for (auto& [id, l] : links) {
      l.connected = false;
      l.queue.clear();
    }
  }

  void run(std::promise<void>& started) {
    logging::name_this_thread("ballot-peer");
    try {
      auto io = kj::setupAsyncIo();
      timer = &io.provider->getTimer();
      network = &io.provider->getNetwork();
      kj::Own<peer_tls> tls_owned;
      if (opts.tls) {
        tls_owned = kj::heap<peer_tls>(*opts.tls, *timer, to_kj(opts.handshake_timeout));
        tls = &tls_owned->context();
      }
      auto listener = listen(io.waitScope);
      port = static_cast<std::uint16_t>(listener->getPort());
      serve_until_stopped(*listener, io.waitScope, started);
    } catch (...) {
      try {
        started.set_exception(std::current_exception());
      } catch (const std::future_error&) {
      }
    }
    tls = nullptr;
  }
};

transport::transport(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

transport::~transport() {
  stop();
}

std::shared_ptr<transport> transport::start(transport_options opts) {
  auto p = std::make_unique<impl>(std::move(opts));
  std::promise<void> started;
  auto listening = started.get_future();
  auto* raw = p.get();
  p->thread = std::thread{[raw, started = std::move(started)]() mutable { raw->run(started); }};
  try {
    listening.get();
  } catch (...) {
    p->thread.join();
    throw;
  }
  return std::shared_ptr<transport>{new transport{std::move(p)}};
}

transport::send_result transport::send(std::uint32_t member, std::vector<char> frame) {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  auto it = impl_->links.find(member);
  if (impl_->stopping || it == impl_->links.end() ||
      !(it->second.connected || it->second.expected)) {
    impl_->counters.count(drop_reason::not_connected);
    return send_result::not_connected;
  }
  auto& l = it->second;
  if (l.fd >= 0 && !l.loop_writing && l.queue.empty() &&
      frame.size() <= impl_->opts.direct_write_bytes) {
    // Nothing is ahead of this frame: this thread writes it, sparing the
    // loop's a wake-up (the loop writes only while `loop_writing`).
    auto sent = write_now(l.fd, frame.data(), frame.size());
    if (sent == frame.size()) {
      ++impl_->direct_frames;
      return send_result::queued;
    }
    if (sent > 0) {
      // Half a frame is on the wire: the rest must follow, budget or not.
      frame.erase(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(sent));
      l.box.add(frame.size());
      l.queue.push_back(std::move(frame));
      impl_->wake_loop();
      return send_result::queued;
    }
  }
  if (!l.box.fits(frame.size())) {
    impl_->counters.count(drop_reason::over_budget);
    return send_result::over_budget;
  }
  l.box.add(frame.size());
  l.queue.push_back(std::move(frame));
  impl_->wake_loop();
  return send_result::queued;
}

void transport::set_members(
  std::map<std::uint32_t, std::pair<std::string, std::uint16_t>> members) {
  kj::Own<const kj::Executor> loop;
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    if (impl_->stopping || !impl_->executor)
      return;
    loop = impl_->executor->addRef();
  }
  // The loop may end meanwhile (stop): then there is nothing to change.
  KJ_IF_MAYBE (e, kj::runCatchingExceptions(
                    [&] { loop->executeSync([&] { impl_->apply_members(members); }); })) {
    (void)e;
  }
}

bool transport::connected(std::uint32_t member) const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  auto it = impl_->links.find(member);
  return !impl_->stopping && it != impl_->links.end() && it->second.connected;
}

std::uint64_t transport::resets(std::uint32_t member) const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  auto it = impl_->links.find(member);
  return it == impl_->links.end() ? 0 : it->second.resets;
}

std::uint64_t transport::direct_frames() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->direct_frames;
}

drop_counters& transport::counters() {
  return impl_->counters;
}

std::uint16_t transport::port() const {
  return impl_->port;
}

void transport::stop() {
  std::unique_lock<std::mutex> lock{impl_->mtx};
  if (impl_->stopping)
    return;
  impl_->stopping = true;
  if (impl_->stop_signal)
    impl_->stop_signal->fulfill();
  lock.unlock();
  if (impl_->thread.joinable())
    impl_->thread.join();
  // What the loop logged last (its totals at stop) is written before we return.
  impl_->lines.stop();
}

}  // namespace ballot::peer
