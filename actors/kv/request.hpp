#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

/// The operations of the key/value store, as plain values. They travel inside
/// a Paxos command payload (writes) or a read query, encoded by
/// `command_codec`.
namespace ballot::kv {

/// Stores `value` under `key`. With `if_version`, only if the key's current
/// version equals it; `if_version == 0` means "only if the key is absent".
struct put_request {
  std::string key;
  std::string value;
  std::optional<std::uint64_t> if_version;
  /// Who asked, stamped by the gateway that checked the write ("" when no
  /// one authenticated). With it, the state machine checks the permission
  /// again when it applies the write, against the users and roles of that
  /// point of the log; without it (the in-process actor API) it does not.
  std::optional<std::string> checked_user{};
};

/// Reads one key.
struct get_request {
  std::string key;
};

/// Removes `key`. With `if_version`, only if the key's current version equals it.
struct del_request {
  std::string key;
  std::optional<std::uint64_t> if_version;
  /// As `put_request::checked_user`.
  std::optional<std::string> checked_user{};
};

/// Lists the keys that start with `prefix`, in key order, with their versions.
/// `limit` caps the number of entries (0 = no cap); a capped answer says so.
/// A listing pages through any number of keys: the next page starts after
/// the last key of this one (`start_after`, "" = from the first key).
struct list_request {
  std::string prefix;
  std::uint32_t limit = 0;
  /// Only keys strictly greater than this ("" = no bound).
  std::string start_after{};
  /// Entries carry their values too.
  bool with_values = false;
  /// The listing stops (truncated) before its keys and values would pass
  /// this many bytes, but never before its first entry; 0 = no bound. Bounds
  /// one answer's size when values come along.
  std::uint64_t max_bytes = 0;
};

using request = std::variant<put_request, get_request, del_request, list_request>;

/// Whether `req` changes the store (and so must go through the log).
inline bool is_write(const request& req) {
  return std::holds_alternative<put_request>(req) || std::holds_alternative<del_request>(req);
}

}  // namespace ballot::kv
