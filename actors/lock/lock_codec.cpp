#include "actors/lock/lock_codec.hpp"

#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

#include "actors/kv/byte_codec.hpp"
#include "actors/kv/event_codec.hpp"

namespace ballot::lock {

namespace {

using kv::detail::reader;
using kv::detail::writer;

enum class tag : std::uint8_t {
  open_session = 0x11,
  keep_alive = 0x12,
  close_session = 0x13,
  tick = 0x14,
  leader_change = 0x15,
  acquire = 0x16,
  release = 0x17,
  cancel_wait = 0x18,
  put_key = 0x19,
  delete_key = 0x1a,
  keep_alive_many = 0x1b,
  check_token = 0x51,
  events_since = 0x52,
  lock_info = 0x53,
  get_key = 0x54,
};

void put_tag(writer& w, tag t) {
  w.integer(static_cast<std::uint8_t>(t));
}

/// A credential is an optional tail: written only when set, so records of
/// sessions without one keep the format older nodes wrote and read.
void put_credential(writer& w, const credential& c) {
  if (c.empty())
    return;
  w.string(c.user);
  w.integer(c.secret);
}

bool read_credential(reader& r, credential& c) {
  if (r.remaining() == 0)
    return true;
  return r.string(c.user, "credential user") && r.integer(c.secret, "credential secret");
}

bool read_mode(reader& r, lock_mode& mode, const char* field) {
  std::uint8_t byte = 0;
  if (!r.integer(byte, field))
    return false;
  if (byte > static_cast<std::uint8_t>(lock_mode::shared))
    return r.fail(field, "unknown lock mode " + std::to_string(byte));
  mode = static_cast<lock_mode>(byte);
  return true;
}

void put_grants(writer& w, const std::vector<grant>& gs) {
  w.integer(static_cast<std::uint32_t>(gs.size()));
  for (auto& g : gs) {
    w.integer(g.session);
    w.string(g.name);
    w.integer(static_cast<std::uint8_t>(g.mode));
    w.integer(g.token);
  }
}

bool read_grants(reader& r, std::vector<grant>& gs, const char* field) {
  std::uint32_t n = 0;
  if (!r.count(n, 21, field))
    return false;
  gs.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    grant g;
    if (!(r.integer(g.session, "grant session") && r.string(g.name, "grant name") &&
          read_mode(r, g.mode, "grant mode") && r.integer(g.token, "grant token")))
      return false;
    gs.push_back(std::move(g));
  }
  return true;
}

/// A batch's sessions: a u32 count, then each session and a flag byte for
/// whether its credential follows (the single form's optional tail cannot
/// work in the middle of a list).
void put_kept_sessions(writer& w, const std::vector<keep_alive>& sessions) {
  w.integer(static_cast<std::uint32_t>(sessions.size()));
  for (auto& k : sessions) {
    w.integer(k.session);
    w.integer(static_cast<std::uint8_t>(k.cred.empty() ? 0 : 1));
    put_credential(w, k.cred);
  }
}

bool read_kept_sessions(reader& r, keep_alive_many& c) {
  std::uint32_t n = 0;
  if (!r.count(n, 9, "session count"))
    return false;
  c.sessions.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    keep_alive k;
    k.now = c.now;
    bool has_cred = false;
    if (!(r.integer(k.session, "session") && r.flag(has_cred, "has credential")))
      return false;
    if (has_cred && !(r.string(k.cred.user, "credential user") &&
                      r.integer(k.cred.secret, "credential secret")))
      return false;
    c.sessions.push_back(std::move(k));
  }
  return true;
}

/// A result's outcomes of a keep_alive_many: an optional tail, written only
/// when there are any, so every other result keeps the format older nodes read.
void put_kept(writer& w, const std::vector<kept_session>& kept) {
  if (kept.empty())
    return;
  w.integer(static_cast<std::uint32_t>(kept.size()));
  for (auto& k : kept) {
    w.integer(k.session);
    w.integer(static_cast<std::uint8_t>(k.code));
    w.integer(k.deadline);
    w.string(k.message);
  }
}

bool read_kept(reader& r, std::vector<kept_session>& kept) {
  if (r.remaining() == 0)
    return true;
  std::uint32_t n = 0;
  if (!r.count(n, 21, "kept count"))
    return false;
  kept.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    kept_session k;
    std::uint8_t code = 0;
    if (!(r.integer(k.session, "kept session") && r.integer(code, "kept code")))
      return false;
    if (code > max_result_code)
      return r.fail("kept code", "unknown result code " + std::to_string(code));
    k.code = static_cast<result_code>(code);
    if (!(r.integer(k.deadline, "kept deadline") && r.string(k.message, "kept message")))
      return false;
    kept.push_back(std::move(k));
  }
  return true;
}

}  // namespace

const char* to_string(result_code code) {
  switch (code) {
    case result_code::ok:
      return "ok";
    case result_code::queued:
      return "queued";
    case result_code::busy:
      return "busy";
    case result_code::no_session:
      return "no_session";
    case result_code::not_held:
      return "not_held";
    case result_code::not_waiting:
      return "not_waiting";
    case result_code::already_held:
      return "already_held";
    case result_code::already_waiting:
      return "already_waiting";
    case result_code::not_found:
      return "not_found";
    case result_code::stale:
      return "stale";
    case result_code::compacted:
      return "compacted";
    case result_code::bad_request:
      return "bad_request";
    case result_code::timeout:
      return "timeout";
    case result_code::unavailable:
      return "unavailable";
    case result_code::overloaded:
      return "overloaded";
    case result_code::request_id_reused:
      return "request_id_reused";
    case result_code::limit_reached:
      return "limit_reached";
    case result_code::quota_exceeded:
      return "quota_exceeded";
    case result_code::permission_denied:
      return "permission_denied";
    case result_code::expired:
      return "expired";
    case result_code::unauthenticated:
      return "unauthenticated";
  }
  return "unknown";
}

std::string encode(const command& cmd) {
  writer w;
  std::visit(
    [&](auto& c) {
      using T = std::decay_t<decltype(c)>;
      if constexpr (std::is_same_v<T, open_session>) {
        put_tag(w, tag::open_session);
        w.integer(c.now);
        w.integer(c.ttl_ms);
        put_credential(w, c.cred);
      } else if constexpr (std::is_same_v<T, keep_alive>) {
        put_tag(w, tag::keep_alive);
        w.integer(c.now);
        w.integer(c.session);
        put_credential(w, c.cred);
      } else if constexpr (std::is_same_v<T, close_session>) {
        put_tag(w, tag::close_session);
        w.integer(c.now);
        w.integer(c.session);
        put_credential(w, c.cred);
      } else if constexpr (std::is_same_v<T, tick>) {
        put_tag(w, tag::tick);
        w.integer(c.now);
      } else if constexpr (std::is_same_v<T, leader_change>) {
        put_tag(w, tag::leader_change);
        w.integer(c.now);
        w.integer(c.grace_ms);
      } else if constexpr (std::is_same_v<T, acquire>) {
        put_tag(w, tag::acquire);
        w.integer(c.now);
        w.integer(c.session);
        w.string(c.name);
        w.integer(static_cast<std::uint8_t>(c.mode));
        w.integer(static_cast<std::uint8_t>(c.wait ? 1 : 0));
        w.integer(c.delay_ms);
        put_credential(w, c.cred);
      } else if constexpr (std::is_same_v<T, release>) {
        put_tag(w, tag::release);
        w.integer(c.now);
        w.integer(c.session);
        w.string(c.name);
        put_credential(w, c.cred);
      } else if constexpr (std::is_same_v<T, cancel_wait>) {
        put_tag(w, tag::cancel_wait);
        w.integer(c.now);
        w.integer(c.session);
        w.string(c.name);
        put_credential(w, c.cred);
      } else if constexpr (std::is_same_v<T, put_key>) {
        put_tag(w, tag::put_key);
        w.integer(c.now);
        w.string(c.key);
        w.string(c.value);
        w.integer(c.session);
        put_credential(w, c.cred);
      } else if constexpr (std::is_same_v<T, keep_alive_many>) {
        put_tag(w, tag::keep_alive_many);
        w.integer(c.now);
        put_kept_sessions(w, c.sessions);
      } else {
        static_assert(std::is_same_v<T, delete_key>);
        put_tag(w, tag::delete_key);
        w.integer(c.now);
        w.string(c.key);
      }
    },
    cmd);
  return w.take();
}

std::string encode(const query& q) {
  writer w;
  std::visit(
    [&](auto& c) {
      using T = std::decay_t<decltype(c)>;
      if constexpr (std::is_same_v<T, check_token>) {
        put_tag(w, tag::check_token);
        w.string(c.name);
        w.integer(c.token);
      } else if constexpr (std::is_same_v<T, events_since>) {
        put_tag(w, tag::events_since);
        w.string(c.prefix);
        w.integer(c.revision);
        // Optional tail: only when set, so older nodes read what newer write.
        if (c.max_bytes != 0)
          w.integer(c.max_bytes);
      } else if constexpr (std::is_same_v<T, lock_info>) {
        put_tag(w, tag::lock_info);
        w.string(c.name);
        // Optional tail, as for events_since.
        if (c.hide_tokens) {
          w.integer(std::uint8_t{1});
          w.string(c.viewer);
        }
      } else {
        static_assert(std::is_same_v<T, get_key>);
        put_tag(w, tag::get_key);
        w.string(c.key);
      }
    },
    q);
  return w.take();
}

std::size_t keep_alive_many_entry_bytes(const keep_alive& k) {
  // As put_kept_sessions writes it: session, flag, then user (length and
  // bytes) and secret when there is a credential.
  return 8 + 1 + (k.cred.empty() ? 0 : 4 + k.cred.user.size() + 8);
}

bool is_lock_command(std::string_view payload) {
  auto t = payload.empty() ? 0 : static_cast<std::uint8_t>(payload[0]);
  return t >= static_cast<std::uint8_t>(tag::open_session) &&
         t <= static_cast<std::uint8_t>(tag::keep_alive_many);
}

bool is_lock_query(std::string_view request) {
  auto t = request.empty() ? 0 : static_cast<std::uint8_t>(request[0]);
  return t >= static_cast<std::uint8_t>(tag::check_token) &&
         t <= static_cast<std::uint8_t>(tag::get_key);
}

bool stamp(std::string& payload, time_ms now) {
  if (!is_lock_command(payload) || payload.size() < 1 + sizeof(time_ms))
    return false;
  // Little-endian, as the writer encodes integers.
  for (std::size_t i = 0; i < sizeof(time_ms); ++i)
    payload[1 + i] = static_cast<char>((now >> (8 * i)) & 0xff);
  return true;
}

namespace {

/// The session and clock commands; nullopt for another tag.
std::optional<bool> read_session_command(tag t, reader& r, command& out) {
  bool ok = false;
  switch (t) {
    case tag::open_session: {
      open_session c;
      ok = r.integer(c.now, "now") && r.integer(c.ttl_ms, "ttl_ms") && read_credential(r, c.cred);
      out = c;
      break;
    }
    case tag::keep_alive: {
      keep_alive c;
      ok = r.integer(c.now, "now") && r.integer(c.session, "session") && read_credential(r, c.cred);
      out = c;
      break;
    }
    case tag::close_session: {
      close_session c;
      ok = r.integer(c.now, "now") && r.integer(c.session, "session") && read_credential(r, c.cred);
      out = c;
      break;
    }
    case tag::tick: {
      tick c;
      ok = r.integer(c.now, "now");
      out = c;
      break;
    }
    case tag::leader_change: {
      leader_change c;
      ok = r.integer(c.now, "now") && r.integer(c.grace_ms, "grace_ms");
      out = c;
      break;
    }
    case tag::keep_alive_many: {
      keep_alive_many c;
      ok = r.integer(c.now, "now") && read_kept_sessions(r, c);
      out = std::move(c);
      break;
    }
    default:
      return std::nullopt;
  }
  return ok;
}

/// The lock and key commands; nullopt for another tag.
std::optional<bool> read_lock_command(tag t, reader& r, command& out) {
  bool ok = false;
  switch (t) {
    case tag::acquire: {
      acquire c;
      ok = r.integer(c.now, "now") && r.integer(c.session, "session") && r.string(c.name, "name") &&
           read_mode(r, c.mode, "mode") && r.flag(c.wait, "wait") &&
           r.integer(c.delay_ms, "delay_ms") && read_credential(r, c.cred);
      out = std::move(c);
      break;
    }
    case tag::release: {
      release c;
      ok = r.integer(c.now, "now") && r.integer(c.session, "session") && r.string(c.name, "name") &&
           read_credential(r, c.cred);
      out = std::move(c);
      break;
    }
    case tag::cancel_wait: {
      cancel_wait c;
      ok = r.integer(c.now, "now") && r.integer(c.session, "session") && r.string(c.name, "name") &&
           read_credential(r, c.cred);
      out = std::move(c);
      break;
    }
    case tag::put_key: {
      put_key c;
      ok = r.integer(c.now, "now") && r.string(c.key, "key") && r.string(c.value, "value") &&
           r.integer(c.session, "session") && read_credential(r, c.cred);
      out = std::move(c);
      break;
    }
    case tag::delete_key: {
      delete_key c;
      ok = r.integer(c.now, "now") && r.string(c.key, "key");
      out = std::move(c);
      break;
    }
    default:
      return std::nullopt;
  }
  return ok;
}

}  // namespace

bool decode(std::string_view bytes, command& out, std::string& error) {
  reader r{bytes};
  std::uint8_t t = 0;
  bool ok = r.integer(t, "tag");
  if (ok) {
    auto done = read_session_command(static_cast<tag>(t), r, out);
    if (!done)
      done = read_lock_command(static_cast<tag>(t), r, out);
    ok = done ? *done : r.fail("tag", "unknown command " + std::to_string(t));
  }
  ok = ok && r.finish();
  if (!ok)
    error = "malformed command: " + r.error();
  return ok;
}

bool decode(std::string_view bytes, query& out, std::string& error) {
  reader r{bytes};
  std::uint8_t t = 0;
  bool ok = r.integer(t, "tag");
  if (ok) {
    switch (static_cast<tag>(t)) {
      case tag::check_token: {
        check_token q;
        ok = r.string(q.name, "name") && r.integer(q.token, "token");
        out = std::move(q);
        break;
      }
      case tag::events_since: {
        events_since q;
        ok = r.string(q.prefix, "prefix") && r.integer(q.revision, "revision");
        if (ok && r.remaining() > 0)
          ok = r.integer(q.max_bytes, "max_bytes");
        out = std::move(q);
        break;
      }
      case tag::lock_info: {
        lock_info q;
        ok = r.string(q.name, "name");
        if (ok && r.remaining() > 0)
          ok = r.flag(q.hide_tokens, "hide_tokens") && r.string(q.viewer, "viewer");
        out = std::move(q);
        break;
      }
      case tag::get_key: {
        get_key q;
        ok = r.string(q.key, "key");
        out = std::move(q);
        break;
      }
      default:
        ok = r.fail("tag", "unknown query " + std::to_string(t));
    }
  }
  ok = ok && r.finish();
  if (!ok)
    error = "malformed query: " + r.error();
  return ok;
}

std::string encode(const result& res) {
  writer w;
  w.integer(static_cast<std::uint8_t>(res.code));
  w.integer(res.session);
  w.integer(res.deadline);
  w.integer(res.token);
  w.integer(res.revision);
  w.string(res.value);
  put_grants(w, res.grants);
  w.integer(static_cast<std::uint32_t>(res.expired.size()));
  for (auto id : res.expired)
    w.integer(id);
  w.integer(static_cast<std::uint32_t>(res.events.size()));
  for (auto& e : res.events)
    kv::detail::put_event(w, e);
  put_grants(w, res.holders);
  put_grants(w, res.waiters);
  w.string(res.message);
  put_kept(w, res.kept);
  return w.take();
}

bool decode(std::string_view bytes, result& out, std::string& error) {
  reader r{bytes};
  out = result{};
  std::uint8_t code = 0;
  std::uint32_t n = 0;
  bool ok = r.integer(code, "code");
  if (ok && code > max_result_code)
    ok = r.fail("code", "unknown result code " + std::to_string(code));
  out.code = static_cast<result_code>(code);
  ok = ok && r.integer(out.session, "session") && r.integer(out.deadline, "deadline") &&
       r.integer(out.token, "token") && r.integer(out.revision, "revision") &&
       r.string(out.value, "value") && read_grants(r, out.grants, "grant count") &&
       r.count(n, 8, "expired count");
  for (std::uint32_t i = 0; ok && i < n; ++i) {
    session_id id = 0;
    ok = r.integer(id, "expired session");
    out.expired.push_back(id);
  }
  ok = ok && r.count(n, kv::detail::min_event_bytes, "event count");
  for (std::uint32_t i = 0; ok && i < n; ++i) {
    event e;
    ok = kv::detail::read_event(r, e);
    out.events.push_back(std::move(e));
  }
  ok = ok && read_grants(r, out.holders, "holder count") &&
       read_grants(r, out.waiters, "waiter count") && r.string(out.message, "message") &&
       read_kept(r, out.kept) && r.finish();
  if (!ok)
    error = "malformed result: " + r.error();
  return ok;
}

}  // namespace ballot::lock
