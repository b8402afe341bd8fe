// Users, roles and authentication in the client library: the connection's
// `authenticate` (options::user) and the admin calls (authChange, authList,
// whoAmI).
#include <string>
#include <utility>

#include "runtime/client/client.hpp"
#include "runtime/client/client_impl.hpp"

namespace ballot::client {

namespace detail {

enum class change_kind {
  user_add,
  user_delete,
  user_passwd,
  user_grant,
  user_revoke,
  role_add,
  role_delete,
  role_grant,
  role_revoke,
  enable,
  disable,
};

/// One auth change: `name` is the user or role it is about, `other` the role
/// of a user grant or revoke.
struct auth_request {
  change_kind kind = change_kind::enable;
  std::string name;
  std::string other;
  std::string password;
  permission perm;
};

outcome refused_link(const link& l) {
  outcome o;
  o.res = kv::result::error(kv::result_code::unauthenticated, l.refusal);
  o.lres = lock::result::error(lock::result_code::unauthenticated, l.refusal);
  return o;
}

}  // namespace detail

namespace {

using schemas::client::PermissionKind;

PermissionKind to_capnp(permission_kind k) {
  switch (k) {
    case permission_kind::read:
      return PermissionKind::READ;
    case permission_kind::write:
      return PermissionKind::WRITE;
    case permission_kind::readwrite:
      return PermissionKind::READWRITE;
    case permission_kind::lock:
      return PermissionKind::LOCK;
  }
  return PermissionKind::READ;
}

permission_kind from_capnp(PermissionKind k) {
  switch (k) {
    case PermissionKind::READ:
      return permission_kind::read;
    case PermissionKind::WRITE:
      return permission_kind::write;
    case PermissionKind::READWRITE:
      return permission_kind::readwrite;
    case PermissionKind::LOCK:
      return permission_kind::lock;
  }
  return permission_kind::read;
}

void set_permission(schemas::client::RolePermission::Builder b, const auth_request& r) {
  b.setRole(as_text(r.name));
  auto p = b.initPermission();
  p.setKind(to_capnp(r.perm.kind));
  p.setPrefix(as_text(r.perm.prefix));
}

void fill(schemas::client::AuthChange::Builder b, const auth_request& r) {
  switch (r.kind) {
    case change_kind::user_add: {
      auto u = b.initUserAdd();
      u.setName(as_text(r.name));
      u.setPassword(as_text(r.password));
      return;
    }
    case change_kind::user_delete:
      b.setUserDelete(as_text(r.name));
      return;
    case change_kind::user_passwd: {
      auto u = b.initUserPasswd();
      u.setName(as_text(r.name));
      u.setPassword(as_text(r.password));
      return;
    }
    case change_kind::user_grant: {
      auto g = b.initUserGrant();
      g.setUser(as_text(r.name));
      g.setRole(as_text(r.other));
      return;
    }
    case change_kind::user_revoke: {
      auto g = b.initUserRevoke();
      g.setUser(as_text(r.name));
      g.setRole(as_text(r.other));
      return;
    }
    case change_kind::role_add:
      b.setRoleAdd(as_text(r.name));
      return;
    case change_kind::role_delete:
      b.setRoleDelete(as_text(r.name));
      return;
    case change_kind::role_grant:
      set_permission(b.initRoleGrant(), r);
      return;
    case change_kind::role_revoke:
      set_permission(b.initRoleRevoke(), r);
      return;
    case change_kind::enable:
      b.setEnable();
      return;
    case change_kind::disable:
      b.setDisable();
      return;
  }
}

/// The admin answer of a finished call. The call machinery reports in
/// key/value codes; `version_mismatch` is how it carries alreadyExists.
auth_result to_auth(const kv::result& r) {
  using kv::result_code;
  auth_result out;
  out.message = r.message;
  switch (r.code) {
    case result_code::ok:
      out.code = auth_code::ok;
      break;
    case result_code::not_found:
      out.code = auth_code::not_found;
      break;
    case result_code::version_mismatch:
      out.code = auth_code::already_exists;
      break;
    case result_code::unauthenticated:
      out.code = auth_code::unauthenticated;
      break;
    case result_code::permission_denied:
      out.code = auth_code::permission_denied;
      break;
    case result_code::overloaded:
      out.code = auth_code::overloaded;
      break;
    case result_code::unavailable:
    case result_code::expired:  // unknown whether it applied, like unavailable
      out.code = auth_code::unavailable;
      break;
    case result_code::bad_request:
    case result_code::quota_exceeded:
    case result_code::request_id_reused:
      out.code = auth_code::bad_request;
      break;
  }
  return out;
}

}  // namespace

const char* to_string(auth_code c) {
  switch (c) {
    case auth_code::ok:
      return "ok";
    case auth_code::not_found:
      return "not_found";
    case auth_code::already_exists:
      return "already_exists";
    case auth_code::bad_request:
      return "bad_request";
    case auth_code::unauthenticated:
      return "unauthenticated";
    case auth_code::permission_denied:
      return "permission_denied";
    case auth_code::overloaded:
      return "overloaded";
    case auth_code::unavailable:
      return "unavailable";
  }
  return "unavailable";
}

kj::Promise<kj::Own<link>> client::impl::authenticate(kj::Own<link> l) {
  if (opts.user.empty())
    return kj::mv(l);
  auto req = l->cap.authenticateRequest();
  req.setUser(as_text(opts.user));
  req.setPassword(as_text(opts.password));
  auto& ref = *l;
  return req.send()
    .then([&ref, user = opts.user](capnp::Response<Ballot::AuthenticateResults> r) {
      auto res = r.getResult();
      if (res.isOk())
        return;
      auto e = res.getError();
      if (e.isUnauthenticated()) {
        // Final: the same name and password are wrong at every node.
        ref.refused = true;
        ref.refusal = to_std(e.getUnauthenticated());
        return;
      }
      // Anything else (overloaded with password checks, a newer node's
      // answer) fails this connection: the call tries again elsewhere.
      auto o = from_error(e);
      auto why =
        "authentication as " + user + " failed: " + (o.why.empty() ? o.res.message : o.why);
      kj::throwFatalException(
        kj::Exception{kj::Exception::Type::DISCONNECTED, __FILE__, __LINE__, kj::str(why.c_str())});
    })
    .then([l = kj::mv(l)]() mutable { return kj::mv(l); });
}

kj::Promise<outcome> client::impl::send_auth(link& l, const call& c) {
  if (c.kind == op::whoami)
    return l.cap.whoAmIRequest().send().then([](capnp::Response<Ballot::WhoAmIResults> r) {
      outcome o;
      o.who = std::make_shared<identity>();
      o.who->user = to_std(r.getUser());
      o.who->root = r.getRoot();
      o.who->enabled = r.getEnabled();
      return o;
    });
  if (c.kind == op::auth_list)
    return l.cap.authListRequest().send().then([](capnp::Response<Ballot::AuthListResults> r) {
      auto res = r.getResult();
      if (!res.isListing())
        return from_error(res.getError());
      auto in = res.getListing();
      outcome o;
      o.listing = std::make_shared<auth_listing>();
      o.listing->enabled = in.getEnabled();
      for (auto u : in.getUsers()) {
        auth_user out{to_std(u.getName()), {}, u.getHasPassword()};
        for (auto role : u.getRoles())
          out.roles.push_back(to_std(role));
        o.listing->users.push_back(std::move(out));
      }
      for (auto role : in.getRoles()) {
        auth_role out{to_std(role.getName()), {}};
        for (auto p : role.getPermissions())
          out.permissions.push_back({from_capnp(p.getKind()), to_std(p.getPrefix())});
        o.listing->roles.push_back(std::move(out));
      }
      return o;
    });
  auto req = l.cap.authChangeRequest();
  auto rid = req.initId();
  rid.setClientId(id);
  rid.setSeq(c.seq);
  fill(req.initChange(), *c.change);
  return req.send().then([](capnp::Response<Ballot::AuthChangeResults> r) {
    auto res = r.getResult();
    return res.isOk() ? finished(kv::result{}) : from_error(res.getError());
  });
}

// -- public interface ----------------------------------------------------------

namespace {

call_ptr change(std::chrono::milliseconds timeout, auth_request r) {
  auto c = make_call(op::auth_change, timeout);
  c->change = std::make_shared<const auth_request>(std::move(r));
  return c;
}

}  // namespace

auth_result client::user_add(const std::string& name, const std::string& password) {
  return to_auth(
    impl_->wait(change(impl_->opts.timeout, {change_kind::user_add, name, {}, password, {}})).res);
}

auth_result client::user_delete(const std::string& name) {
  return to_auth(
    impl_->wait(change(impl_->opts.timeout, {change_kind::user_delete, name, {}, {}, {}})).res);
}

auth_result client::user_passwd(const std::string& name, const std::string& password) {
  return to_auth(
    impl_->wait(change(impl_->opts.timeout, {change_kind::user_passwd, name, {}, password, {}}))
      .res);
}

auth_result client::user_grant(const std::string& user, const std::string& role) {
  return to_auth(
    impl_->wait(change(impl_->opts.timeout, {change_kind::user_grant, user, role, {}, {}})).res);
}

auth_result client::user_revoke(const std::string& user, const std::string& role) {
  return to_auth(
    impl_->wait(change(impl_->opts.timeout, {change_kind::user_revoke, user, role, {}, {}})).res);
}

auth_result client::role_add(const std::string& name) {
  return to_auth(
    impl_->wait(change(impl_->opts.timeout, {change_kind::role_add, name, {}, {}, {}})).res);
}

auth_result client::role_delete(const std::string& name) {
  return to_auth(
    impl_->wait(change(impl_->opts.timeout, {change_kind::role_delete, name, {}, {}, {}})).res);
}

auth_result client::role_grant(const std::string& role, const permission& perm) {
  return to_auth(
    impl_->wait(change(impl_->opts.timeout, {change_kind::role_grant, role, {}, {}, perm})).res);
}

auth_result client::role_revoke(const std::string& role, const permission& perm) {
  return to_auth(
    impl_->wait(change(impl_->opts.timeout, {change_kind::role_revoke, role, {}, {}, perm})).res);
}

auth_result client::auth_enable() {
  return to_auth(
    impl_->wait(change(impl_->opts.timeout, {change_kind::enable, {}, {}, {}, {}})).res);
}

auth_result client::auth_disable() {
  return to_auth(
    impl_->wait(change(impl_->opts.timeout, {change_kind::disable, {}, {}, {}, {}})).res);
}

auth_listing client::auth_list() {
  auto o = impl_->wait(make_call(op::auth_list, impl_->opts.timeout));
  if (o.listing)
    return std::move(*o.listing);
  auth_listing out;
  out.result = to_auth(o.res);
  if (out.result.ok())
    out.result = {auth_code::unavailable, "no listing in the answer"};
  return out;
}

identity client::whoami() {
  auto o = impl_->wait(make_call(op::whoami, impl_->opts.timeout));
  if (o.who)
    return std::move(*o.who);
  identity out;
  out.result = to_auth(o.res);
  if (out.result.ok())
    out.result = {auth_code::unavailable, "no answer"};
  return out;
}

}  // namespace ballot::client
