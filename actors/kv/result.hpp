#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ballot::kv {

/// How an operation ended. Refusals are results, not exceptions: every replica
/// must compute the same answer from the same log.
enum class result_code : std::uint8_t {
  ok = 0,
  not_found = 1,         ///< the key is absent
  version_mismatch = 2,  ///< the if-version condition failed; `version` is the current one
  bad_request = 3,       ///< malformed or invalid request; `message` says why
  /// No replica answered in time. Made by clients only, never by the store:
  /// whether a write applied is unknown (a retry with the same request id is safe).
  unavailable = 4,
  // Refusals made by the replica or the gateway before anything applied (never
  // by the store); `message` says which budget or rule:
  overloaded = 5,         ///< a budget of the node is full; retry after a pause
  quota_exceeded = 6,     ///< the state is over the quota; `version` = the quota in bytes
  request_id_reused = 7,  ///< the (client, seq) already named a different command
  // Made by the gateway only (schemas/client.capnp), when authentication is on:
  unauthenticated = 8,    ///< no user, or a wrong user name or password
  permission_denied = 9,  ///< the user lacks the permission; `message` names it
  /// Made by the replica: the dedup table forgot the request id's client, so
  /// whether the write applied is unknown; a new client id is needed.
  expired = 10,
};

/// Readable name of a code ("ok", "not_found", ...).
const char* to_string(result_code code);

/// One key of a listing.
struct key_version {
  std::string key;
  std::uint64_t version = 0;
  /// The key's value, for a listing asked `with_values` (else empty).
  std::string value{};

  friend bool operator==(const key_version& a, const key_version& b) {
    return a.key == b.key && a.version == b.version && a.value == b.value;
  }
};

/// The answer to any request; which fields are set depends on the operation:
///
/// - put: ok with `version` = the key's new version; or version_mismatch with
///   `version` = the current version (0 = absent).
/// - get: ok with `value` and `version`; or not_found.
/// - del: ok with `version` = the store revision of the delete; not_found when
///   the key is absent (and the condition, if any, is 0); version_mismatch as
///   for put.
/// - list: ok with `entries` (with values if asked), `truncated` (more keys
///   match: list again after the last entry), and `version` = the store revision.
struct result {
  result_code code = result_code::ok;
  std::uint64_t version = 0;
  std::string value;
  std::vector<key_version> entries;
  /// A list stopped at its limit: more keys match the prefix.
  bool truncated = false;
  /// For bad_request: what was wrong, naming the bad value.
  std::string message;

  bool ok() const { return code == result_code::ok; }

  static result error(result_code code, std::string message = {}) {
    result r;
    r.code = code;
    r.message = std::move(message);
    return r;
  }
};

}  // namespace ballot::kv
