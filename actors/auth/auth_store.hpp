#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "actors/kv/byte_codec.hpp"

/// Users, roles and permissions: replicated state like keys and locks, so a
/// grant made at one node holds at every node and survives restarts and
/// leader changes (the anchors: etcd's auth store, ZooKeeper's ACLs).
///
/// Pure and deterministic. Passwords never reach it: the gateway hashes them
/// (argon2id, libsodium's `crypto_pwhash_str`) and proposes the hash string,
/// so the log, snapshots and peers only ever carry hashes.
namespace ballot::auth {

/// What a role may do under a prefix. `read` covers get, list and watch of
/// keys; `write` covers put and delete (plain and ephemeral); `lock` covers
/// acquire, release, check-token and lock-info of lock names.
enum class permission_kind : std::uint8_t { read = 1, write = 2, readwrite = 3, lock = 4 };

/// "read", "write", "readwrite", "lock"; nullopt-like false if unknown.
bool parse_kind(std::string_view text, permission_kind& out);
const char* to_string(permission_kind k);

struct permission {
  permission_kind kind = permission_kind::read;
  /// Keys (or lock names) starting with it; "" is everything.
  std::string prefix;

  friend bool operator==(const permission& a, const permission& b) {
    return a.kind == b.kind && a.prefix == b.prefix;
  }
};

/// The role every cluster has: it may do everything, including user and role
/// changes. It cannot be deleted or changed.
inline constexpr std::string_view root_role = "root";

struct user_add {
  std::string name;
  /// `crypto_pwhash_str` output; "" for a user that authenticates only by
  /// its client certificate's common name.
  std::string password_hash;
};
struct user_delete {
  std::string name;
};
struct user_passwd {
  std::string name;
  std::string password_hash;
};
struct user_grant {
  std::string user;
  std::string role;
};
struct user_revoke {
  std::string user;
  std::string role;
};
struct role_add {
  std::string name;
};
struct role_delete {
  std::string name;
};
struct role_grant {
  std::string role;
  permission perm;
};
struct role_revoke {
  std::string role;
  permission perm;
};
/// Turns checks on; refused unless some user holds the root role, so the
/// cluster cannot lock everyone out.
struct auth_enable {};
struct auth_disable {};

using command = std::variant<user_add, user_delete, user_passwd, user_grant, user_revoke, role_add,
                             role_delete, role_grant, role_revoke, auth_enable, auth_disable>;

/// A short name of the command ("user add", ...) for logs and audit lines.
std::string describe(const command& cmd);

enum class result_code : std::uint8_t {
  ok = 0,
  not_found = 1,       ///< the user or role does not exist
  already_exists = 2,  ///< the user or role (or the grant) exists already
  bad_request = 3,     ///< invalid name, a cap reached, or a rule (root) refuses
};

struct result {
  result_code code = result_code::ok;
  std::string message;
};

/// What a request wants to do with a key or lock name.
enum class access : std::uint8_t { read, write, lock };
/// "read", "write" or "lock": the verb of a refusal's message.
const char* to_string(access what);

class auth_store {
 public:
  struct user {
    std::string password_hash;
    std::set<std::string> roles;
  };
  struct role {
    std::vector<permission> perms;
  };

  /// Caps, so the replicated state (and every snapshot) stays bounded.
  static constexpr std::size_t max_users = 10'000;
  static constexpr std::size_t max_roles = 10'000;
  static constexpr std::size_t max_perms_per_role = 1'000;
  static constexpr std::size_t max_roles_per_user = 100;
  static constexpr std::size_t max_name_bytes = 256;
  static constexpr std::size_t max_prefix_bytes = 4096;
  static constexpr std::size_t max_hash_bytes = 256;
  /// The bytes of names, hashes and prefixes together: the counts above
  /// alone would allow gigabytes (10k roles of 1k prefixes of 4 KiB), and
  /// the whole store travels in every snapshot and `auth_state` answer.
  static constexpr std::size_t max_state_bytes = 16u << 20;

  /// Bytes of names, hashes and prefixes held now (what `max_state_bytes` bounds).
  std::size_t bytes() const;

  result execute(const command& cmd);

  bool enabled() const { return enabled_; }
  /// Bumped by every change that succeeded: lets holders of a copy tell
  /// whether theirs is current.
  std::uint64_t revision() const { return revision_; }

  const user* find_user(const std::string& name) const;
  bool is_root(const std::string& name) const;

  /// May `name` do `what` to `key`? Always true while authentication is off.
  bool allowed(const std::string& name, access what, std::string_view key) const;
  /// May `name` do `what` to every key starting with `prefix` (a list or a
  /// prefix watch)? Needs one grant whose prefix is a prefix of `prefix`.
  bool allowed_prefix(const std::string& name, access what, std::string_view prefix) const;

  const std::map<std::string, user>& users() const { return users_; }
  const std::map<std::string, role>& roles() const { return roles_; }

  /// `enabled:u8 revision:u64 users:u32 (name hash roles:u32 name*)* roles:u32 (name
  /// perms:u32 (kind:u8 prefix)*)*`.
  void save(kv::detail::writer& w) const;
  /// Reads what `save` wrote into this (empty) store; false with the
  /// reader's error set if the bytes are not a valid store.
  bool load(kv::detail::reader& r);

 private:
  result run(const user_add& c);
  result run(const user_delete& c);
  result run(const user_passwd& c);
  result run(const user_grant& c);
  result run(const user_revoke& c);
  result run(const role_add& c);
  result run(const role_delete& c);
  result run(const role_grant& c);
  result run(const role_revoke& c);
  result run(const auth_enable& c);
  result run(const auth_disable& c);

  bool has_root_user(const std::string& except = {}) const;
  /// Bytes `cmd` would add (0 for one that only removes or switches).
  static std::size_t growth(const command& cmd);

  bool enabled_ = false;
  std::uint64_t revision_ = 0;
  std::map<std::string, user> users_;
  /// The root role is implicit: never stored here.
  std::map<std::string, role> roles_;
};

}  // namespace ballot::auth
