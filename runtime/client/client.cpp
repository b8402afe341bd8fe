#include "runtime/client/client.hpp"

#include <algorithm>
#include <random>
#include <stdexcept>
#include <utility>

#include "runtime/client/client_impl.hpp"
#include "runtime/client/endpoint.hpp"
#include "runtime/tls/coalescing_stream.hpp"
#include "runtime/tls/pem_file.hpp"

namespace ballot::client {

namespace detail {

using kv::result;
using kv::result_code;

namespace {

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
    case result_code::overloaded:
      return lock::result_code::overloaded;
    case result_code::quota_exceeded:
      return lock::result_code::quota_exceeded;
    case result_code::request_id_reused:
      return lock::result_code::request_id_reused;
    case result_code::unauthenticated:
      return lock::result_code::unauthenticated;
    case result_code::permission_denied:
      return lock::result_code::permission_denied;
    case result_code::version_mismatch:
    case result_code::unavailable:
      break;
  }
  return lock::result_code::unavailable;
}

}  // namespace

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

namespace {

/// A refusal that means the same to key/value and lock-service calls.
outcome refused(result_code kv_code, lock::result_code lock_code, std::string message) {
  outcome o;
  o.res = result::error(kv_code, message);
  o.lres = lock::result::error(lock_code, std::move(message));
  return o;
}

}  // namespace

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
    // Refusals before anything was done; they mean the same to key/value and
    // lock-service calls, so both answers are set.
    case E::OVERLOADED:
      return refused(result_code::overloaded, lock::result_code::overloaded,
                     to_std(e.getOverloaded()));
    case E::QUOTA_EXCEEDED: {
      auto quota = e.getQuotaExceeded();
      auto o = refused(result_code::quota_exceeded, lock::result_code::quota_exceeded,
                       "the state is over the quota of " + std::to_string(quota) + " bytes");
      o.res.version = quota;
      return o;
    }
    case E::REQUEST_ID_REUSED:
      return refused(result_code::request_id_reused, lock::result_code::request_id_reused,
                     "the request id already named a different command");
    case E::LIMIT_REACHED:
      // Only lock-service calls (sessions, waiters) reach a limit; the
      // key/value API has no such code and calls it a refused request.
      return refused(result_code::bad_request, lock::result_code::limit_reached,
                     "limit reached: " + to_std(e.getLimitReached()));
    case E::UNAUTHENTICATED:
      return refused(result_code::unauthenticated, lock::result_code::unauthenticated,
                     to_std(e.getUnauthenticated()));
    case E::PERMISSION_DENIED:
      return refused(result_code::permission_denied, lock::result_code::permission_denied,
                     to_std(e.getPermissionDenied()));
    case E::ALREADY_EXISTS: {
      // Only auth changes answer it; like a create-only put on an existing
      // key, it is a failed precondition (client_auth.cpp maps it back).
      auto r = result::error(result_code::version_mismatch, to_std(e.getAlreadyExists()));
      return finished(std::move(r));
    }
  }
  return retry("an error variant this client does not know", false);
}

namespace {

/// Whether an answer is "overloaded": the client tries again after a pause.
bool is_overloaded(const outcome& o) {
  return o.k == outcome::kind::done &&
         (o.res.code == result_code::overloaded || o.lres.code == lock::result_code::overloaded);
}

/// A random number for the pauses after overloaded answers, so that many
/// clients refused together do not come back together.
std::uint64_t jitter() {
  thread_local std::minstd_rand rng{std::random_device{}()};
  return rng();
}

}  // namespace

}  // namespace detail

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
  std::vector<routing::leader_follower::member_id> ids;
  for (std::size_t i = 0; i < slots.size(); ++i)
    ids.push_back(i);
  c->route.emplace(routing::follower_config{}, std::move(ids), preferred, c->deadline);
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
    // Only between writes: a retry must keep the id it was sent with.
    if (writes_in_flight.empty() && renew_id && last_seq > 0 &&
        clock_type::now() - writes_idle_since >= fresh_id_after) {
      id = random_client_id();
      last_seq = 0;
    }
    c->seq = ++last_seq;
    writes_in_flight.insert(c->seq);
    attempt(c);
  }
}

void client::impl::attempt(const call_ptr& c) {
  auto now = clock_type::now();
  auto next = c->route->next(now);
  if (next.what == routing::leader_follower::verdict::give_up && c->last_overload) {
    finish(c, std::move(*c->last_overload));
    return;
  }
  if (next.what == routing::leader_follower::verdict::give_up) {
    finish(
      c, finished(result::error(result_code::unavailable, "no endpoint answered within " +
                                                            std::to_string(opts.timeout.count()) +
                                                            " ms (last: " + c->last_error + ")")));
    return;
  }
  if (next.what == routing::leader_follower::verdict::pause) {
    tasks->add(provider->getTimer().afterDelay(to_kj(next.at - now)).then([this, c] {
      if (c->done)
        attempt(c);
    }));
    return;
  }
  // A waiting acquire may take its whole wait at one node.
  auto budget = std::min<clock_type::duration>(opts.attempt_timeout + c->wait, c->deadline - now);
  auto at = static_cast<std::size_t>(next.member);
  auto address = slots[at].address;
  auto answer = get_link(at).then([this, c, address](kj::Own<link> l) {
    auto& ref = *l;
    return send(ref, *c, address).attach(kj::mv(l));
  });
  // A try cut short by the call's deadline says less than the failure
  // before it (a refused TLS handshake, say): that one stays the reason.
  bool cut = budget < opts.attempt_timeout + c->wait && c->last_error != no_answer_yet;
  auto timeout = provider->getTimer().afterDelay(to_kj(budget)).then([budget, cut] {
    if (cut)
      return retry("", true);
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
  auto& route = *c->route;
  auto now = clock_type::now();
  if (is_overloaded(o)) {
    // Nothing was done: the same request (same id) again after a pause, at
    // the same endpoint, while the call's deadline allows; then the answer
    // is overloaded.
    c->last_error = slots[at].address + ": overloaded (" + o.res.message + ")";
    c->last_overload = o;
    route.overloaded(jitter(), now);
    attempt(c);
    return;
  }
  if (o.k == outcome::kind::done) {
    preferred = at;
    route.succeeded();
    finish(c, std::move(o));
    return;
  }
  if (o.k == outcome::kind::redirect) {
    auto hops = route.hops();
    route.not_leader(slot_for(o.redirect_to), now);
    if (route.hops() > hops) {
      attempt(c);
      return;
    }
    // Not followed (too many hops, or it names the node itself): counted as
    // this endpoint's failure.
    o = retry("not the leader; its hint " + o.redirect_to + " was not followed", false);
  } else {
    route.failed(now);
  }
  if (!o.why.empty())
    c->last_error = slots[at].address + ": " + o.why;
  if (o.link_failed) {
    auto& s = slots[at];
    if (s.ready)
      s.ready->broken = true;
    s.connect_done = true;  // a hung connect is abandoned too
  }
  if (preferred == at)
    preferred = static_cast<std::size_t>(route.target());
  attempt(c);
}

void client::impl::finish(const call_ptr& c, outcome o) {
  if (!c->done)
    return;
  auto done = std::move(c->done);
  c->done = nullptr;
  live.erase(c->id);
  if (c->is_write() && c->seq != 0) {
    writes_in_flight.erase(c->seq);
    if (writes_in_flight.empty())
      writes_idle_since = clock_type::now();
  }
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
          return authenticate(kj::refcounted<link>(kj::mv(stream), limits));
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

kj::Promise<outcome> client::impl::send(link& l, const call& c, const std::string& address) {
  if (l.refused)
    return refused_link(l);
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
      req.setStartAfter(as_text(c.start_after));
      req.setWithValues(c.with_values);
      return req.send().then([](capnp::Response<Ballot::ListResults> r) {
        auto res = r.getResult();
        if (!res.isListing())
          return from_error(res.getError());
        auto listing = res.getListing();
        result ok;
        for (auto e : listing.getEntries()) {
          auto value = e.getValue();
          ok.entries.push_back(
            {to_std(e.getKey()), e.getVersion(),
             std::string(reinterpret_cast<const char*>(value.begin()), value.size())});
        }
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
    case op::auth_change:
    case op::auth_list:
    case op::whoami:
      return send_auth(l, c);
    case op::snapshot:
      return send_backup(l, c);
    case op::member_list:
    case op::member_change:
      return send_members(l, c);
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
      o.status.members.push_back({m.getId(), m.getUp(), m.getIsLeader(), m.getCommitIndex(),
                                  to_std(m.getEndpoint()), m.getLearner(), m.getLag()});
    return o;
  });
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

namespace detail {

std::uint64_t random_client_id() {
  std::random_device rd;
  std::mt19937_64 rng{(static_cast<std::uint64_t>(rd()) << 32) ^ rd()};
  std::uint64_t id = 0;
  while (id == 0)
    id = rng();
  return id;
}

}  // namespace detail

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
  return list(prefix, limit, {}, false);
}

kv::result client::list(const std::string& prefix, std::uint32_t limit,
                        const std::string& start_after, bool with_values) {
  auto c = make_call(op::list, impl_->opts.timeout);
  c->key = prefix;
  c->limit = limit;
  c->start_after = start_after;
  c->with_values = with_values;
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
  async_list(prefix, limit, {}, false, std::move(done));
}

void client::async_list(const std::string& prefix, std::uint32_t limit,
                        const std::string& start_after, bool with_values, callback done) {
  auto c = make_call(op::list, impl_->opts.timeout);
  c->key = prefix;
  c->limit = limit;
  c->start_after = start_after;
  c->with_values = with_values;
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

}  // namespace ballot::client
