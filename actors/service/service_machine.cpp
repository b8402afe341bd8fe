#include "actors/service/service_machine.hpp"

#include <cstring>
#include <stdexcept>
#include <utility>

#include "actors/auth/auth_codec.hpp"
#include "actors/kv/command_codec.hpp"
#include "actors/kv/frozen_keys.hpp"
#include "actors/kv/key_ops.hpp"
#include "actors/lock/lock_codec.hpp"

namespace ballot::service {

namespace {

/// A snapshot with users or roles starts with this byte, then the auth store
/// (u32 length and its bytes), then the lock service's snapshot. Without
/// them it is the lock service's snapshot alone, as before auth existed: its
/// first byte is its format (1 or 2), never this.
constexpr char with_auth = static_cast<char>(0x80);

/// Why `user` may not do `what` on `target` by the users and roles of this
/// point of the log; nullopt when it may (or authentication is off).
std::optional<std::string> refused(const auth::auth_store& auth, const std::string& user,
                                   auth::access what, const std::string& target) {
  if (!auth.enabled() || auth.allowed(user, what, target))
    return std::nullopt;
  return (user.empty() ? std::string{"no user"} : "user " + user) + " may not " +
         auth::to_string(what) + " \"" + target.substr(0, 64) +
         "\" when this command applies (users or roles changed after the "
         "gateway checked it)";
}

}  // namespace

std::optional<std::string> service_machine::refused_at_apply(const kv::request& req) const {
  // Only writes a gateway checked and stamped: the in-process actor API
  // sends none and is trusted, as it is in the same process as the log.
  if (auto* p = std::get_if<kv::put_request>(&req); p && p->checked_user)
    return refused(auth_, *p->checked_user, auth::access::write, p->key);
  if (auto* d = std::get_if<kv::del_request>(&req); d && d->checked_user)
    return refused(auth_, *d->checked_user, auth::access::write, d->key);
  return std::nullopt;
}

std::optional<std::string> service_machine::refused_at_apply(const lock::command& cmd) const {
  // A named user is checked again; an anonymous credential was checked by a
  // gateway while authentication was off (or comes from the actor API).
  if (auto* a = std::get_if<lock::acquire>(&cmd); a && !a->cred.user.empty())
    return refused(auth_, a->cred.user, auth::access::lock, a->name);
  if (auto* p = std::get_if<lock::put_key>(&cmd); p && !p->cred.user.empty())
    return refused(auth_, p->cred.user, auth::access::write, p->key);
  return std::nullopt;
}

service_machine::service_machine(lock::time_ms grace_ms) : grace_ms_(grace_ms) {}

service_machine::service_machine(lock::time_ms grace_ms, limits caps)
    : grace_ms_(grace_ms), caps_(caps) {}

std::optional<std::string> service_machine::admit(const std::string& payload) const {
  // Only opening a session and a waiting acquire are capped: the others pass
  // without being decoded.
  constexpr unsigned char open_session = 0x11;
  constexpr unsigned char acquire = 0x16;
  auto tag = payload.empty() ? 0 : static_cast<unsigned char>(payload[0]);
  if (tag != open_session && tag != acquire)
    return std::nullopt;
  lock::command cmd;
  std::string error;
  if (!lock::decode(payload, cmd, error))
    return std::nullopt;  // the log answers bad_request, as for anyone
  auto refuse = [](std::string why) {
    lock::result r;
    r.code = lock::result_code::limit_reached;
    r.message = std::move(why);
    return lock::encode(r);
  };
  if (std::holds_alternative<lock::open_session>(cmd) && caps_.max_sessions > 0 &&
      locks_.sessions().sessions().size() >= caps_.max_sessions)
    return refuse("the cluster holds its maximum of " + std::to_string(caps_.max_sessions) +
                  " sessions (--max-sessions)");
  if (auto* a = std::get_if<lock::acquire>(&cmd); a && a->wait && caps_.max_waiters_per_lock > 0) {
    auto* l = locks_.locks().find(a->name);
    if (l != nullptr && l->waiters.size() >= caps_.max_waiters_per_lock)
      return refuse("lock \"" + a->name.substr(0, 64) + "\" has its maximum of " +
                    std::to_string(caps_.max_waiters_per_lock) +
                    " waiters (--max-waiters-per-lock)");
  }
  return std::nullopt;
}

std::string service_machine::apply(const std::string& payload) {
  auto before = locks_.keys().revision();
  change ch;
  std::string answer;
  if (auth::is_auth_command(payload)) {
    auth::command cmd;
    std::string error;
    if (!auth::decode(payload, cmd, error))
      return auth::encode(auth::result{auth::result_code::bad_request, error});
    auto res = auth_.execute(cmd);
    if (res.code == auth::result_code::ok && observer_) {
      change ach;
      ach.revision = locks_.keys().revision();
      ach.auth = std::make_shared<const auth::auth_store>(auth_);
      ach.history = locks_.keys().history();
      observer_(ach);
    }
    return auth::encode(res);
  }
  if (lock::is_lock_command(payload)) {
    lock::command cmd;
    std::string error;
    if (!lock::decode(payload, cmd, error))
      return lock::encode(lock::result::error(lock::result_code::bad_request, error));
    if (auto why = refused_at_apply(cmd))
      return lock::encode(lock::result::error(lock::result_code::permission_denied, *why));
    auto res = locks_.execute(cmd);
    ch.grants = res.grants;
    // The acquirer's own grant is news to whoever waits for it on this node.
    if (auto* a = std::get_if<lock::acquire>(&cmd);
        a != nullptr && (res.code == lock::result_code::ok))
      ch.grants.push_back({a->session, a->name, a->mode, res.token});
    ch.expired = res.expired;
    answer = lock::encode(res);
  } else {
    kv::request req;
    std::string error;
    if (!kv::decode(payload, req, error))
      return kv::encode(kv::result::error(kv::result_code::bad_request, error));
    if (auto why = refused_at_apply(req))
      return kv::encode(kv::result::error(kv::result_code::permission_denied, *why));
    answer = kv::encode(kv::execute(locks_.mutable_keys(), req));
  }
  auto& keys = locks_.keys();
  ch.revision = keys.revision();
  if (observer_ && (ch.revision != before || !ch.grants.empty() || !ch.expired.empty())) {
    // The history always reaches back one command unless its byte budget is
    // smaller than this command's changes; then watchers must re-read.
    if (ch.revision != before && !keys.events_since(before, ch.events))
      ch.reset = true;
    ch.history = keys.history();
    observer_(ch);
  }
  return answer;
}

std::string service_machine::query(const std::string& request) const {
  if (auth::is_auth_query(request))
    return auth::encode_state(auth_);
  if (lock::is_lock_query(request))
    return locks_.query(request);
  kv::request req;
  std::string error;
  if (!kv::decode(request, req, error))
    return kv::encode(kv::result::error(kv::result_code::bad_request, error));
  return kv::encode(kv::read(locks_.keys(), req));
}

void service_machine::save_head(kv::detail::writer& w) const {
  // Without users or roles, the lock service's bytes alone. With them, the
  // (small) auth section first, then the lock service's bytes written
  // straight after it: no second copy of the whole state.
  if (auth_.revision() != 0 || auth_.enabled()) {
    kv::detail::writer a;
    auth_.save(a);
    w.integer(static_cast<std::uint8_t>(with_auth));
    w.string(a.take());
  }
  locks_.save_head(w);
}

std::optional<std::string> service_machine::snapshot() const {
  kv::detail::writer w;
  save_head(w);
  // The key space is nearly all of it and knows its size: one allocation.
  w.reserve(locks_.keys().saved_size());
  locks_.keys().save(w);
  return w.take();
}

std::shared_ptr<const paxos::frozen_state> service_machine::freeze() const {
  kv::detail::writer head;
  save_head(head);
  return std::make_shared<kv::frozen_keys>(head.take(), locks_.keys());
}

paxos::state_machine::counts service_machine::describe() const {
  auto& keys = locks_.keys();
  return {keys.revision(), keys.keys().size(), locks_.sessions().sessions().size()};
}

void service_machine::restore(const std::string& snapshot) {
  auth::auth_store auth;
  std::string_view locks{snapshot};
  if (!snapshot.empty() && snapshot[0] == with_auth) {
    kv::detail::reader r{snapshot};
    std::uint8_t marker = 0;
    std::uint32_t len = 0;
    bool ok = r.integer(marker, "marker") && r.integer(len, "auth length") && r.remaining() >= len;
    std::size_t start = 1 + sizeof(len);
    kv::detail::reader ar{std::string_view{snapshot}.substr(start, ok ? len : 0)};
    ok = ok && auth.load(ar) && ar.finish();
    if (!ok)
      throw std::runtime_error("service_machine: malformed auth section of a snapshot: " +
                               (ar.error().empty() ? r.error() : ar.error()));
    locks = locks.substr(start + len);
  }
  // The lock service checks its part and throws before changing anything.
  locks_.restore_bytes(locks);
  auth_ = std::move(auth);
  if (observer_) {
    change ch;
    ch.revision = locks_.keys().revision();
    ch.history = locks_.keys().history();
    ch.reset = true;
    ch.auth = std::make_shared<const auth::auth_store>(auth_);
    observer_(ch);
  }
}

void service_machine::stamp(paxos::shared_payload& payload, std::uint64_t now_ms) const {
  // A key/value command is left shared: only a lock command is copied to stamp.
  if (lock::is_lock_command(payload))
    lock::stamp(payload.edit(), now_ms);
}

std::uint64_t service_machine::fingerprint(const std::string& payload) const {
  constexpr std::size_t after_stamp = 1 + sizeof(lock::time_ms);
  if (!lock::is_lock_command(payload) || payload.size() < after_stamp)
    return state_machine::fingerprint(payload);
  // The tag and everything after the stamp, without copying the payload.
  auto rest = fingerprint_bytes(payload.data() + after_stamp, payload.size() - after_stamp);
  char head[1 + sizeof(rest)];
  head[0] = payload[0];
  std::memcpy(head + 1, &rest, sizeof(rest));
  return fingerprint_bytes(head, sizeof(head));
}

std::uint64_t service_machine::state_bytes() const {
  return locks_.keys().bytes();
}

bool service_machine::grows(const std::string& payload) const {
  // A key/value put (0x01) or an ephemeral put (0x19); deletes, sessions and
  // locks must go on past a quota, or nobody could make room.
  constexpr unsigned char kv_put = 0x01;
  constexpr unsigned char put_key = 0x19;
  auto tag = payload.empty() ? 0 : static_cast<unsigned char>(payload[0]);
  return tag == kv_put || tag == put_key;
}

std::vector<std::string> service_machine::leader_commands(std::uint64_t now_ms,
                                                          bool elected) const {
  std::vector<std::string> out;
  if (elected) {
    // Before any client command of the new term: sessions whose keep-alives
    // had nowhere to go during the election get the grace, not an expiry.
#ifndef BALLOT_MUTANT_LOCK_NO_GRACE
    out.push_back(lock::encode(lock::command{lock::leader_change{now_ms, grace_ms_}}));
#endif
  } else if (auto at = locks_.next_wakeup();
             (at && *at <= now_ms) || now_ms >= locks_.now() + log_time_step_ms) {
    out.push_back(lock::encode(lock::command{lock::tick{now_ms}}));
  }
  return out;
}

}  // namespace ballot::service
