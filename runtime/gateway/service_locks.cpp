// The lock-service calls of the gateway: sessions, locks, tokens, ephemeral
// keys. Commands go through the log like key/value writes; the leader stamps
// its clock into them. A waiting acquire listens to the node's change feed
// for its grant.
#include <string>
#include <utility>

#include "actors/lock/acquire_waiter.hpp"
#include "actors/lock/lock_codec.hpp"
#include "actors/lock/wait_limit.hpp"
#include "runtime/gateway/call_util.hpp"
#include "runtime/gateway/password.hpp"
#include "runtime/gateway/service.hpp"

namespace ballot::gateway {

namespace {

using lock::result_code;
using clock_type = std::chrono::steady_clock;

paxos::command lock_command(schemas::client::RequestId::Reader id, const lock::command& cmd) {
  return {id.getClientId(), id.getSeq(), lock::encode(cmd)};
}

/// Why `name` cannot be a lock name, or "" if it can.
std::string bad_name(capnp::Text::Reader name, std::size_t max_bytes) {
  if (name.size() == 0)
    return "the lock name is empty";
  if (name.size() > max_bytes)
    return over_limit("lock name " + preview(name), name.size(), max_bytes);
  return {};
}

schemas::client::LockMode to_capnp(lock::lock_mode m) {
  return m == lock::lock_mode::shared ? schemas::client::LockMode::SHARED
                                      : schemas::client::LockMode::EXCLUSIVE;
}

template <class Builder>
void fill_holders(Builder list, const std::vector<lock::grant>& gs) {
  for (unsigned i = 0; i < gs.size(); ++i) {
    list[i].setSession(gs[i].session);
    list[i].setMode(to_capnp(gs[i].mode));
    list[i].setToken(gs[i].token);
  }
}

std::optional<lock::result> decoded(const bridge_reply& r) {
  if (r.st != bridge_reply::status::ok)
    return std::nullopt;
  lock::result res;
  std::string error;
  if (!lock::decode(r.result, res, error))
    return std::nullopt;
  return res;
}

}  // namespace

/// One waiting acquire of a client: the waiter's core and what its driver
/// needs. The gateway hears grants from the change feed, so the waiter looks
/// once (a retried acquire may have been granted before the feed listened)
/// and then only withdraws at the deadline.
struct service::grant_wait {
  grant_wait(AcquireContext context, lock::session_id session, std::string name,
             lock::credential cred, std::uint64_t wait_ms)
      : context(context), session(session), name(std::move(name)), cred(std::move(cred)) {
    if (wait_ms == 0)
      return;
    lock::waiter_config cfg;
    cfg.wait = std::chrono::milliseconds(wait_ms);
    cfg.max_look = std::chrono::milliseconds(0);
    waiter.emplace(cfg, clock_type::now());
  }

  AcquireContext context;
  lock::session_id session;
  std::string name;
  lock::credential cred;
  /// Only for an acquire with a wait.
  std::optional<lock::acquire_waiter> waiter;
  std::uint64_t wait_id = 0;
  /// The feed's grant (nullopt: the session ended); never, without a wait.
  kj::ForkedPromise<std::optional<std::uint64_t>> granted =
    kj::Promise<std::optional<std::uint64_t>>(kj::NEVER_DONE).fork();
};

kj::Promise<std::optional<lock::result>> service::own_lock_write(const lock::command& cmd) {
  return ask(true, own_command(cmd), {}).then([this](const bridge_reply& r) {
    own_answered(r);
    return decoded(r);
  });
}

kj::Promise<std::optional<lock::result>> service::lock_read(const lock::query& q) {
  return ask(false, {}, lock::encode(q)).then([](const bridge_reply& r) { return decoded(r); });
}

kj::Promise<void> service::openSession(connection_context& conn, OpenSessionContext context) {
  auto p = context.getParams();
  if (auto d = check_user(conn, "openSession"))
    return refuse_access(context, true, d->message);
  // The secret binds the session to whoever opened it (see lock::credential).
  auto secret = random_secret();
  auto cmd = lock_command(p.getId(), lock::open_session{0, p.getTtlMs(), {user_of(conn), secret}});
  return track(
    ask(true, std::move(cmd), {}).then([this, &conn, context](const bridge_reply& r) mutable {
      auto out = context.getResults().initResult();
      if (auto res = settle_lock(r, opts_, 0, [&] { return out.initError(); })) {
        // A retry answered from the log carries the first attempt's secret,
        // which this call does not know: the stored one comes back in the
        // result (the session table keeps it), so read it from there.
        auto s = out.initSession();
        s.setId(res->session);
        s.setDeadlineMs(res->deadline);
        s.setSecret(res->token);
        if (conn.session_secrets.size() < connection_context::max_remembered_sessions)
          conn.session_secrets[res->session] = res->token;
      }
    }));
}

kj::Promise<void> service::keepAlive(connection_context& conn, KeepAliveContext context) {
  auto p = context.getParams();
  auto session = p.getSession();
  if (auto d = check_user(conn, "keepAlive"))
    return refuse_access(context, true, d->message);
  // The call's request id is not needed: a keep-alive applied twice only
  // moves the deadline again, so it goes with others under the gateway's.
  auto k = lock::keep_alive{0, session, credential_for(conn, session, p.getSecret())};
  return track(coalesced_keep_alive(std::move(k))
                 .then([this, context, session](const bridge_reply& r) mutable {
                   auto out = context.getResults().initResult();
                   if (auto res = settle_lock(r, opts_, session, [&] { return out.initError(); })) {
                     auto s = out.initSession();
                     s.setId(session);
                     s.setDeadlineMs(res->deadline);
                   }
                 }));
}

kj::Promise<void> service::closeSession(connection_context& conn, CloseSessionContext context) {
  auto p = context.getParams();
  auto session = p.getSession();
  if (auto d = check_user(conn, "closeSession"))
    return refuse_access(context, true, d->message);
  auto cmd = lock_command(
    p.getId(), lock::close_session{0, session, credential_for(conn, session, p.getSecret())});
  return track(
    ask(true, std::move(cmd), {}).then([this, context, session](const bridge_reply& r) mutable {
      auto out = context.getResults().initResult();
      if (settle_lock(r, opts_, session, [&] { return out.initError(); }))
        out.setOk();
    }));
}

kj::Promise<void> service::acquire(connection_context& conn, AcquireContext context) {
  auto p = context.getParams();
  if (auto bad = bad_name(p.getName(), opts_.max_key_bytes); !bad.empty())
    return bad_request(context, bad);
  auto session = p.getSession();
  auto name = to_std(p.getName());
  if (auto d = check(conn, auth::access::lock, name, false, "acquire"))
    return refuse_access(context, d->unauthenticated, d->message);
  auto cred = credential_for(conn, session, p.getSecret());
  auto wait_ms = p.getWaitMs();
  if (wait_ms > lock::max_acquire_wait_ms)
    return bad_request(context, lock::wait_over_maximum(wait_ms));
  auto mode = p.getMode() == schemas::client::LockMode::SHARED ? lock::lock_mode::shared
                                                               : lock::lock_mode::exclusive;
  auto cmd = lock_command(
    p.getId(), lock::acquire{0, session, name, mode, wait_ms > 0, p.getLockDelayMs(), cred});
  // Listening starts before the acquire is proposed, so a grant the local
  // replica applies after it cannot slip by unseen.
  auto g = std::make_shared<grant_wait>(context, session, name, cred, wait_ms);
  if (wait_ms > 0) {
    auto [promise, done] = handoff<std::optional<std::uint64_t>>();
    g->wait_id = opts_.feed->on_grant(session, name, std::move(done));
    g->granted = promise.fork();
  }
  auto answered = ask(true, std::move(cmd), {});
  return track(answered
                 .then([this, g](const bridge_reply& r) mutable -> kj::Promise<void> {
                   auto out = g->context.getResults().initResult();
                   auto res = settle_lock(r, opts_, g->session, [&] { return out.initError(); });
                   if (res && g->waiter) {
                     g->waiter->acquired(res->code, res->token, clock_type::now());
                     if (g->waiter->waiting())
                       return await_grant(g);
                   }
                   opts_.feed->cancel(g->wait_id);
                   if (!res)
                     return kj::READY_NOW;
                   if (res->code == result_code::ok || res->code == result_code::already_held)
                     out.setToken(res->token);
                   else if (res->code == result_code::busy)
                     out.initError().setBusy();
                   else
                     out.initError().setUnavailable(std::string{"unexpected answer to acquire: "} +
                                                    lock::to_string(res->code));
                   return kj::READY_NOW;
                 })
                 .attach(kj::defer([this, g] { opts_.feed->cancel(g->wait_id); })));
}

kj::Promise<void> service::await_grant(const std::shared_ptr<grant_wait>& g) {
  return wait_step(g).then([this, g] {
    opts_.feed->cancel(g->wait_id);
    auto& w = *g->waiter;
    auto out = g->context.getResults().initResult();
    switch (w.outcome()) {
      case lock::wait_outcome::granted:
        out.setToken(w.token());
        return;
      case lock::wait_outcome::timed_out:
        out.initError().setTimeout();
        return;
      case lock::wait_outcome::session_lost:
      case lock::wait_outcome::dropped:  // neither holding nor waiting: the session ended
        out.initError().setNoSession(g->session);
        return;
      case lock::wait_outcome::uncertain:
        out.initError().setUnavailable(
          "the wait timed out and withdrawing it got no answer: the session may still be "
          "queued for the lock");
        return;
      default:
        out.initError().setUnavailable(std::string{"the wait for the lock ended "} +
                                       lock::to_string(w.outcome()) + " (" +
                                       lock::to_string(w.refusal()) + ")");
        return;
    }
  });
}

kj::Promise<void> service::wait_step(const std::shared_ptr<grant_wait>& g) {
  auto& w = *g->waiter;
  if (w.finished())
    return kj::READY_NOW;
  auto now = clock_type::now();
  switch (w.due(now)) {
    case lock::waiter_request::look:
      return lock_read(lock::lock_info{g->name, false, {}})
        .then([this, g](const std::optional<lock::result>& info) {
          if (info && info->ok())
            g->waiter->looked(lock::standing_in(*info, g->session), clock_type::now());
          else
            g->waiter->look_failed(clock_type::now());
          return wait_step(g);
        });
    case lock::waiter_request::withdraw:
      return own_lock_write(lock::cancel_wait{0, g->session, g->name, g->cred})
        .then([this, g](std::optional<lock::result> c) {
          if (c)
            g->waiter->withdrawn(c->code, clock_type::now());
          else
            g->waiter->withdraw_failed(clock_type::now());
          return wait_step(g);
        });
    case lock::waiter_request::none:
      break;
  }
  auto wake = w.next_wake();
  auto left = wake && *wake > now ? *wake - now : clock_type::duration::zero();
  using woken = std::optional<std::optional<std::uint64_t>>;
  auto timer = timer_
                 .afterDelay(std::chrono::duration_cast<std::chrono::nanoseconds>(left).count() *
                             kj::NANOSECONDS)
                 .then([] { return woken{}; });
  auto feed = g->granted.addBranch().then([](std::optional<std::uint64_t> t) { return woken{t}; });
  return feed.exclusiveJoin(kj::mv(timer)).then([this, g](woken o) {
    if (o && *o)
      g->waiter->granted(**o, clock_type::now());
    else if (o)
      g->waiter->session_gone(clock_type::now());
    return wait_step(g);
  });
}

kj::Promise<void> service::release(connection_context& conn, ReleaseContext context) {
  auto p = context.getParams();
  if (auto bad = bad_name(p.getName(), opts_.max_key_bytes); !bad.empty())
    return bad_request(context, bad);
  auto session = p.getSession();
  auto name = to_std(p.getName());
  if (auto d = check(conn, auth::access::lock, name, false, "release"))
    return refuse_access(context, d->unauthenticated, d->message);
  auto cmd = lock_command(
    p.getId(), lock::release{0, session, name, credential_for(conn, session, p.getSecret())});
  return track(
    ask(true, std::move(cmd), {}).then([this, context, session](const bridge_reply& r) mutable {
      auto out = context.getResults().initResult();
      auto res = settle_lock(r, opts_, session, [&] { return out.initError(); });
      if (!res)
        return;
      if (res->code == result_code::not_held)
        out.initError().setNotHeld();
      else
        out.setOk();
    }));
}

kj::Promise<void> service::checkToken(connection_context& conn, CheckTokenContext context) {
  auto p = context.getParams();
  if (auto bad = bad_name(p.getName(), opts_.max_key_bytes); !bad.empty())
    return bad_request(context, bad);
  if (auto d = check(conn, auth::access::lock, to_std(p.getName()), false, "checkToken"))
    return refuse_access(context, d->unauthenticated, d->message);
  auto q = lock::encode(lock::query{lock::check_token{to_std(p.getName()), p.getToken()}});
  return track(ask(false, {}, std::move(q)).then([this, context](const bridge_reply& r) mutable {
    auto out = context.getResults().initResult();
    if (auto res = settle_lock(r, opts_, 0, [&] { return out.initError(); }))
      out.setValid(res->code == result_code::ok);
  }));
}

kj::Promise<void> service::lockInfo(connection_context& conn, LockInfoContext context) {
  auto p = context.getParams();
  if (auto bad = bad_name(p.getName(), opts_.max_key_bytes); !bad.empty())
    return bad_request(context, bad);
  auto name = to_std(p.getName());
  if (auto d = check(conn, auth::access::lock, name, false, "lockInfo"))
    return refuse_access(context, d->unauthenticated, d->message);
  // A token lets its bearer pass as the holder to a fenced resource: once
  // authentication is on, only root and the holder's own user see it.
  auto store = opts_.feed->auth();
  bool hide = store && store->enabled() && !store->is_root(user_of(conn));
  auto q = lock::encode(lock::query{lock::lock_info{name, hide, user_of(conn)}});
  return track(ask(false, {}, std::move(q)).then([this, context](const bridge_reply& r) mutable {
    auto out = context.getResults().initResult();
    if (auto res = settle_lock(r, opts_, 0, [&] { return out.initError(); })) {
      auto info = out.initInfo();
      fill_holders(info.initHolders(static_cast<unsigned>(res->holders.size())), res->holders);
      fill_holders(info.initWaiters(static_cast<unsigned>(res->waiters.size())), res->waiters);
      info.setDelayUntilMs(res->deadline);
    }
  }));
}

kj::Promise<void> service::putEphemeral(connection_context& conn, PutEphemeralContext context) {
  auto p = context.getParams();
  auto key = p.getKey();
  auto value = p.getValue();
  std::string bad = bad_key(key, opts_.max_key_bytes);
  if (bad.empty() && value.size() > opts_.max_value_bytes)
    bad = over_limit("the value of key " + preview(key), value.size(), opts_.max_value_bytes);
  if (!bad.empty())
    return bad_request(context, bad);
  auto session = p.getSession();
  if (session == 0)
    return bad_request(context, "an ephemeral key needs a session (session 0 given)");
  if (auto d = check(conn, auth::access::write, to_std(key), false, "putEphemeral"))
    return refuse_access(context, d->unauthenticated, d->message);
  auto cmd = lock_command(p.getId(), lock::put_key{0, to_std(key), to_std(value), session,
                                                   credential_for(conn, session, p.getSecret())});
  return track(
    ask(true, std::move(cmd), {}).then([this, context, session](const bridge_reply& r) mutable {
      auto out = context.getResults().initResult();
      if (auto res = settle_lock(r, opts_, session, [&] { return out.initError(); }))
        out.setVersion(res->revision);
    }));
}

}  // namespace ballot::gateway
