#include "actors/auth/auth_codec.hpp"

#include <type_traits>

namespace ballot::auth {

namespace {

using kv::detail::reader;
using kv::detail::writer;

enum class tag : std::uint8_t {
  user_add = 0x31,
  user_delete = 0x32,
  user_passwd = 0x33,
  user_grant = 0x34,
  user_revoke = 0x35,
  role_add = 0x36,
  role_delete = 0x37,
  role_grant = 0x38,
  role_revoke = 0x39,
  auth_enable = 0x3a,
  auth_disable = 0x3b,
  auth_state = 0x61,
};

void put(writer& w, tag t) {
  w.integer(static_cast<std::uint8_t>(t));
}

void put(writer& w, const permission& p) {
  w.integer(static_cast<std::uint8_t>(p.kind));
  w.string(p.prefix);
}

bool read(reader& r, permission& p) {
  std::uint8_t kind = 0;
  if (!r.integer(kind, "permission kind"))
    return false;
  if (kind < 1 || kind > 4)
    return r.fail("permission kind", "unknown kind " + std::to_string(kind));
  p.kind = static_cast<permission_kind>(kind);
  return r.string(p.prefix, "permission prefix");
}

}  // namespace

std::string encode(const command& cmd) {
  writer w;
  std::visit(
    [&](auto& c) {
      using T = std::decay_t<decltype(c)>;
      if constexpr (std::is_same_v<T, user_add>) {
        put(w, tag::user_add);
        w.string(c.name);
        w.string(c.password_hash);
      } else if constexpr (std::is_same_v<T, user_delete>) {
        put(w, tag::user_delete);
        w.string(c.name);
      } else if constexpr (std::is_same_v<T, user_passwd>) {
        put(w, tag::user_passwd);
        w.string(c.name);
        w.string(c.password_hash);
      } else if constexpr (std::is_same_v<T, user_grant>) {
        put(w, tag::user_grant);
        w.string(c.user);
        w.string(c.role);
      } else if constexpr (std::is_same_v<T, user_revoke>) {
        put(w, tag::user_revoke);
        w.string(c.user);
        w.string(c.role);
      } else if constexpr (std::is_same_v<T, role_add>) {
        put(w, tag::role_add);
        w.string(c.name);
      } else if constexpr (std::is_same_v<T, role_delete>) {
        put(w, tag::role_delete);
        w.string(c.name);
      } else if constexpr (std::is_same_v<T, role_grant>) {
        put(w, tag::role_grant);
        w.string(c.role);
        put(w, c.perm);
      } else if constexpr (std::is_same_v<T, role_revoke>) {
        put(w, tag::role_revoke);
        w.string(c.role);
        put(w, c.perm);
      } else if constexpr (std::is_same_v<T, auth_enable>) {
        put(w, tag::auth_enable);
      } else {
        static_assert(std::is_same_v<T, auth_disable>);
        put(w, tag::auth_disable);
      }
    },
    cmd);
  return w.take();
}

bool decode(std::string_view bytes, command& out, std::string& error) {
  reader r{bytes};
  std::uint8_t t = 0;
  bool ok = r.integer(t, "tag");
  if (ok) {
    switch (static_cast<tag>(t)) {
      case tag::user_add: {
        user_add c;
        ok = r.string(c.name, "name") && r.string(c.password_hash, "password hash");
        out = std::move(c);
        break;
      }
      case tag::user_delete: {
        user_delete c;
        ok = r.string(c.name, "name");
        out = std::move(c);
        break;
      }
      case tag::user_passwd: {
        user_passwd c;
        ok = r.string(c.name, "name") && r.string(c.password_hash, "password hash");
        out = std::move(c);
        break;
      }
      case tag::user_grant: {
        user_grant c;
        ok = r.string(c.user, "user") && r.string(c.role, "role");
        out = std::move(c);
        break;
      }
      case tag::user_revoke: {
        user_revoke c;
        ok = r.string(c.user, "user") && r.string(c.role, "role");
        out = std::move(c);
        break;
      }
      case tag::role_add: {
        role_add c;
        ok = r.string(c.name, "name");
        out = std::move(c);
        break;
      }
      case tag::role_delete: {
        role_delete c;
        ok = r.string(c.name, "name");
        out = std::move(c);
        break;
      }
      case tag::role_grant: {
        role_grant c;
        ok = r.string(c.role, "role") && read(r, c.perm);
        out = std::move(c);
        break;
      }
      case tag::role_revoke: {
        role_revoke c;
        ok = r.string(c.role, "role") && read(r, c.perm);
        out = std::move(c);
        break;
      }
      case tag::auth_enable:
        out = auth_enable{};
        break;
      case tag::auth_disable:
        out = auth_disable{};
        break;
      default:
        ok = r.fail("tag", "unknown auth command " + std::to_string(t));
    }
  }
  ok = ok && r.finish();
  if (!ok)
    error = "malformed auth command: " + r.error();
  return ok;
}

bool is_auth_command(std::string_view payload) {
  auto t = payload.empty() ? 0 : static_cast<std::uint8_t>(payload[0]);
  return t >= static_cast<std::uint8_t>(tag::user_add) &&
         t <= static_cast<std::uint8_t>(tag::auth_disable);
}

bool is_auth_query(std::string_view request) {
  return request.size() == 1 &&
         static_cast<std::uint8_t>(request[0]) == static_cast<std::uint8_t>(tag::auth_state);
}

std::string encode_state_query() {
  return std::string(1, static_cast<char>(tag::auth_state));
}

std::string encode(const result& res) {
  writer w;
  w.integer(static_cast<std::uint8_t>(res.code));
  w.string(res.message);
  return w.take();
}

std::string encode_state(const auth_store& store) {
  writer w;
  w.integer(static_cast<std::uint8_t>(result_code::ok));
  w.string("");
  store.save(w);
  return w.take();
}

bool decode(std::string_view bytes, result& out, auth_store* store, bool& has_store,
            std::string& error) {
  reader r{bytes};
  std::uint8_t code = 0;
  has_store = false;
  bool ok = r.integer(code, "code") && r.string(out.message, "message");
  if (ok && code > static_cast<std::uint8_t>(result_code::bad_request))
    ok = r.fail("code", "unknown result code " + std::to_string(code));
  out.code = static_cast<result_code>(code);
  if (ok && r.remaining() > 0) {
    if (store == nullptr)
      ok = r.fail("store", "a store where none was expected");
    else
      ok = has_store = store->load(r);
  }
  ok = ok && r.finish();
  if (!ok)
    error = "malformed auth result: " + r.error();
  return ok;
}

}  // namespace ballot::auth
