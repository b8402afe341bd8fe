// Users, roles and authentication at the gateway: who a connection is, what
// it may do, and the calls that change users and roles. The rules themselves
// are actors/auth's; this file applies them to calls and keeps the audit log.
#include <thread>
#include <utility>

#include "actors/auth/auth_codec.hpp"
#include "runtime/gateway/call_util.hpp"
#include "runtime/gateway/password.hpp"
#include "runtime/gateway/service.hpp"

namespace ballot::gateway {

namespace {

constexpr std::size_t max_credential_bytes = 1024;
constexpr std::size_t max_remembered_hashes = 1024;

/// The auth command a call asks for; hashes are filled in later.
std::optional<auth::command> to_command(schemas::client::AuthChange::Reader c,
                                        std::string& password, std::string& error) {
  using which = schemas::client::AuthChange::Which;
  auto perm = [&](schemas::client::Permission::Reader p) {
    auth::permission out;
    switch (p.getKind()) {
      case schemas::client::PermissionKind::READ:
        out.kind = auth::permission_kind::read;
        break;
      case schemas::client::PermissionKind::WRITE:
        out.kind = auth::permission_kind::write;
        break;
      case schemas::client::PermissionKind::READWRITE:
        out.kind = auth::permission_kind::readwrite;
        break;
      case schemas::client::PermissionKind::LOCK:
        out.kind = auth::permission_kind::lock;
        break;
    }
    out.prefix = to_std(p.getPrefix());
    return out;
  };
  switch (c.which()) {
    case which::USER_ADD:
      password = to_std(c.getUserAdd().getPassword());
      return auth::user_add{to_std(c.getUserAdd().getName()), {}};
    case which::USER_DELETE:
      return auth::user_delete{to_std(c.getUserDelete())};
    case which::USER_PASSWD:
      password = to_std(c.getUserPasswd().getPassword());
      return auth::user_passwd{to_std(c.getUserPasswd().getName()), {}};
    case which::USER_GRANT:
      return auth::user_grant{to_std(c.getUserGrant().getUser()),
                              to_std(c.getUserGrant().getRole())};
    case which::USER_REVOKE:
      return auth::user_revoke{to_std(c.getUserRevoke().getUser()),
                               to_std(c.getUserRevoke().getRole())};
    case which::ROLE_ADD:
      return auth::role_add{to_std(c.getRoleAdd())};
    case which::ROLE_DELETE:
      return auth::role_delete{to_std(c.getRoleDelete())};
    case which::ROLE_GRANT:
      return auth::role_grant{to_std(c.getRoleGrant().getRole()),
                              perm(c.getRoleGrant().getPermission())};
    case which::ROLE_REVOKE:
      return auth::role_revoke{to_std(c.getRoleRevoke().getRole()),
                               perm(c.getRoleRevoke().getPermission())};
    case which::ENABLE:
      return auth::auth_enable{};
    case which::DISABLE:
      return auth::auth_disable{};
  }
  error = "unknown auth change (a newer client?)";
  return std::nullopt;
}

schemas::client::PermissionKind to_capnp(auth::permission_kind k) {
  switch (k) {
    case auth::permission_kind::read:
      return schemas::client::PermissionKind::READ;
    case auth::permission_kind::write:
      return schemas::client::PermissionKind::WRITE;
    case auth::permission_kind::readwrite:
      return schemas::client::PermissionKind::READWRITE;
    case auth::permission_kind::lock:
      return schemas::client::PermissionKind::LOCK;
  }
  return schemas::client::PermissionKind::READ;
}

}  // namespace

std::string service::user_of(const connection_context& conn) {
  return conn.user.empty() ? conn.cert_common_name : conn.user;
}

void service::audit(const std::string& result, const connection_context& conn,
                    const std::string& op, const std::string& target,
                    const std::string& why) const {
  if (opts_.audit)
    opts_.audit->record(result, user_of(conn), conn.address, op, target, why);
}

std::optional<service::denial> service::check_user(const connection_context& conn, const char* op) {
  return check_user(conn, opts_.feed->auth().get(), op);
}

std::optional<service::denial> service::check_user(const connection_context& conn,
                                                   const auth::auth_store* store, const char* op) {
  if (store == nullptr || !store->enabled())
    return std::nullopt;
  auto user = user_of(conn);
  if (user.empty() || store->find_user(user) == nullptr) {
    denial d{true, user.empty() ? "authentication is on: authenticate (--user) or present a "
                                  "client certificate whose common name is a user"
                                : "user " + user + " does not exist"};
    audit("denied", conn, op, "", d.message);
    return d;
  }
  return std::nullopt;
}

std::optional<service::denial> service::check(const connection_context& conn, auth::access what,
                                              const std::string& target, bool prefix,
                                              const char* op) {
  // One copy of the store for the whole check (each read takes the feed's lock).
  auto store = opts_.feed->auth();
  if (auto d = check_user(conn, store.get(), op))
    return d;
  if (!store || !store->enabled())
    return std::nullopt;
  auto user = user_of(conn);
  bool ok = prefix ? store->allowed_prefix(user, what, target) : store->allowed(user, what, target);
  if (ok)
    return std::nullopt;
  denial d{false, "user " + user + " may not " + auth::to_string(what) + " " +
                    (what == auth::access::lock ? "lock "
                     : prefix                   ? "prefix "
                                                : "key ") +
                    "\"" + target.substr(0, 64) + "\" (" + op + ")"};
  audit("denied", conn, op, target, d.message);
  return d;
}

std::optional<service::denial> service::check_root(const connection_context& conn, const char* op,
                                                   const std::string& target) {
  auto store = opts_.feed->auth();
  if (auto d = check_user(conn, store.get(), op))
    return d;
  if (!store || !store->enabled() || store->is_root(user_of(conn)))
    return std::nullopt;
  denial d{false, "user " + user_of(conn) + " does not have the root role"};
  audit("denied", conn, op, target, d.message);
  return d;
}

lock::credential service::credential_for(const connection_context& conn, std::uint64_t session,
                                         std::uint64_t secret) {
  if (secret == 0)
    if (auto it = conn.session_secrets.find(session); it != conn.session_secrets.end())
      secret = it->second;
  return {user_of(conn), secret};
}

kj::Promise<std::shared_ptr<const auth::auth_store>> service::fresh_auth() {
  return ask(false, {}, auth::encode_state_query()).then([](const bridge_reply& r) {
    std::shared_ptr<const auth::auth_store> out;
    if (r.st != bridge_reply::status::ok)
      return out;
    auto store = std::make_shared<auth::auth_store>();
    auth::result res;
    bool has = false;
    std::string error;
    if (auth::decode(r.result, res, store.get(), has, error) && has)
      out = std::move(store);
    return out;
  });
}

kj::Promise<std::optional<std::string>> service::hash_async(std::string password) {
  auto [answer, done] = handoff<std::optional<std::string>>();
  ++hashing_;
  std::thread{[password = std::move(password), done = std::move(done)] {
    done(hash_password(password));
  }}.detach();
  return answer.attach(kj::defer([this] { --hashing_; }));
}

kj::Promise<bool> service::verify_async(std::string hash, std::string password) {
  auto [answer, done] = handoff<bool>();
  ++hashing_;
  std::thread{[hash = std::move(hash), password = std::move(password), done = std::move(done)] {
    done(verify_password(hash, password));
  }}.detach();
  return answer.attach(kj::defer([this] { --hashing_; }));
}

kj::Promise<void> service::authenticate(connection_context& conn, AuthenticateContext context) {
  auto p = context.getParams();
  auto user = to_std(p.getUser());
  auto password = to_std(p.getPassword());
  auto out = context.getResults().initResult();
  if (user.size() > max_credential_bytes || password.size() > max_credential_bytes)
    return bad_request(context, "user name and password are limited to " +
                                  std::to_string(max_credential_bytes) + " bytes each");
  // Each check costs 19 MiB and tens of milliseconds: a flood of wrong
  // passwords is refused here rather than exhausting the node.
  if (hashing_ >= max_hashing) {
    out.initError().setOverloaded("too many password checks in progress on this node; retry");
    return kj::READY_NOW;
  }
  auto known = opts_.feed->auth();
  std::string local;
  if (known)
    if (auto* u = known->find_user(user))
      local = u->password_hash;
  auto check_with = [this, password](const std::string& hash) -> kj::Promise<bool> {
    if (hash.empty())
      return false;
    return verify_async(hash, password);
  };
  // This node may lag the cluster by a few commands: a user added or a
  // password changed a moment ago is looked up again (a linearizable read)
  // before the answer is no. The verdict: 1 yes, 0 no, -1 the cluster did not
  // answer, which is `unavailable` (try another node), never a final
  // `unauthenticated` (a node replaying its log after a restart would
  // otherwise turn right passwords away for good).
  auto checked =
    check_with(local).then([this, user, local, check_with](bool ok) -> kj::Promise<int> {
      if (ok)
        return 1;
      return fresh_auth().then(
        [user, local,
         check_with](const std::shared_ptr<const auth::auth_store>& s) -> kj::Promise<int> {
          if (!s)
            return -1;
          auto* u = s->find_user(user);
          if (u == nullptr || u->password_hash == local)
            return 0;
          return check_with(u->password_hash).then([](bool ok) { return ok ? 1 : 0; });
        });
    });
  return track(checked.then([this, &conn, context, user](int verdict) mutable {
    auto out = context.getResults().initResult();
    if (verdict < 0) {
      out.initError().setUnavailable("the cluster did not answer; cannot check the user");
      return;
    }
    if (verdict == 0) {
      // One answer for an unknown user and a wrong password.
      audit("failed", conn, "authenticate", user, "wrong user name or password");
      out.initError().setUnauthenticated("wrong user name or password");
      return;
    }
    conn.user = user;
    out.setOk();
  }));
}

kj::Promise<void> service::authChange(connection_context& conn, AuthChangeContext context) {
  auto p = context.getParams();
  std::string password;
  std::string error;
  auto cmd = to_command(p.getChange(), password, error);
  if (!cmd)
    return bad_request(context, error);
  auto what = auth::describe(*cmd);
  if (auto d = check_root(conn, "auth change", what))
    return refuse_access(context, d->unauthenticated, d->message);
  if (password.size() > max_credential_bytes)
    return bad_request(
      context, "passwords are limited to " + std::to_string(max_credential_bytes) + " bytes");
  auto id = p.getId();
  auto key = std::make_pair(id.getClientId(), id.getSeq());
  bool needs_hash = !password.empty();
  if (needs_hash && hashing_ >= max_hashing) {
    context.getResults().initResult().initError().setOverloaded(
      "too many password hashes in progress on this node; retry");
    return kj::READY_NOW;
  }
  kj::Promise<std::optional<std::string>> hashed = std::optional<std::string>{std::string{}};
  if (auto it = hashed_.find(key); needs_hash && it != hashed_.end())
    hashed = std::optional<std::string>{it->second};
  else if (needs_hash)
    hashed = hash_async(std::move(password));
  return track(
    hashed
      .then([this, cmd = std::move(*cmd),
             key](std::optional<std::string> h) mutable -> kj::Promise<bridge_reply> {
        if (!h) {
          bridge_reply failed;
          failed.st = bridge_reply::status::unavailable;
          failed.message = "the node could not hash the password";
          return failed;
        }
        if (!h->empty()) {
          if (hashed_.size() >= max_remembered_hashes)
            hashed_.erase(hashed_.begin());
          hashed_[key] = *h;
        }
        if (auto* a = std::get_if<auth::user_add>(&cmd))
          a->password_hash = *h;
        else if (auto* pw = std::get_if<auth::user_passwd>(&cmd))
          pw->password_hash = *h;
        return ask(true, paxos::command{key.first, key.second, auth::encode(cmd)}, {});
      })
      .then([this, &conn, context, what](const bridge_reply& r) mutable {
        auto out = context.getResults().initResult();
        auto* bytes = accepted(r, opts_, [&] { return out.initError(); });
        if (bytes == nullptr) {
          audit("failed", conn, "auth change", what, r.message.empty() ? "no answer" : r.message);
          return;
        }
        auth::result res;
        bool has = false;
        std::string error;
        if (!auth::decode(*bytes, res, nullptr, has, error)) {
          out.initError().setUnavailable("the state machine's answer does not decode: " + error);
          return;
        }
        audit(res.code == auth::result_code::ok ? "ok" : "failed", conn, "auth change", what,
              res.message);
        switch (res.code) {
          case auth::result_code::ok:
            out.setOk();
            break;
          case auth::result_code::not_found:
            out.initError().setNotFound();
            break;
          case auth::result_code::already_exists:
            out.initError().setAlreadyExists(res.message);
            break;
          case auth::result_code::bad_request:
            out.initError().setBadRequest(res.message);
            break;
        }
      }));
}

kj::Promise<void> service::authList(connection_context& conn, AuthListContext context) {
  if (auto d = check_root(conn, "auth list", ""))
    return refuse_access(context, d->unauthenticated, d->message);
  return track(
    fresh_auth().then([context](const std::shared_ptr<const auth::auth_store>& s) mutable {
      auto out = context.getResults().initResult();
      if (!s) {
        out.initError().setUnavailable("the cluster did not answer");
        return;
      }
      auto listing = out.initListing();
      listing.setEnabled(s->enabled());
      auto users = listing.initUsers(static_cast<unsigned>(s->users().size()));
      unsigned i = 0;
      for (auto& [name, u] : s->users()) {
        auto b = users[i++];
        b.setName(name);
        b.setHasPassword(!u.password_hash.empty());
        auto roles = b.initRoles(static_cast<unsigned>(u.roles.size()));
        unsigned j = 0;
        for (auto& r : u.roles)
          roles.set(j++, r);
      }
      auto roles = listing.initRoles(static_cast<unsigned>(s->roles().size()));
      i = 0;
      for (auto& [name, r] : s->roles()) {
        auto b = roles[i++];
        b.setName(name);
        auto perms = b.initPermissions(static_cast<unsigned>(r.perms.size()));
        for (unsigned j = 0; j < r.perms.size(); ++j) {
          perms[j].setKind(to_capnp(r.perms[j].kind));
          perms[j].setPrefix(r.perms[j].prefix);
        }
      }
    }));
}

kj::Promise<void> service::whoAmI(connection_context& conn, WhoAmIContext context) {
  auto store = opts_.feed->auth();
  auto user = user_of(conn);
  auto out = context.getResults();
  out.setUser(user);
  out.setRoot(store && store->is_root(user));
  out.setEnabled(store && store->enabled());
  return kj::READY_NOW;
}

}  // namespace ballot::gateway
