#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "actors/lock/types.hpp"

namespace ballot::lock {

/// How a command or query ended. Refusals are results, not exceptions: every
/// replica must compute the same answer from the same log.
enum class result_code : std::uint8_t {
  ok = 0,
  queued = 1,           ///< acquire: the session waits for the lock
  busy = 2,             ///< acquire without wait: the lock is not available
  no_session = 3,       ///< the session is unknown, closed or expired
  not_held = 4,         ///< release: the session does not hold the lock
  not_waiting = 5,      ///< cancel_wait: the session does not wait for the lock
  already_held = 6,     ///< acquire: the session holds it already (`token` = its token)
  already_waiting = 7,  ///< acquire: the session waits for it already
  not_found = 8,        ///< the key is absent
  stale = 9,            ///< check_token: no current holder has that token
  compacted = 10,       ///< events_since: the history no longer reaches back; re-read
  bad_request = 11,     ///< malformed or invalid input; `message` says why
  // Made by clients and gateways only, never by the state machine:
  timeout = 12,            ///< a waiting acquire was not granted in time (it no longer waits)
  unavailable = 13,        ///< no answer from the cluster in time; `message` says why
  overloaded = 14,         ///< a budget of the node is full; retry after a pause
  request_id_reused = 15,  ///< the (client, seq) already named a different command
  // Made by the state machine:
  limit_reached = 16,   ///< a cap on sessions or on a lock's waiters; `message` names it
  quota_exceeded = 17,  ///< the state is over the quota (ephemeral puts); `message` says so
  /// The session belongs to another user or the command's secret is not the
  /// session's; `message` says which. Nothing was done.
  permission_denied = 18,
  /// Made by the gateway only: authentication is on and the caller has no
  /// (valid) user.
  unauthenticated = 19,
  /// Made by the replica: the dedup table forgot the request id's client,
  /// so whether the command applied is unknown; a new client id is needed.
  expired = 20,
};

constexpr std::uint8_t max_result_code = static_cast<std::uint8_t>(result_code::expired);

/// Readable name of a code ("ok", "queued", ...).
const char* to_string(result_code code);

/// One session's outcome in a `keep_alive_many`: what its own `keep_alive`
/// would have answered (ok with the new deadline, no_session,
/// permission_denied with a message).
struct kept_session {
  session_id session = 0;
  result_code code = result_code::ok;
  time_ms deadline = 0;
  std::string message;

  friend bool operator==(const kept_session& a, const kept_session& b) {
    return a.session == b.session && a.code == b.code && a.deadline == b.deadline &&
           a.message == b.message;
  }
};

/// The answer to any command or query; which fields are set depends on it:
///
/// - open_session: `session`, its `deadline` and (in `token`) its secret.
///   keep_alive: the new `deadline`. keep_alive_many: `kept`, one per session.
/// - acquire: ok with `token`; queued; busy; already_held with `token`.
/// - put_key / delete_key: `revision` of the change. get_key: `value`, `revision`.
/// - events_since: `events` and `revision` = the current revision (resume from it).
/// - lock_info: `holders`, `waiters` (token 0, in queue order), `deadline` = end
///   of the lock-delay (0 if none).
/// - check_token: ok (valid) or stale.
///
/// Every command also reports what time did as it advanced: `expired` lists
/// the sessions it expired and `grants` every lock it handed to a waiter (by
/// a release, an expiry, a cancelled wait or a lock-delay that ended), so a
/// hand-off costs one commit.
struct result {
  result_code code = result_code::ok;
  session_id session = 0;
  time_ms deadline = 0;
  std::uint64_t token = 0;
  std::uint64_t revision = 0;
  std::string value;
  std::vector<grant> grants;
  std::vector<session_id> expired;
  std::vector<event> events;
  std::vector<grant> holders;
  std::vector<grant> waiters;
  std::string message;
  std::vector<kept_session> kept;

  bool ok() const { return code == result_code::ok; }

  static result error(result_code code, std::string message = {}) {
    result r;
    r.code = code;
    r.message = std::move(message);
    return r;
  }
};

}  // namespace ballot::lock
