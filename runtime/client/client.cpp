#include "runtime/client/client.hpp"

#include <atomic>
#include <cstring>
#include <deque>
#include <future>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>

#include "runtime/client/endpoint.hpp"
#include "schemas/client.capnp.h"

namespace ballot::client {

namespace {

using schemas::client::Ballot;
using clock_type = std::chrono::steady_clock;
using kv::result;
using kv::result_code;

enum class op {
  put,
  get,
  del,
  list,
  status,
  open_session,
  keep_alive,
  close_session,
  acquire,
  release,
  check_token,
  lock_info,
  put_ephemeral,
};

/// The lock-service code that corresponds to a key/value one (for failures
/// the call machinery reports the same way for every call).
lock::result_code to_lock_code(result_code c) {
  switch (c) {
    case result_code::ok:
      return lock::result_code::ok;
    case result_code::not_found:
      return lock::result_code::not_found;
    case result_code::bad_request:
      return lock::result_code::bad_request;
    case result_code::version_mismatch:
    case result_code::unavailable:
      break;
  }
  return lock::result_code::unavailable;
}

/// How one try at one endpoint ended.
struct outcome {
  enum class kind {
    done,      ///< the call has its answer (`res`, or `status` for op::status)
    redirect,  ///< the node names the leader's endpoint: try there
    retry,     ///< this endpoint failed (`why`): try the next one
  };
  kind k = kind::done;
  result res;
  /// The answer of a lock-service call.
  lock::result lres;
  cluster_status status;
  std::string redirect_to;
  std::string why;
  /// The connection itself failed or hung: open a new one next time.
  bool link_failed = false;
};

outcome finished(result r) {
  outcome o;
  o.lres.code = to_lock_code(r.code);
  o.lres.message = r.message;
  o.res = std::move(r);
  return o;
}

outcome finished(lock::result r) {
  outcome o;
  o.lres = std::move(r);
  return o;
}

outcome retry(std::string why, bool link_failed) {
  outcome o;
  o.k = outcome::kind::retry;
  o.why = std::move(why);
  o.link_failed = link_failed;
  return o;
}

/// One call, from its start to its callback.
struct call {
  op kind = op::get;
  std::string key;  ///< the key, or the prefix of a list
  std::string value;
  std::optional<std::uint64_t> if_version;
  std::uint32_t limit = 0;
  // Lock-service calls.
  lock::session_id session = 0;
  std::uint64_t token = 0;  ///< check_token; ttl_ms for open_session
  lock::lock_mode mode = lock::lock_mode::exclusive;
  std::chrono::milliseconds wait{0};
  std::chrono::milliseconds delay{0};
  /// Writes: assigned when the write window admits it, then kept for every retry.
  std::uint64_t seq = 0;
  clock_type::time_point deadline;
  std::function<void(outcome)> done;
  std::uint64_t id = 0;
  /// The endpoint of the current try.
  std::size_t at = 0;
  /// Failed tries since the last pause.
  std::size_t failures = 0;
  int redirects = 0;
  std::string last_error = "no endpoint answered";

  bool is_write() const {
    switch (kind) {
      case op::get:
      case op::list:
      case op::status:
      case op::check_token:
      case op::lock_info:
        return false;
      default:
        return true;
    }
  }
};

using call_ptr = std::shared_ptr<call>;

/// A connection to one endpoint, shared by the calls that use it.
struct link : kj::Refcounted {
  link(kj::Own<kj::AsyncIoStream> s, capnp::ReaderOptions limits)
      : stream(kj::mv(s)),
        network(*stream, capnp::rpc::twoparty::Side::CLIENT, limits),
        rpc(capnp::makeRpcClient(network)),
        cap(bootstrap()) {}

  Ballot::Client bootstrap() {
    capnp::word scratch[4];
    std::memset(scratch, 0, sizeof(scratch));
    capnp::MallocMessageBuilder message{scratch};
    auto vat = message.getRoot<capnp::rpc::twoparty::VatId>();
    vat.setSide(capnp::rpc::twoparty::Side::SERVER);
    return rpc.bootstrap(vat).castAs<Ballot>();
  }

  kj::Own<kj::AsyncIoStream> stream;
  capnp::TwoPartyVatNetwork network;
  capnp::RpcSystem<capnp::rpc::twoparty::VatId> rpc;
  Ballot::Client cap;
  bool broken = false;
};

/// One endpoint and its connection, if any.
struct slot {
  std::string address;
  kj::Own<link> ready;
  kj::Maybe<kj::ForkedPromise<void>> connecting;
  bool connect_done = true;
};

kj::Duration to_kj(clock_type::duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count() * kj::NANOSECONDS;
}

capnp::Text::Reader as_text(const std::string& s) {
  return {s.c_str(), s.size()};
}

capnp::Data::Reader as_data(const std::string& s) {
  return {reinterpret_cast<const kj::byte*>(s.data()), s.size()};
}

std::string to_std(capnp::Text::Reader t) {
  return {t.cStr(), t.size()};
}

outcome from_error(schemas::client::Error::Reader e) {
  using E = schemas::client::Error;
  switch (e.which()) {
    case E::NOT_FOUND:
      return finished(result::error(result_code::not_found));
    case E::VERSION_MISMATCH: {
      auto r = result::error(result_code::version_mismatch);
      r.version = e.getVersionMismatch();
      return finished(std::move(r));
    }
    case E::BAD_REQUEST:
      return finished(result::error(result_code::bad_request, to_std(e.getBadRequest())));
    case E::NOT_LEADER: {
      auto hint = e.getNotLeader();
      if (hint.getEndpoint().size() > 0) {
        outcome o;
        o.k = outcome::kind::redirect;
        o.redirect_to = to_std(hint.getEndpoint());
        return o;
      }
      return retry("not the leader, and the leader's endpoint is unknown", false);
    }
    case E::UNAVAILABLE:
      return retry(to_std(e.getUnavailable()), false);
    case E::NO_SESSION:
      return finished(lock::result::error(
        lock::result_code::no_session,
        "session " + std::to_string(e.getNoSession()) + " is unknown, closed or expired"));
    case E::BUSY:
      return finished(lock::result::error(lock::result_code::busy, "the lock is taken"));
    case E::TIMEOUT:
      return finished(lock::result::error(lock::result_code::timeout, "not granted in time"));
    case E::NOT_HELD:
      return finished(
        lock::result::error(lock::result_code::not_held, "the session does not hold the lock"));
    case E::COMPACTED: {
      auto r = lock::result::error(lock::result_code::compacted,
                                   "the history no longer reaches back that far");
      r.revision = e.getCompacted();
      return finished(std::move(r));
    }
  }
  return retry("an error variant this client does not know", false);
}

}  // namespace

struct client::impl {
  options opts;
  std::uint64_t id = 0;
  capnp::ReaderOptions limits;

  std::thread thread;
  std::thread::id io_thread;
  kj::Own<const kj::Executor> executor;
  kj::Own<kj::CrossThreadPromiseFulfiller<void>> stop_signal;

  // -- I/O thread only ------------------------------------------------------
  std::vector<slot> slots;
  /// Where calls start: the last endpoint that answered.
  std::size_t preferred = 0;
  kj::AsyncIoProvider* provider = nullptr;
  kj::TaskSet* tasks = nullptr;
  std::uint64_t next_call = 0;
  std::map<std::uint64_t, call_ptr> live;
  bool closed = false;
  /// The write window: seqs in flight, and writes waiting for a seq.
  std::uint64_t last_seq = 0;
  std::set<std::uint64_t> writes_in_flight;
  std::deque<call_ptr> waiting_writes;

  void run(std::promise<void>& ready);
  void submit(const call_ptr& c);
  outcome wait(const call_ptr& c);
  void start(const call_ptr& c);
  void admit_writes();
  void attempt(const call_ptr& c);
  void on_outcome(const call_ptr& c, std::size_t at, outcome o);
  void finish(const call_ptr& c, outcome o);
  std::size_t slot_for(const std::string& address);
  kj::Promise<kj::Own<link>> get_link(std::size_t i);
  kj::Promise<outcome> send(link& l, const call& c, const std::string& address);
  kj::Promise<outcome> send_lock(link& l, const call& c);
  void run_watch(const std::shared_ptr<struct watch_state>& w);
  void schedule(std::chrono::milliseconds delay, std::function<void()> fn);
};

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

void client::impl::submit(const call_ptr& c) {
  if (std::this_thread::get_id() == io_thread) {
    start(c);
    return;
  }
  try {
    executor->executeSync([&] { start(c); });
  } catch (const kj::Exception&) {
    if (c->done)
      c->done(finished(result::error(result_code::unavailable, "the client was closed")));
  }
}

outcome client::impl::wait(const call_ptr& c) {
  if (std::this_thread::get_id() == io_thread)
    return finished(result::error(result_code::bad_request,
                                  "a blocking call from a callback would deadlock the client's "
                                  "I/O thread: use the async_ calls there"));
  auto answer = std::make_shared<std::promise<outcome>>();
  auto future = answer->get_future();
  c->done = [answer](outcome o) { answer->set_value(std::move(o)); };
  submit(c);
  // The call ends by its deadline; the margin only guards against a stuck loop.
  if (future.wait_until(c->deadline + std::chrono::seconds(5)) != std::future_status::ready)
    return finished(result::error(result_code::unavailable, "the client's I/O thread is stuck"));
  return future.get();
}

void client::impl::start(const call_ptr& c) {
  if (closed) {
    c->done(finished(result::error(result_code::unavailable, "the client was closed")));
    return;
  }
  c->id = ++next_call;
  c->at = preferred;
  live.emplace(c->id, c);
  if (c->is_write()) {
    waiting_writes.push_back(c);
    admit_writes();
  } else {
    attempt(c);
  }
}

void client::impl::admit_writes() {
  while (!waiting_writes.empty() && !closed) {
    // The cluster remembers the last 64 seqs of a client: keep every write in
    // flight within a window of that width, or an old retry would be refused.
    if (!writes_in_flight.empty() &&
        last_seq + 1 - *writes_in_flight.begin() >= opts.max_writes_in_flight)
      return;
    auto c = std::move(waiting_writes.front());
    waiting_writes.pop_front();
    if (!c->done)
      continue;
    c->seq = ++last_seq;
    writes_in_flight.insert(c->seq);
    attempt(c);
  }
}

void client::impl::attempt(const call_ptr& c) {
  auto now = clock_type::now();
  if (now >= c->deadline) {
    finish(
      c, finished(result::error(result_code::unavailable, "no endpoint answered within " +
                                                            std::to_string(opts.timeout.count()) +
                                                            " ms (last: " + c->last_error + ")")));
    return;
  }
  // A waiting acquire may take its whole wait at one node.
  auto budget = std::min<clock_type::duration>(opts.attempt_timeout + c->wait, c->deadline - now);
  auto at = c->at;
  auto address = slots[at].address;
  auto answer = get_link(at).then([this, c, address](kj::Own<link> l) {
    auto& ref = *l;
    return send(ref, *c, address).attach(kj::mv(l));
  });
  auto timeout = provider->getTimer().afterDelay(to_kj(budget)).then([budget] {
    return retry(
      "no answer within " +
        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(budget).count()) +
        " ms",
      true);
  });
  tasks->add(answer.exclusiveJoin(kj::mv(timeout))
               .then([this, c, at](outcome o) { on_outcome(c, at, std::move(o)); },
                     [this, c, at](kj::Exception&& e) {
                       on_outcome(c, at, retry(e.getDescription().cStr(), true));
                     }));
}

void client::impl::on_outcome(const call_ptr& c, std::size_t at, outcome o) {
  if (!c->done)
    return;  // finished already (the client closed)
  if (o.k == outcome::kind::done) {
    preferred = at;
    finish(c, std::move(o));
    return;
  }
  if (o.k == outcome::kind::redirect) {
    if (++c->redirects <= 3) {
      c->at = slot_for(o.redirect_to);
      attempt(c);
      return;
    }
    o = retry("redirected more than 3 times", false);
  }
  c->last_error = slots[at].address + ": " + o.why;
  if (o.link_failed) {
    auto& s = slots[at];
    if (s.ready)
      s.ready->broken = true;
    s.connect_done = true;  // a hung connect is abandoned too
  }
  if (preferred == at)
    preferred = (at + 1) % slots.size();
  c->at = (at + 1) % slots.size();
  if (++c->failures < slots.size()) {
    attempt(c);
    return;
  }
  // Every endpoint failed once: pause before the next round (an election
  // takes a moment), within the call's deadline.
  c->failures = 0;
  auto remaining = c->deadline - clock_type::now();
  auto pause = std::min<clock_type::duration>(std::chrono::milliseconds(50), remaining);
  if (pause < clock_type::duration::zero())
    pause = clock_type::duration::zero();
  tasks->add(provider->getTimer().afterDelay(to_kj(pause)).then([this, c] { attempt(c); }));
}

void client::impl::finish(const call_ptr& c, outcome o) {
  if (!c->done)
    return;
  auto done = std::move(c->done);
  c->done = nullptr;
  live.erase(c->id);
  if (c->is_write() && c->seq != 0)
    writes_in_flight.erase(c->seq);
  try {
    done(std::move(o));
  } catch (...) {
    // A throwing callback must not take the client's I/O thread down.
  }
  if (c->is_write())
    admit_writes();
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
        .then(
          [this, i](kj::Own<kj::AsyncIoStream> stream) {
            slots[i].ready = kj::refcounted<link>(kj::mv(stream), limits);
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

kj::Promise<outcome> client::impl::send(link& l, const call& c, const std::string& address) {
  switch (c.kind) {
    case op::put: {
      auto req = l.cap.putRequest();
      auto rid = req.initId();
      rid.setClientId(id);
      rid.setSeq(c.seq);
      req.setKey(as_text(c.key));
      req.setValue(as_data(c.value));
      if (c.if_version)
        req.initCondition().setIfVersion(*c.if_version);
      return req.send().then([](capnp::Response<Ballot::PutResults> r) {
        auto res = r.getResult();
        if (!res.isVersion())
          return from_error(res.getError());
        result ok;
        ok.version = res.getVersion();
        return finished(std::move(ok));
      });
    }
    case op::get: {
      auto req = l.cap.getRequest();
      req.setKey(as_text(c.key));
      return req.send().then([](capnp::Response<Ballot::GetResults> r) {
        auto res = r.getResult();
        if (!res.isEntry())
          return from_error(res.getError());
        auto entry = res.getEntry();
        result ok;
        auto value = entry.getValue();
        ok.value.assign(reinterpret_cast<const char*>(value.begin()), value.size());
        ok.version = entry.getVersion();
        return finished(std::move(ok));
      });
    }
    case op::del: {
      auto req = l.cap.deleteRequest();
      auto rid = req.initId();
      rid.setClientId(id);
      rid.setSeq(c.seq);
      req.setKey(as_text(c.key));
      if (c.if_version)
        req.initCondition().setIfVersion(*c.if_version);
      return req.send().then([](capnp::Response<Ballot::DeleteResults> r) {
        auto res = r.getResult();
        if (!res.isRevision())
          return from_error(res.getError());
        result ok;
        ok.version = res.getRevision();
        return finished(std::move(ok));
      });
    }
    case op::list: {
      auto req = l.cap.listRequest();
      req.setPrefix(as_text(c.key));
      req.setLimit(c.limit);
      return req.send().then([](capnp::Response<Ballot::ListResults> r) {
        auto res = r.getResult();
        if (!res.isListing())
          return from_error(res.getError());
        auto listing = res.getListing();
        result ok;
        for (auto e : listing.getEntries())
          ok.entries.push_back({to_std(e.getKey()), e.getVersion()});
        ok.truncated = listing.getTruncated();
        ok.version = listing.getRevision();
        return finished(std::move(ok));
      });
    }
    case op::open_session:
    case op::keep_alive:
    case op::close_session:
    case op::acquire:
    case op::release:
    case op::check_token:
    case op::lock_info:
    case op::put_ephemeral:
      return send_lock(l, c);
    case op::status:
      break;
  }
  return l.cap.statusRequest().send().then([address](capnp::Response<Ballot::StatusResults> r) {
    auto res = r.getResult();
    if (!res.isStatus())
      return from_error(res.getError());
    auto st = res.getStatus();
    outcome o;
    o.status.answered_by = address;
    o.status.node_id = st.getNodeId();
    o.status.leader_id = st.getLeaderId();
    o.status.commit_index = st.getCommitIndex();
    for (auto m : st.getMembers())
      o.status.members.push_back(
        {m.getId(), m.getUp(), m.getIsLeader(), m.getCommitIndex(), to_std(m.getEndpoint())});
    return o;
  });
}

namespace {

template <class Request>
void set_id(Request& req, std::uint64_t client, std::uint64_t seq) {
  auto rid = req.initId();
  rid.setClientId(client);
  rid.setSeq(seq);
}

template <class Result>
lock::result session_of(Result res) {
  lock::result ok;
  ok.session = res.getSession().getId();
  ok.deadline = res.getSession().getDeadlineMs();
  return ok;
}

void holders_of(capnp::List<schemas::client::Holder>::Reader in, std::vector<lock::grant>& out,
                const std::string& name) {
  for (auto h : in)
    out.push_back({h.getSession(), name,
                   h.getMode() == schemas::client::LockMode::SHARED ? lock::lock_mode::shared
                                                                    : lock::lock_mode::exclusive,
                   h.getToken()});
}

}  // namespace

kj::Promise<outcome> client::impl::send_lock(link& l, const call& c) {
  switch (c.kind) {
    case op::open_session: {
      auto req = l.cap.openSessionRequest();
      set_id(req, id, c.seq);
      req.setTtlMs(c.token);
      return req.send().then([](capnp::Response<Ballot::OpenSessionResults> r) {
        auto res = r.getResult();
        return res.isSession() ? finished(session_of(res)) : from_error(res.getError());
      });
    }
    case op::keep_alive: {
      auto req = l.cap.keepAliveRequest();
      set_id(req, id, c.seq);
      req.setSession(c.session);
      return req.send().then([](capnp::Response<Ballot::KeepAliveResults> r) {
        auto res = r.getResult();
        return res.isSession() ? finished(session_of(res)) : from_error(res.getError());
      });
    }
    case op::close_session: {
      auto req = l.cap.closeSessionRequest();
      set_id(req, id, c.seq);
      req.setSession(c.session);
      return req.send().then([](capnp::Response<Ballot::CloseSessionResults> r) {
        auto res = r.getResult();
        return res.isOk() ? finished(lock::result{}) : from_error(res.getError());
      });
    }
    case op::acquire: {
      auto req = l.cap.acquireRequest();
      set_id(req, id, c.seq);
      req.setSession(c.session);
      req.setName(as_text(c.key));
      req.setMode(c.mode == lock::lock_mode::shared ? schemas::client::LockMode::SHARED
                                                    : schemas::client::LockMode::EXCLUSIVE);
      req.setWaitMs(static_cast<std::uint64_t>(c.wait.count()));
      req.setLockDelayMs(static_cast<std::uint64_t>(c.delay.count()));
      return req.send().then([](capnp::Response<Ballot::AcquireResults> r) {
        auto res = r.getResult();
        if (!res.isToken())
          return from_error(res.getError());
        lock::result ok;
        ok.token = res.getToken();
        return finished(std::move(ok));
      });
    }
    case op::release: {
      auto req = l.cap.releaseRequest();
      set_id(req, id, c.seq);
      req.setSession(c.session);
      req.setName(as_text(c.key));
      return req.send().then([](capnp::Response<Ballot::ReleaseResults> r) {
        auto res = r.getResult();
        return res.isOk() ? finished(lock::result{}) : from_error(res.getError());
      });
    }
    case op::check_token: {
      auto req = l.cap.checkTokenRequest();
      req.setName(as_text(c.key));
      req.setToken(c.token);
      return req.send().then([](capnp::Response<Ballot::CheckTokenResults> r) {
        auto res = r.getResult();
        if (!res.isValid())
          return from_error(res.getError());
        return finished(res.getValid() ? lock::result{}
                                       : lock::result::error(lock::result_code::stale));
      });
    }
    case op::lock_info: {
      auto req = l.cap.lockInfoRequest();
      req.setName(as_text(c.key));
      return req.send().then([name = c.key](capnp::Response<Ballot::LockInfoResults> r) {
        auto res = r.getResult();
        if (!res.isInfo())
          return from_error(res.getError());
        lock::result ok;
        holders_of(res.getInfo().getHolders(), ok.holders, name);
        holders_of(res.getInfo().getWaiters(), ok.waiters, name);
        ok.deadline = res.getInfo().getDelayUntilMs();
        return finished(std::move(ok));
      });
    }
    case op::put_ephemeral: {
      auto req = l.cap.putEphemeralRequest();
      set_id(req, id, c.seq);
      req.setSession(c.session);
      req.setKey(as_text(c.key));
      req.setValue(as_data(c.value));
      return req.send().then([](capnp::Response<Ballot::PutEphemeralResults> r) {
        auto res = r.getResult();
        if (!res.isVersion())
          return from_error(res.getError());
        lock::result ok;
        ok.revision = res.getVersion();
        return finished(std::move(ok));
      });
    }
    default:
      break;
  }
  return finished(lock::result::error(lock::result_code::bad_request, "not a lock call"));
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

// -- public interface ----------------------------------------------------------

namespace {

std::uint64_t random_client_id() {
  std::random_device rd;
  std::mt19937_64 rng{(static_cast<std::uint64_t>(rd()) << 32) ^ rd()};
  std::uint64_t id = 0;
  while (id == 0)
    id = rng();
  return id;
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
  p.limits.traversalLimitInWords = opts.max_message_bytes / sizeof(capnp::word);
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

namespace {

call_ptr make_call(op kind, std::chrono::milliseconds timeout) {
  auto c = std::make_shared<call>();
  c->kind = kind;
  c->deadline = clock_type::now() + timeout;
  return c;
}

}  // namespace

kv::result client::put(const std::string& key, const std::string& value,
                       std::optional<std::uint64_t> if_version) {
  auto c = make_call(op::put, impl_->opts.timeout);
  c->key = key;
  c->value = value;
  c->if_version = if_version;
  return impl_->wait(c).res;
}

kv::result client::get(const std::string& key) {
  auto c = make_call(op::get, impl_->opts.timeout);
  c->key = key;
  return impl_->wait(c).res;
}

kv::result client::del(const std::string& key, std::optional<std::uint64_t> if_version) {
  auto c = make_call(op::del, impl_->opts.timeout);
  c->key = key;
  c->if_version = if_version;
  return impl_->wait(c).res;
}

kv::result client::list(const std::string& prefix, std::uint32_t limit) {
  auto c = make_call(op::list, impl_->opts.timeout);
  c->key = prefix;
  c->limit = limit;
  return impl_->wait(c).res;
}

cluster_status client::status() {
  auto o = impl_->wait(make_call(op::status, impl_->opts.timeout));
  if (!o.res.ok()) {
    o.status.code = o.res.code;
    o.status.message = o.res.message;
  }
  return o.status;
}

void client::async_put(const std::string& key, const std::string& value,
                       std::optional<std::uint64_t> if_version, callback done) {
  auto c = make_call(op::put, impl_->opts.timeout);
  c->key = key;
  c->value = value;
  c->if_version = if_version;
  c->done = [done = std::move(done)](outcome o) { done(std::move(o.res)); };
  impl_->submit(c);
}

void client::async_get(const std::string& key, callback done) {
  auto c = make_call(op::get, impl_->opts.timeout);
  c->key = key;
  c->done = [done = std::move(done)](outcome o) { done(std::move(o.res)); };
  impl_->submit(c);
}

void client::async_del(const std::string& key, std::optional<std::uint64_t> if_version,
                       callback done) {
  auto c = make_call(op::del, impl_->opts.timeout);
  c->key = key;
  c->if_version = if_version;
  c->done = [done = std::move(done)](outcome o) { done(std::move(o.res)); };
  impl_->submit(c);
}

void client::async_list(const std::string& prefix, std::uint32_t limit, callback done) {
  auto c = make_call(op::list, impl_->opts.timeout);
  c->key = prefix;
  c->limit = limit;
  c->done = [done = std::move(done)](outcome o) { done(std::move(o.res)); };
  impl_->submit(c);
}

void client::async_status(status_callback done) {
  auto c = make_call(op::status, impl_->opts.timeout);
  c->done = [done = std::move(done)](outcome o) {
    if (!o.res.ok()) {
      o.status.code = o.res.code;
      o.status.message = o.res.message;
    }
    done(std::move(o.status));
  };
  impl_->submit(c);
}

// -- the lock service -----------------------------------------------------------

namespace {

call_ptr lock_call(op kind, std::chrono::milliseconds timeout, lock::session_id session,
                   std::string name) {
  auto c = make_call(kind, timeout);
  c->session = session;
  c->key = std::move(name);
  return c;
}

}  // namespace

lock::result client::open_session(std::chrono::milliseconds ttl) {
  auto c = lock_call(op::open_session, impl_->opts.timeout, 0, {});
  c->token = static_cast<std::uint64_t>(ttl.count());
  return impl_->wait(c).lres;
}

lock::result client::keep_alive(lock::session_id session) {
  return impl_->wait(lock_call(op::keep_alive, impl_->opts.timeout, session, {})).lres;
}

lock::result client::close_session(lock::session_id session) {
  return impl_->wait(lock_call(op::close_session, impl_->opts.timeout, session, {})).lres;
}

lock::result client::acquire(lock::session_id session, const std::string& name,
                             lock::lock_mode mode, std::chrono::milliseconds wait,
                             std::chrono::milliseconds lock_delay) {
  auto c = lock_call(op::acquire, impl_->opts.timeout + wait, session, name);
  c->mode = mode;
  c->wait = wait;
  c->delay = lock_delay;
  return impl_->wait(c).lres;
}

lock::result client::release(lock::session_id session, const std::string& name) {
  return impl_->wait(lock_call(op::release, impl_->opts.timeout, session, name)).lres;
}

lock::result client::check_token(const std::string& name, std::uint64_t token) {
  auto c = lock_call(op::check_token, impl_->opts.timeout, 0, name);
  c->token = token;
  return impl_->wait(c).lres;
}

lock::result client::lock_info(const std::string& name) {
  return impl_->wait(lock_call(op::lock_info, impl_->opts.timeout, 0, name)).lres;
}

lock::result client::put_ephemeral(lock::session_id session, const std::string& key,
                                   const std::string& value) {
  auto c = lock_call(op::put_ephemeral, impl_->opts.timeout, session, key);
  c->value = value;
  return impl_->wait(c).lres;
}

void client::async_open_session(std::chrono::milliseconds ttl, lock_callback done) {
  auto c = lock_call(op::open_session, impl_->opts.timeout, 0, {});
  c->token = static_cast<std::uint64_t>(ttl.count());
  c->done = [done = std::move(done)](outcome o) { done(std::move(o.lres)); };
  impl_->submit(c);
}

void client::async_keep_alive(lock::session_id session, lock_callback done) {
  auto c = lock_call(op::keep_alive, impl_->opts.timeout, session, {});
  c->done = [done = std::move(done)](outcome o) { done(std::move(o.lres)); };
  impl_->submit(c);
}

void client::async_close_session(lock::session_id session, lock_callback done) {
  auto c = lock_call(op::close_session, impl_->opts.timeout, session, {});
  c->done = [done = std::move(done)](outcome o) { done(std::move(o.lres)); };
  impl_->submit(c);
}

void client::async_acquire(lock::session_id session, const std::string& name, lock::lock_mode mode,
                           std::chrono::milliseconds wait, lock_callback done) {
  auto c = lock_call(op::acquire, impl_->opts.timeout + wait, session, name);
  c->mode = mode;
  c->wait = wait;
  c->done = [done = std::move(done)](outcome o) { done(std::move(o.lres)); };
  impl_->submit(c);
}

void client::async_release(lock::session_id session, const std::string& name, lock_callback done) {
  auto c = lock_call(op::release, impl_->opts.timeout, session, name);
  c->done = [done = std::move(done)](outcome o) { done(std::move(o.lres)); };
  impl_->submit(c);
}

void client::schedule(std::chrono::milliseconds delay, std::function<void()> fn) {
  impl_->schedule(delay, std::move(fn));
}

// -- watches ---------------------------------------------------------------------

struct watch_state {
  std::string key;
  bool prefix = false;
  std::atomic<std::uint64_t> revision{0};
  /// Until the node reports where a from-now watch starts.
  std::atomic<bool> from_now{false};
  client::events_callback on_events;
  client::lock_callback on_end;
  // I/O thread only:
  bool stopped = false;
  kj::Canceler canceler;
  std::size_t at = 0;
};

namespace {

/// The capability the node streams a watch's events to.
class sink_server final : public schemas::client::WatchSink::Server {
 public:
  explicit sink_server(std::shared_ptr<watch_state> w) : w_(std::move(w)) {}

  kj::Promise<void> events(EventsContext context) override {
    if (w_->stopped)
      return kj::READY_NOW;
    auto p = context.getParams();
    auto seen = w_->revision.load();
    std::vector<kv::event> evs;
    for (auto e : p.getEvents()) {
      // A resumed watch starts after the last revision, but stay exact.
      if (e.getRevision() <= seen)
        continue;
      kv::event ev;
      ev.revision = e.getRevision();
      ev.type =
        e.getType() == schemas::client::EventType::PUT ? kv::event_type::put : kv::event_type::del;
      ev.key = to_std(e.getKey());
      auto v = e.getValue();
      ev.value.assign(reinterpret_cast<const char*>(v.begin()), v.size());
      evs.push_back(std::move(ev));
    }
    auto upto = std::max(seen, p.getRevision());
    w_->revision = upto;
    w_->from_now = false;
    if (!evs.empty() && w_->on_events) {
      try {
        w_->on_events(std::move(evs), upto);
      } catch (...) {
        // A throwing callback must not take the client's I/O thread down.
      }
    }
    return kj::READY_NOW;
  }

 private:
  std::shared_ptr<watch_state> w_;
};

void end_watch(watch_state& w, lock::result why) {
  if (w.stopped)
    return;
  w.stopped = true;
  if (w.on_end) {
    try {
      w.on_end(std::move(why));
    } catch (...) {
      // as above
    }
  }
}

}  // namespace

void client::impl::run_watch(const std::shared_ptr<watch_state>& w) {
  if (closed || w->stopped)
    return;
  auto at = w->at;
  auto running = get_link(at).then([w](kj::Own<link> l) {
    auto req = l->cap.watchRequest();
    req.setKey(as_text(w->key));
    req.setPrefix(w->prefix);
    req.setFromRevision(w->revision.load());
    req.setFromNow(w->from_now.load());
    req.setSink(kj::heap<sink_server>(w));
    return req.send().attach(kj::mv(l)).then([](capnp::Response<Ballot::WatchResults> r) {
      auto o = from_error(r.getResult().getError());
      return o;
    });
  });
  auto again = [this, w, at](bool link_failed) {
    if (closed || w->stopped)
      return;
    if (link_failed && slots[at].ready)
      slots[at].ready->broken = true;
    if (link_failed)
      slots[at].connect_done = true;
    w->at = (at + 1) % slots.size();
    schedule(std::chrono::milliseconds(100), [this, w] { run_watch(w); });
  };
  tasks->add(w->canceler.wrap(kj::mv(running))
               .then(
                 [w, again](outcome o) {
                   auto code = o.lres.code;
                   if (o.k == outcome::kind::done && (code == lock::result_code::compacted ||
                                                      code == lock::result_code::bad_request)) {
                     end_watch(*w, std::move(o.lres));
                     return;
                   }
                   again(false);
                 },
                 [w, again](kj::Exception&&) {
                   if (!w->stopped)
                     again(true);
                 }));
}

namespace {

class watch_impl final : public watch_handle {
 public:
  watch_impl(std::shared_ptr<watch_state> w, std::function<void(std::function<void()>)> on_io)
      : w_(std::move(w)), on_io_(std::move(on_io)) {}

  ~watch_impl() override {
    on_io_([w = w_] {
      w->stopped = true;
      w->canceler.cancel("the watch was stopped");
    });
  }

  std::uint64_t revision() const override { return w_->revision.load(); }
  bool started() const override { return !w_->from_now.load(); }

 private:
  std::shared_ptr<watch_state> w_;
  std::function<void(std::function<void()>)> on_io_;
};

}  // namespace

std::unique_ptr<watch_handle> client::watch(const std::string& key, bool prefix,
                                            std::optional<std::uint64_t> from_revision,
                                            events_callback on_events, lock_callback on_end) {
  auto w = std::make_shared<watch_state>();
  w->key = key;
  w->prefix = prefix;
  w->revision = from_revision.value_or(0);
  w->from_now = !from_revision;
  w->on_events = std::move(on_events);
  w->on_end = std::move(on_end);
  auto* p = impl_.get();
  // Runs `fn` on the I/O thread, now if this is it; nothing if it is gone.
  auto on_io = [p](std::function<void()> fn) {
    if (std::this_thread::get_id() == p->io_thread) {
      fn();
      return;
    }
    try {
      p->executor->executeSync([&] { fn(); });
    } catch (const kj::Exception&) {
      // The client closed: every watch ended with it.
    }
  };
  on_io([p, w] {
    w->at = p->preferred;
    p->run_watch(w);
  });
  return std::make_unique<watch_impl>(w, on_io);
}

}  // namespace ballot::client
