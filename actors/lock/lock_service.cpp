#include "actors/lock/lock_service.hpp"

#include "actors/kv/frozen_keys.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <utility>

#include "actors/kv/byte_codec.hpp"
#include "actors/lock/lock_codec.hpp"

namespace ballot::lock {

namespace {

/// The first byte of a snapshot: lets a later format be told apart.
/// Format 2 added each session's owner and secret; format 1 is still read.
constexpr std::uint8_t snapshot_format = 2;

result bad(std::string why) {
  return result::error(result_code::bad_request, std::move(why));
}

/// Checks what does not depend on the state, before anything changes: an
/// invalid command must leave no trace, not even an advanced clock.
std::optional<result> validate(const command& cmd) {
  if (auto* c = std::get_if<open_session>(&cmd)) {
    if (c->ttl_ms == 0 || c->ttl_ms > max_session_ttl_ms)
      return bad("ttl_ms " + std::to_string(c->ttl_ms) + " outside 1.." +
                 std::to_string(max_session_ttl_ms));
  } else if (auto* c = std::get_if<acquire>(&cmd)) {
    if (c->name.empty())
      return bad("the lock name must not be empty");
    // Refused rather than clamped: the client would otherwise believe in a
    // protection it does not get.
    if (c->delay_ms > max_lock_delay_ms)
      return bad("delay_ms " + std::to_string(c->delay_ms) + " above the maximum " +
                 std::to_string(max_lock_delay_ms));
  } else if (auto* c = std::get_if<release>(&cmd)) {
    if (c->name.empty())
      return bad("the lock name must not be empty");
  } else if (auto* c = std::get_if<cancel_wait>(&cmd)) {
    if (c->name.empty())
      return bad("the lock name must not be empty");
  } else if (auto* c = std::get_if<put_key>(&cmd)) {
    if (c->key.empty())
      return bad("the key must not be empty");
  } else if (auto* c = std::get_if<delete_key>(&cmd)) {
    if (c->key.empty())
      return bad("the key must not be empty");
  } else if (auto* c = std::get_if<keep_alive_many>(&cmd)) {
    if (c->sessions.empty() || c->sessions.size() > max_keep_alive_batch)
      return bad("keep_alive_many carries " + std::to_string(c->sessions.size()) +
                 " sessions, not 1.." + std::to_string(max_keep_alive_batch));
  }
  return std::nullopt;
}

}  // namespace

lock_service::lock_service(std::size_t history_events, std::size_t history_bytes)
    : keys_(history_events, history_bytes) {}

std::optional<time_ms> lock_service::next_wakeup() const {
  std::optional<time_ms> at;
  // A session expires once the time passes its deadline (deadline < now).
  if (auto d = sessions_.earliest_deadline())
    at = saturating_add(*d, 1);
  if (auto d = locks_.earliest_delay_end(); d && (!at || *d < *at))
    at = d;
  return at;
}

std::string lock_service::apply(const std::string& payload) {
  command cmd;
  std::string error;
  if (!decode(payload, cmd, error))
    return encode(bad(error));
  return encode(execute(cmd));
}

std::string lock_service::query(const std::string& request) const {
  lock::query q;
  std::string error;
  if (!decode(request, q, error))
    return encode(bad(error));
  return encode(read(q));
}

result lock_service::execute(const command& cmd) {
  if (auto refused = validate(cmd))
    return *refused;
  result r;
  now_ = std::max(now_, std::visit([](auto& c) { return c.now; }, cmd));
  // The grace comes before expiry: a session whose deadline passed while
  // there was no leader (nobody could apply its keep-alives) survives. One
  // that expired before is gone already: an earlier command expired it.
  if (auto* c = std::get_if<leader_change>(&cmd))
    sessions_.extend_all(saturating_add(now_, c->grace_ms));
  for (auto id : sessions_.expire(now_)) {
    r.expired.push_back(id);
    end_session(id, true, r);
  }
  // Before the command itself: waiters whose lock-delay ended are ahead of it.
  locks_.advance(now_, r.grants);
  std::visit([&](auto& c) { run(c, r); }, cmd);
  return r;
}

void lock_service::end_session(session_id id, bool expired, result& r) {
  locks_.drop_session(id, expired, now_, r.grants);
  keys_.drop_session(id);
}

bool lock_service::may_use(session_id id, const credential& cred, result& r) const {
  auto* s = sessions_.find(id);
  if (s == nullptr) {
    r.code = result_code::no_session;
    return false;
  }
  // The same answer for a wrong secret and another owner: neither tells the
  // caller anything about the session it could use.
  if ((s->secret != 0 && cred.secret != s->secret) ||
      (!s->owner.empty() && cred.user != s->owner)) {
    r.code = result_code::permission_denied;
    r.message = "session " + std::to_string(id) + " belongs to another client";
    return false;
  }
  return true;
}

void lock_service::run(const open_session& c, result& r) {
  r.session = sessions_.open(now_, c.ttl_ms, c.cred.user, c.cred.secret);
  // The opener learns its secret from the answer: a retry answered from the
  // log's dedup table then returns the secret of the session that opened.
  r.token = c.cred.secret;
  r.deadline = sessions_.find(r.session)->deadline;
}

void lock_service::run(const keep_alive& c, result& r) {
  if (!may_use(c.session, c.cred, r))
    return;
  if (!sessions_.keep_alive(c.session, now_)) {
    r.code = result_code::no_session;
    return;
  }
  r.session = c.session;
  r.deadline = sessions_.find(c.session)->deadline;
}

void lock_service::run(const keep_alive_many& c, result& r) {
  // Each session by the single keep-alive's rule, so the two never differ.
  r.kept.reserve(c.sessions.size());
  for (auto& k : c.sessions) {
    result one;
#ifdef BALLOT_MUTANT_LOCK_BATCH_FIRST_ONLY
    // Mutant: only the first session is kept alive; the others are told ok.
    if (&k != &c.sessions.front() && sessions_.find(k.session) != nullptr) {
      r.kept.push_back({k.session, result_code::ok, sessions_.find(k.session)->deadline, {}});
      continue;
    }
#endif
    run(k, one);
    r.kept.push_back({k.session, one.code, one.deadline, std::move(one.message)});
  }
}

void lock_service::run(const close_session& c, result& r) {
  if (!may_use(c.session, c.cred, r))
    return;
  if (!sessions_.close(c.session)) {
    r.code = result_code::no_session;
    return;
  }
  // A clean close: the client knows it no longer holds anything, so no delay.
  end_session(c.session, false, r);
}

void lock_service::run(const tick&, result&) {}

void lock_service::run(const leader_change&, result&) {}

void lock_service::run(const acquire& c, result& r) {
  if (!may_use(c.session, c.cred, r))
    return;
  auto got = locks_.acquire(c.session, c.name, c.mode, c.wait, c.delay_ms, now_);
  r.token = got.token;
  switch (got.what) {
    case lock_table::outcome::granted:
      r.code = result_code::ok;
      break;
    case lock_table::outcome::queued:
      r.code = result_code::queued;
      break;
    case lock_table::outcome::busy:
      r.code = result_code::busy;
      break;
    case lock_table::outcome::already_held:
      r.code = result_code::already_held;
      break;
    case lock_table::outcome::already_waiting:
      r.code = result_code::already_waiting;
      break;
  }
}

void lock_service::run(const release& c, result& r) {
  if (!may_use(c.session, c.cred, r))
    return;
  if (!locks_.release(c.session, c.name, now_, r.grants))
    r.code = result_code::not_held;
}

void lock_service::run(const cancel_wait& c, result& r) {
  if (!may_use(c.session, c.cred, r))
    return;
  if (!locks_.cancel_wait(c.session, c.name, now_, r.grants))
    r.code = result_code::not_waiting;
}

void lock_service::run(const put_key& c, result& r) {
  if (c.session != 0 && !may_use(c.session, c.cred, r))
    return;
  r.revision = keys_.put(c.key, c.value, c.session);
}

void lock_service::run(const delete_key& c, result& r) {
  if (auto rev = keys_.del(c.key))
    r.revision = *rev;
  else
    r.code = result_code::not_found;
}

result lock_service::read(const lock::query& q) const {
  result r;
  if (auto* c = std::get_if<check_token>(&q)) {
    if (!locks_.token_valid(c->name, c->token))
      r.code = result_code::stale;
  } else if (auto* c = std::get_if<events_since>(&q)) {
    auto limit = c->max_bytes == 0 ? SIZE_MAX : static_cast<std::size_t>(c->max_bytes);
    std::uint64_t upto = 0;
    if (!keys_.events_since(c->prefix, c->revision, limit, r.events, upto))
      r.code = result_code::compacted;
    r.revision = r.code == result_code::compacted ? keys_.revision() : upto;
  } else if (auto* c = std::get_if<lock_info>(&q)) {
    if (auto* l = locks_.find(c->name)) {
      for (auto& h : l->holders) {
        auto token = h.token;
        if (c->hide_tokens) {
          auto* s = sessions_.find(h.session);
          if (s == nullptr || s->owner.empty() || s->owner != c->viewer)
            token = 0;
        }
        r.holders.push_back({h.session, c->name, h.mode, token});
      }
      for (auto& w : l->waiters)
        r.waiters.push_back({w.session, c->name, w.mode, 0});
      r.deadline = l->delay_until;
    }
  } else if (auto* c = std::get_if<get_key>(&q)) {
    if (auto* e = keys_.find(c->key)) {
      r.value = e->value();
      r.revision = e->version;
      r.session = e->session;
    } else {
      r.code = result_code::not_found;
    }
  }
  return r;
}

std::optional<std::string> lock_service::snapshot() const {
  kv::detail::writer w;
  save(w);
  return w.take();
}

void lock_service::save_head(kv::detail::writer& w) const {
  w.integer(snapshot_format);
  w.integer(now_);
  sessions_.save(w);
  locks_.save(w);
}

std::shared_ptr<const paxos::frozen_state> lock_service::freeze() const {
  kv::detail::writer head;
  save_head(head);
  return std::make_shared<kv::frozen_keys>(head.take(), keys_);
}

void lock_service::save(kv::detail::writer& w) const {
  save_head(w);
  // The key space is nearly all of it and knows its size: one allocation
  // here (growing would copy the small sections above only).
  w.reserve(keys_.saved_size());
  keys_.save(w);
}

void lock_service::restore(const std::string& snapshot) {
  restore_bytes(snapshot);
}

void lock_service::restore_bytes(std::string_view snapshot) {
  kv::detail::reader r{snapshot};
  std::uint8_t format = 0;
  time_ms now = 0;
  // Built aside: a damaged snapshot leaves the service as it was.
  session_table sessions;
  lock_table locks;
  kv::key_space keys;
  bool ok = r.integer(format, "format");
  if (ok && format != snapshot_format && format != 1)
    ok = r.fail("format", "unknown snapshot format " + std::to_string(format));
  ok =
    ok && r.integer(now, "now") && sessions.load(r, format >= 2) && locks.load(r) && keys.load(r);
  // Locks and keys of sessions that do not exist could never be freed.
  if (ok) {
    auto users = locks.sessions();
    auto owners = keys.sessions();
    users.insert(owners.begin(), owners.end());
    for (auto id : users) {
      if (sessions.find(id) == nullptr) {
        ok = r.fail("sessions", "session " + std::to_string(id) + " holds state but is not live");
        break;
      }
    }
  }
  ok = ok && r.finish();
  if (!ok)
    throw std::runtime_error("lock_service: malformed snapshot: " + r.error());
  sessions_ = std::move(sessions);
  locks_ = std::move(locks);
  keys_ = std::move(keys);
  now_ = now;
}

}  // namespace ballot::lock
