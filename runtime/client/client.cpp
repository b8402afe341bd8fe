// The client library's call machinery: a call's answers mapped to outcomes,
// its tries at the endpoints on the leader follower's rule (hints, failures,
// pauses, overloaded), the write window, and `wait`, the one helper through
// which every blocking call waits for its asynchronous one.
#include "runtime/client/client.hpp"

#include <algorithm>
#include <random>
#include <utility>

#include "runtime/client/client_impl.hpp"

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
    case result_code::expired:
      return lock::result_code::expired;
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
    case E::EXPIRED:
      // Not retried: the same request id would be refused again.
      return refused(result_code::expired, lock::result_code::expired, to_std(e.getExpired()));
    case E::ALREADY_EXISTS: {
      // Only auth changes answer it; like a create-only put on an existing
      // key, it is a failed precondition (client_auth.cpp maps it back).
      auto r = result::error(result_code::version_mismatch, to_std(e.getAlreadyExists()));
      return finished(std::move(r));
    }
  }
  return retry("an error variant this client does not know", false);
}

std::uint64_t jitter() {
  thread_local std::minstd_rand rng{std::random_device{}()};
  return rng();
}

}  // namespace detail

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
        ids.last_seq() + 1 - *writes_in_flight.begin() >= opts.max_writes_in_flight)
      return;
    auto c = std::move(waiting_writes.front());
    waiting_writes.pop_front();
    if (!c->done)
      continue;
    // Only between writes: a retry must keep the id it was sent with.
    if (writes_in_flight.empty() && renew_id &&
        ids.stale(clock_type::now() - writes_idle_since >= fresh_id_after)) {
      ids.renew(random_client_id());
      id = ids.id();
    }
    c->seq = ids.next_seq();
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

kj::Promise<outcome> client::impl::send(link& l, const call& c, const std::string& address) {
  if (l.refused)
    return refused_link(l);
  switch (c.kind) {
    case op::put:
    case op::get:
    case op::del:
    case op::list:
    case op::status:
      return send_kv(l, c, address);
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
  }
  return retry("an operation this client does not know", false);
}

void client::impl::finish(const call_ptr& c, outcome o) {
  if (!c->done)
    return;
  auto done = std::move(c->done);
  c->done = nullptr;
  live.erase(c->id);
  if (c->is_write() && c->seq != 0) {
    // The cluster forgot this id: its next writes need a fresh one.
    if (o.res.code == result_code::expired)
      ids.forgotten(id);
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

}  // namespace ballot::client
