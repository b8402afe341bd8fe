#include "actors/auth/auth_store.hpp"

#include <algorithm>
#include <type_traits>

namespace ballot::auth {

namespace {

result refuse(result_code code, std::string message) {
  return result{code, std::move(message)};
}

/// Names are printable and bounded: they appear in audit lines and listings.
bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > auth_store::max_name_bytes)
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f;
  });
}

bool covers(const permission& p, access what) {
  switch (what) {
    case access::read:
      return p.kind == permission_kind::read || p.kind == permission_kind::readwrite;
    case access::write:
      return p.kind == permission_kind::write || p.kind == permission_kind::readwrite;
    case access::lock:
      return p.kind == permission_kind::lock;
  }
  return false;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

bool parse_kind(std::string_view text, permission_kind& out) {
  if (text == "read")
    out = permission_kind::read;
  else if (text == "write")
    out = permission_kind::write;
  else if (text == "readwrite")
    out = permission_kind::readwrite;
  else if (text == "lock")
    out = permission_kind::lock;
  else
    return false;
  return true;
}

const char* to_string(access what) {
  switch (what) {
    case access::read:
      return "read";
    case access::write:
      return "write";
    case access::lock:
      return "lock";
  }
  return "use";
}

const char* to_string(permission_kind k) {
  switch (k) {
    case permission_kind::read:
      return "read";
    case permission_kind::write:
      return "write";
    case permission_kind::readwrite:
      return "readwrite";
    case permission_kind::lock:
      return "lock";
  }
  return "unknown";
}

std::string describe(const command& cmd) {
  return std::visit(
    [](auto& c) -> std::string {
      using T = std::decay_t<decltype(c)>;
      if constexpr (std::is_same_v<T, user_add>)
        return "user add " + c.name;
      else if constexpr (std::is_same_v<T, user_delete>)
        return "user delete " + c.name;
      else if constexpr (std::is_same_v<T, user_passwd>)
        return "user passwd " + c.name;
      else if constexpr (std::is_same_v<T, user_grant>)
        return "user grant " + c.user + " " + c.role;
      else if constexpr (std::is_same_v<T, user_revoke>)
        return "user revoke " + c.user + " " + c.role;
      else if constexpr (std::is_same_v<T, role_add>)
        return "role add " + c.name;
      else if constexpr (std::is_same_v<T, role_delete>)
        return "role delete " + c.name;
      else if constexpr (std::is_same_v<T, role_grant>)
        return "role grant " + c.role + " " + to_string(c.perm.kind) + " " + c.perm.prefix;
      else if constexpr (std::is_same_v<T, role_revoke>)
        return "role revoke " + c.role + " " + to_string(c.perm.kind) + " " + c.perm.prefix;
      else if constexpr (std::is_same_v<T, auth_enable>)
        return "auth enable";
      else
        return "auth disable";
    },
    cmd);
}

std::size_t auth_store::bytes() const {
  std::size_t n = 0;
  for (auto& [name, u] : users_) {
    n += name.size() + u.password_hash.size();
    for (auto& r : u.roles)
      n += r.size();
  }
  for (auto& [name, r] : roles_) {
    n += name.size();
    for (auto& p : r.perms)
      n += 1 + p.prefix.size();
  }
  return n;
}

std::size_t auth_store::growth(const command& cmd) {
  return std::visit(
    [](auto& c) -> std::size_t {
      using T = std::decay_t<decltype(c)>;
      if constexpr (std::is_same_v<T, user_add>)
        return c.name.size() + c.password_hash.size();
      else if constexpr (std::is_same_v<T, user_passwd>)
        return c.password_hash.size();
      else if constexpr (std::is_same_v<T, user_grant>)
        return c.role.size();
      else if constexpr (std::is_same_v<T, role_add>)
        return c.name.size();
      else if constexpr (std::is_same_v<T, role_grant>)
        return 1 + c.perm.prefix.size();
      else
        return 0;
    },
    cmd);
}

result auth_store::execute(const command& cmd) {
  if (auto more = growth(cmd); more > 0 && bytes() + more > max_state_bytes)
    return refuse(result_code::bad_request, "users and roles would pass their " +
                                              std::to_string(max_state_bytes >> 20) +
                                              " MiB bound; delete some first");
  auto r = std::visit([this](auto& c) { return run(c); }, cmd);
  if (r.code == result_code::ok)
    ++revision_;
  return r;
}

const auth_store::user* auth_store::find_user(const std::string& name) const {
  auto it = users_.find(name);
  return it == users_.end() ? nullptr : &it->second;
}

bool auth_store::is_root(const std::string& name) const {
  auto* u = find_user(name);
  return u != nullptr && u->roles.count(std::string{root_role}) != 0;
}

bool auth_store::allowed(const std::string& name, access what, std::string_view key) const {
  if (!enabled_)
    return true;
  auto* u = find_user(name);
  if (u == nullptr)
    return false;
  for (auto& role_name : u->roles) {
    if (role_name == root_role)
      return true;
    auto it = roles_.find(role_name);
    if (it == roles_.end())
      continue;
    for (auto& p : it->second.perms)
      if (covers(p, what) && starts_with(key, p.prefix))
        return true;
  }
  return false;
}

bool auth_store::allowed_prefix(const std::string& name, access what,
                                std::string_view prefix) const {
  // Every key under `prefix` starts with it, so one grant whose prefix is a
  // prefix of it covers them all; the same test as for one key.
  return allowed(name, what, prefix);
}

bool auth_store::has_root_user(const std::string& except) const {
  for (auto& [name, u] : users_)
    if (name != except && u.roles.count(std::string{root_role}) != 0)
      return true;
  return false;
}

result auth_store::run(const user_add& c) {
  if (!valid_name(c.name))
    return refuse(
      result_code::bad_request,
      "invalid user name (1.." + std::to_string(max_name_bytes) + " printable bytes, no spaces)");
  if (c.password_hash.size() > max_hash_bytes)
    return refuse(result_code::bad_request, "password hash too long");
  if (users_.count(c.name) != 0)
    return refuse(result_code::already_exists, "user " + c.name + " exists");
  if (users_.size() >= max_users)
    return refuse(result_code::bad_request,
                  "the cluster holds its maximum of " + std::to_string(max_users) + " users");
  users_[c.name].password_hash = c.password_hash;
  return {};
}

result auth_store::run(const user_delete& c) {
  if (users_.count(c.name) == 0)
    return refuse(result_code::not_found, "no user " + c.name);
  if (enabled_ && is_root(c.name) && !has_root_user(c.name))
    return refuse(result_code::bad_request,
                  "user " + c.name + " is the last root user; disable authentication first");
  users_.erase(c.name);
  return {};
}

result auth_store::run(const user_passwd& c) {
  auto it = users_.find(c.name);
  if (it == users_.end())
    return refuse(result_code::not_found, "no user " + c.name);
  if (c.password_hash.size() > max_hash_bytes)
    return refuse(result_code::bad_request, "password hash too long");
  it->second.password_hash = c.password_hash;
  return {};
}

result auth_store::run(const user_grant& c) {
  auto it = users_.find(c.user);
  if (it == users_.end())
    return refuse(result_code::not_found, "no user " + c.user);
  if (c.role != root_role && roles_.count(c.role) == 0)
    return refuse(result_code::not_found, "no role " + c.role);
  if (it->second.roles.count(c.role) != 0)
    return refuse(result_code::already_exists, "user " + c.user + " has role " + c.role);
  if (it->second.roles.size() >= max_roles_per_user)
    return refuse(result_code::bad_request, "user " + c.user + " has its maximum of " +
                                              std::to_string(max_roles_per_user) + " roles");
  it->second.roles.insert(c.role);
  return {};
}

result auth_store::run(const user_revoke& c) {
  auto it = users_.find(c.user);
  if (it == users_.end())
    return refuse(result_code::not_found, "no user " + c.user);
  if (it->second.roles.count(c.role) == 0)
    return refuse(result_code::not_found, "user " + c.user + " does not have role " + c.role);
  if (enabled_ && c.role == root_role && !has_root_user(c.user))
    return refuse(result_code::bad_request,
                  "user " + c.user + " is the last root user; disable authentication first");
  it->second.roles.erase(c.role);
  return {};
}

result auth_store::run(const role_add& c) {
  if (!valid_name(c.name))
    return refuse(
      result_code::bad_request,
      "invalid role name (1.." + std::to_string(max_name_bytes) + " printable bytes, no spaces)");
  if (c.name == root_role || roles_.count(c.name) != 0)
    return refuse(result_code::already_exists, "role " + c.name + " exists");
  if (roles_.size() >= max_roles)
    return refuse(result_code::bad_request,
                  "the cluster holds its maximum of " + std::to_string(max_roles) + " roles");
  roles_[c.name];
  return {};
}

result auth_store::run(const role_delete& c) {
  if (c.name == root_role)
    return refuse(result_code::bad_request, "the root role cannot be deleted");
  if (roles_.erase(c.name) == 0)
    return refuse(result_code::not_found, "no role " + c.name);
  // Like etcd: users lose the deleted role.
  for (auto& [name, u] : users_)
    u.roles.erase(c.name);
  return {};
}

result auth_store::run(const role_grant& c) {
  if (c.role == root_role)
    return refuse(result_code::bad_request, "the root role has every permission already");
  auto it = roles_.find(c.role);
  if (it == roles_.end())
    return refuse(result_code::not_found, "no role " + c.role);
  if (c.perm.prefix.size() > max_prefix_bytes)
    return refuse(result_code::bad_request,
                  "prefix longer than " + std::to_string(max_prefix_bytes) + " bytes");
  auto& perms = it->second.perms;
  if (std::find(perms.begin(), perms.end(), c.perm) != perms.end())
    return refuse(result_code::already_exists, "role " + c.role + " has that permission");
  if (perms.size() >= max_perms_per_role)
    return refuse(result_code::bad_request, "role " + c.role + " has its maximum of " +
                                              std::to_string(max_perms_per_role) + " permissions");
  perms.push_back(c.perm);
  return {};
}

result auth_store::run(const role_revoke& c) {
  auto it = roles_.find(c.role);
  if (it == roles_.end())
    return refuse(result_code::not_found, "no role " + c.role);
  auto& perms = it->second.perms;
  auto p = std::find(perms.begin(), perms.end(), c.perm);
  if (p == perms.end())
    return refuse(result_code::not_found, "role " + c.role + " does not have that permission");
  perms.erase(p);
  return {};
}

result auth_store::run(const auth_enable&) {
  if (!has_root_user())
    return refuse(result_code::bad_request,
                  "no user has the root role: add one (user add root; user grant root root) "
                  "before enabling authentication");
  enabled_ = true;
  return {};
}

result auth_store::run(const auth_disable&) {
  enabled_ = false;
  return {};
}

void auth_store::save(kv::detail::writer& w) const {
  w.integer(static_cast<std::uint8_t>(enabled_ ? 1 : 0));
  w.integer(revision_);
  w.integer(static_cast<std::uint32_t>(users_.size()));
  for (auto& [name, u] : users_) {
    w.string(name);
    w.string(u.password_hash);
    w.integer(static_cast<std::uint32_t>(u.roles.size()));
    for (auto& r : u.roles)
      w.string(r);
  }
  w.integer(static_cast<std::uint32_t>(roles_.size()));
  for (auto& [name, r] : roles_) {
    w.string(name);
    w.integer(static_cast<std::uint32_t>(r.perms.size()));
    for (auto& p : r.perms) {
      w.integer(static_cast<std::uint8_t>(p.kind));
      w.string(p.prefix);
    }
  }
}

bool auth_store::load(kv::detail::reader& r) {
  std::uint32_t n_users = 0;
  bool ok = r.flag(enabled_, "auth enabled") && r.integer(revision_, "auth revision") &&
            r.count(n_users, 12, "user count");
  for (std::uint32_t i = 0; ok && i < n_users; ++i) {
    std::string name;
    user u;
    std::uint32_t n_roles = 0;
    ok = r.string(name, "user name") && r.string(u.password_hash, "password hash") &&
         r.count(n_roles, 4, "user role count");
    for (std::uint32_t j = 0; ok && j < n_roles; ++j) {
      std::string role_name;
      ok = r.string(role_name, "user role");
      u.roles.insert(std::move(role_name));
    }
    if (ok && !users_.emplace(std::move(name), std::move(u)).second)
      ok = r.fail("user name", "repeated user");
  }
  std::uint32_t n_roles = 0;
  ok = ok && r.count(n_roles, 8, "role count");
  for (std::uint32_t i = 0; ok && i < n_roles; ++i) {
    std::string name;
    role ro;
    std::uint32_t n_perms = 0;
    ok = r.string(name, "role name") && r.count(n_perms, 5, "permission count");
    for (std::uint32_t j = 0; ok && j < n_perms; ++j) {
      std::uint8_t kind = 0;
      permission p;
      ok = r.integer(kind, "permission kind") && r.string(p.prefix, "permission prefix");
      if (ok && (kind < 1 || kind > 4))
        ok = r.fail("permission kind", "unknown kind " + std::to_string(kind));
      p.kind = static_cast<permission_kind>(kind);
      ro.perms.push_back(std::move(p));
    }
    if (ok && !roles_.emplace(std::move(name), std::move(ro)).second)
      ok = r.fail("role name", "repeated role");
  }
  return ok;
}

}  // namespace ballot::auth
