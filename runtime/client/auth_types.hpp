#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "actors/auth/auth_store.hpp"
#include "actors/kv/result.hpp"

/// Users, roles and permissions as the client library's admin calls take and
/// answer them (schemas/client.capnp `AuthChange`, `AuthListing`, `whoAmI`).
/// Plain values: this header needs neither CAF nor Cap'n Proto.
namespace ballot::client {

/// What a role may do under a prefix: `read` is get, list and watch; `write`
/// is put and delete (plain and ephemeral); `lock` is acquire, release,
/// check-token and lock-info of lock names. The same kinds the cluster's
/// auth store keeps (actors/auth), with its names.
using auth::permission_kind;

/// "read", "write", "readwrite", "lock".
inline const char* to_string(permission_kind k) {
  return auth::to_string(k);
}
/// The kind `text` names; false if none.
inline bool parse_permission_kind(const std::string& text, permission_kind& out) {
  return auth::parse_kind(text, out);
}

struct permission {
  permission_kind kind = permission_kind::read;
  /// Keys (or lock names) starting with it; "" is everything.
  std::string prefix;
};

/// How an admin call (user and role changes, auth on and off) ended.
enum class auth_code : std::uint8_t {
  ok,
  not_found,          ///< the user or role named does not exist
  already_exists,     ///< the user, role or grant exists already
  bad_request,        ///< an invalid name, a cap, or a rule (the root role) refused it
  unauthenticated,    ///< no user, or a wrong user name or password
  permission_denied,  ///< the caller lacks the root role
  overloaded,         ///< a node kept refusing until the timeout; nothing was done
  unavailable,        ///< no answer in time: it may or may not have applied
};

/// "ok", "not_found", "already_exists", ... (the names --json prints).
const char* to_string(auth_code c);

struct auth_result {
  auth_code code = auth_code::ok;
  /// Why, in the node's words, when not ok.
  std::string message;

  bool ok() const { return code == auth_code::ok; }
};

struct auth_user {
  std::string name;
  std::vector<std::string> roles;
  /// False: the user authenticates only by a client certificate's common name.
  bool has_password = false;
};

struct auth_role {
  std::string name;
  std::vector<permission> permissions;
};

/// The answer to `auth_list`.
struct auth_listing {
  auth_result result;
  bool enabled = false;
  std::vector<auth_user> users;
  std::vector<auth_role> roles;

  bool ok() const { return result.ok(); }
};

/// The answer to `whoami`: who the connection acts as, as one node sees it.
struct identity {
  auth_result result;
  /// "" = anonymous.
  std::string user;
  bool root = false;
  /// Authentication is on (as that node has applied it).
  bool enabled = false;

  bool ok() const { return result.ok(); }
};

}  // namespace ballot::client
