#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "actors/kv/byte_codec.hpp"
#include "actors/lock/types.hpp"

namespace ballot::lock {

/// The live sessions and their deadlines. A deadline is absolute log time, so
/// the remaining TTL is part of the replicated state: a new leader does not
/// restart anybody's lease (only `extend_all` grants a grace period).
class session_table {
 public:
  struct session {
    time_ms ttl_ms = 0;
    time_ms deadline = 0;
    /// Who opened it and the secret its commands must carry (see
    /// `lock::credential`); empty and 0 for a session open to its id alone.
    std::string owner;
    std::uint64_t secret = 0;
  };

  /// Opens a session with the next id; it lives until `now + ttl_ms`.
  session_id open(time_ms now, time_ms ttl_ms, std::string owner = {}, std::uint64_t secret = 0);

  /// Moves the deadline to `now + ttl` (never earlier than it is: a leader
  /// change's grace stays); false if the session is not live.
  bool keep_alive(session_id id, time_ms now);

  /// Raises every deadline below `until` to `until` (a leader change's grace).
  void extend_all(time_ms until);

  /// Removes and returns the sessions whose deadline < now, earliest first
  /// (ties by id): the order their locks are released in.
  std::vector<session_id> expire(time_ms now);

  /// Removes the session; false if it was not live.
  bool close(session_id id);

  const session* find(session_id id) const;

  /// The earliest deadline of a live session; nullopt if there is none.
  std::optional<time_ms> earliest_deadline() const {
    if (by_deadline_.empty())
      return std::nullopt;
    return by_deadline_.begin()->first;
  }

  const std::map<session_id, session>& sessions() const { return sessions_; }

  /// Appends the table: `next_id:u64 count:u64 (id:u64 ttl:u64 deadline:u64
  /// owner:string secret:u64)*`.
  void save(kv::detail::writer& w) const;

  /// Reads what `save` wrote into this (empty) table; false with the reader's
  /// error set if the bytes are not a valid table. `with_credentials` false
  /// reads the older format without owner and secret.
  bool load(kv::detail::reader& r, bool with_credentials = true);

 private:
  void set_deadline(session_id id, session& s, time_ms deadline);

  std::map<session_id, session> sessions_;
  /// (deadline, id) of every session: expiry without scanning all sessions.
  std::set<std::pair<time_ms, session_id>> by_deadline_;
  session_id next_id_ = 1;
};

}  // namespace ballot::lock
