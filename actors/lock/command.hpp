#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "actors/lock/types.hpp"

/// The operations of the lock service as plain values. Commands go through the
/// Paxos log (payloads of `lock_service::apply`); queries are read-only
/// (`lock_service::query`). `lock_codec` encodes both.
///
/// Every command carries `now`, the leader's clock when it proposed the
/// command: all replicas then expire sessions and end lock-delays at the same
/// point of the log, whatever their own clocks say.
namespace ballot::lock {

/// Who sends a session's command: the authenticated user ("" when the
/// cluster runs without authentication) and the secret the gateway drew when
/// the session opened. A session opened with a secret (not 0) or an owner
/// (not "") takes commands only with the same secret and owner, so knowing
/// (or guessing) a session id is not enough to release its locks or end it.
/// Old records carry neither: such sessions stay open to their id alone.
struct credential {
  std::string user;
  std::uint64_t secret = 0;

  bool empty() const { return user.empty() && secret == 0; }
};

/// Opens a session that lives until `now + ttl_ms` unless kept alive.
struct open_session {
  time_ms now = 0;
  time_ms ttl_ms = 0;
  /// Becomes the session's owner and secret.
  credential cred{};
};

/// Moves the session's deadline to `now + ttl`.
struct keep_alive {
  time_ms now = 0;
  session_id session = 0;
  credential cred{};
};

/// Many sessions kept alive by one command: a gateway coalesces the
/// keep-alives its clients send together, so a hundred thousand sessions cost
/// a few log commands a second, not one each. Every session is kept alive by
/// `keep_alive`'s own rule (their `now` is the batch's) and gets its own
/// outcome, in order, in `result::kept`. At most `max_keep_alive_batch`.
struct keep_alive_many {
  time_ms now = 0;
  std::vector<keep_alive> sessions;
};

/// Ends a session cleanly: its locks are released (without lock-delay), its
/// waits cancelled and its ephemeral keys deleted.
struct close_session {
  time_ms now = 0;
  session_id session = 0;
  credential cred{};
};

/// Only advances time: expires sessions and ends lock-delays up to `now`.
struct tick {
  time_ms now = 0;
};

/// Proposed first by a new leader: every live session's deadline becomes at
/// least `now + grace_ms`, so the time without a leader kills no healthy
/// session (its keep-alives had nowhere to go).
struct leader_change {
  time_ms now = 0;
  time_ms grace_ms = 0;
};

/// Takes `name` in `mode` for `session`; if that cannot be granted at once,
/// queues the session when `wait`, else refuses (try-lock). `delay_ms` is the
/// lock-delay applied if the session expires while holding this grant.
struct acquire {
  time_ms now = 0;
  session_id session = 0;
  std::string name;
  lock_mode mode = lock_mode::exclusive;
  bool wait = false;
  time_ms delay_ms = 0;
  credential cred{};
};

/// Gives `name` back; the next compatible waiters are granted in this command.
struct release {
  time_ms now = 0;
  session_id session = 0;
  std::string name;
  credential cred{};
};

/// Withdraws a queued acquire (the client gave up waiting).
struct cancel_wait {
  time_ms now = 0;
  session_id session = 0;
  std::string name;
  credential cred{};
};

/// Sets `key` to `value`; with a session (not 0) the key is ephemeral: it is
/// deleted when that session ends.
struct put_key {
  time_ms now = 0;
  std::string key;
  std::string value;
  session_id session = 0;
  /// Checked only for an ephemeral put (session not 0).
  credential cred{};
};

struct delete_key {
  time_ms now = 0;
  std::string key;
};

using command = std::variant<open_session, keep_alive, close_session, tick, leader_change, acquire,
                             release, cancel_wait, put_key, delete_key, keep_alive_many>;

/// Is `token` the fencing token of a current holder of `name`?
struct check_token {
  std::string name;
  std::uint64_t token = 0;
};

/// Every change of a key starting with `prefix` after `revision`, in commit order.
struct events_since {
  std::string prefix;
  std::uint64_t revision = 0;
  /// Stop after about this many bytes of events (0: no limit); the
  /// result's revision is then where the events stop.
  std::uint64_t max_bytes = 0;
};

/// The holders and waiters of `name`.
struct lock_info {
  std::string name;
  /// With `hide_tokens`, holders' fencing tokens are shown only for sessions
  /// `viewer` owns: a token lets its bearer pass as the holder to a fenced
  /// resource. The gateway sets it for everyone but root once
  /// authentication is on.
  bool hide_tokens = false;
  std::string viewer{};
};

struct get_key {
  std::string key;
};

using query = std::variant<check_token, events_since, lock_info, get_key>;

}  // namespace ballot::lock
