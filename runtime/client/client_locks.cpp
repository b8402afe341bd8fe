// The lock service's calls of the client library: sessions, locks, fencing
// tokens, lock info and ephemeral keys.
#include <string>
#include <utility>
#include <vector>

#include "runtime/client/client.hpp"
#include "runtime/client/client_impl.hpp"

namespace ballot::client {

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
  // open_session answers the session's secret in `token` (lock::result's
  // convention); keep_alive answers 0 there.
  ok.token = res.getSession().getSecret();
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

kj::Promise<outcome> client::impl::send_session_call(link& l, const call& c) {
  switch (c.kind) {
    case op::open_session: {
      auto req = l.cap.openSessionRequest();
      set_id(req, id, c.seq);
      req.setTtlMs(c.token);
      return req.send().then([this](capnp::Response<Ballot::OpenSessionResults> r) {
        auto res = r.getResult();
        if (!res.isSession())
          return from_error(res.getError());
        auto s = session_of(res);
        remember_secret(s.session, s.token);
        return finished(std::move(s));
      });
    }
    case op::keep_alive: {
      auto req = l.cap.keepAliveRequest();
      set_id(req, id, c.seq);
      req.setSession(c.session);
      req.setSecret(secret_of(c.session));
      return req.send().then([](capnp::Response<Ballot::KeepAliveResults> r) {
        auto res = r.getResult();
        return res.isSession() ? finished(session_of(res)) : from_error(res.getError());
      });
    }
    case op::close_session: {
      auto req = l.cap.closeSessionRequest();
      set_id(req, id, c.seq);
      req.setSession(c.session);
      req.setSecret(secret_of(c.session));
      return req.send().then([](capnp::Response<Ballot::CloseSessionResults> r) {
        auto res = r.getResult();
        return res.isOk() ? finished(lock::result{}) : from_error(res.getError());
      });
    }
    default:
      break;
  }
  return finished(lock::result::error(lock::result_code::bad_request, "not a lock call"));
}

kj::Promise<outcome> client::impl::send_lock_call(link& l, const call& c) {
  switch (c.kind) {
    case op::acquire: {
      auto req = l.cap.acquireRequest();
      set_id(req, id, c.seq);
      req.setSession(c.session);
      req.setSecret(secret_of(c.session));
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
      req.setSecret(secret_of(c.session));
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
    default:
      break;
  }
  return finished(lock::result::error(lock::result_code::bad_request, "not a lock call"));
}

kj::Promise<outcome> client::impl::send_lock(link& l, const call& c) {
  switch (c.kind) {
    case op::open_session:
    case op::keep_alive:
    case op::close_session:
      return send_session_call(l, c);
    case op::acquire:
    case op::release:
    case op::check_token:
    case op::lock_info:
      return send_lock_call(l, c);
    case op::put_ephemeral: {
      auto req = l.cap.putEphemeralRequest();
      set_id(req, id, c.seq);
      req.setSession(c.session);
      req.setSecret(secret_of(c.session));
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

std::uint64_t client::session_secret(lock::session_id session) const {
  return impl_->secret_of(session);
}

void client::adopt_session(lock::session_id session, std::uint64_t secret) {
  impl_->remember_secret(session, secret);
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

}  // namespace ballot::client
