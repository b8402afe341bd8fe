#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "actors/kv/byte_codec.hpp"
#include "actors/lock/types.hpp"

namespace ballot::lock {

/// Named readers/writer locks with FIFO wait queues, fencing tokens and
/// lock-delay. It knows sessions only by id: `lock_service` tells it when one
/// ends.
///
/// Fairness: a waiter is granted only when everybody queued before it was, so
/// a queued writer holds back the readers that arrive after it (no writer
/// starvation), and a new acquire is granted at once only if nobody waits.
///
/// Tokens come from one counter for all names, so they strictly increase per
/// name over the lock's whole history, whatever is released, expired or
/// forgotten in between; the counter is in the snapshot.
class lock_table {
 public:
  struct holder {
    session_id session = 0;
    lock_mode mode = lock_mode::exclusive;
    std::uint64_t token = 0;
    /// Lock-delay if this holder's session expires.
    time_ms delay_ms = 0;
  };

  struct waiter {
    session_id session = 0;
    lock_mode mode = lock_mode::exclusive;
    time_ms delay_ms = 0;
  };

  struct lock {
    std::vector<holder> holders;  ///< in grant order
    std::deque<waiter> waiters;   ///< in arrival order
    /// Nobody is granted the lock before this time (0 = no delay pending).
    time_ms delay_until = 0;
  };

  enum class outcome { granted, queued, busy, already_held, already_waiting };

  struct acquired {
    outcome what = outcome::busy;
    /// The token of a grant (also the existing one for already_held).
    std::uint64_t token = 0;
  };

  acquired acquire(session_id session, const std::string& name, lock_mode mode, bool wait,
                   time_ms delay_ms, time_ms now);

  /// Releases `session`'s hold on `name` and grants the next compatible
  /// waiters, appending them to `grants`. False if the session did not hold it.
  bool release(session_id session, const std::string& name, time_ms now,
               std::vector<grant>& grants);

  /// Removes `session` from the queue of `name`; the waiters behind it may
  /// now be granted (a cancelled writer no longer holds back readers).
  bool cancel_wait(session_id session, const std::string& name, time_ms now,
                   std::vector<grant>& grants);

  /// Ends everything of `session`: its holds are released and its waits
  /// cancelled. If it `expired` (rather than closed), each lock it held stays
  /// unavailable for that hold's lock-delay: its client may still believe it
  /// holds the lock.
  void drop_session(session_id session, bool expired, time_ms now, std::vector<grant>& grants);

  /// Grants the waiters of the locks whose lock-delay ended by `now`.
  void advance(time_ms now, std::vector<grant>& grants);

  /// Whether a current holder of `name` has `token`.
  bool token_valid(const std::string& name, std::uint64_t token) const;

  const lock* find(const std::string& name) const;

  /// The earliest end of a pending lock-delay; nullopt if there is none.
  std::optional<time_ms> earliest_delay_end() const {
    if (delayed_.empty())
      return std::nullopt;
    return delayed_.begin()->first;
  }

  const std::map<std::string, lock>& locks() const { return locks_; }

  /// The sessions that hold or wait for any lock.
  std::set<session_id> sessions() const;

  std::uint64_t last_token() const { return last_token_; }

  /// Appends the table: `last_token:u64 count:u64 (name delay_until:u64
  /// holders:u32 (session:u64 mode:u8 token:u64 delay:u64)* waiters:u32
  /// (session:u64 mode:u8 delay:u64)*)*`, locks in name order.
  void save(kv::detail::writer& w) const;

  /// Reads what `save` wrote into this (empty) table; false with the reader's
  /// error set if the bytes are not a table this class could have built.
  bool load(kv::detail::reader& r);

 private:
  using iterator = std::map<std::string, lock>::iterator;

  /// Grants waiters from the front of the queue while they are compatible.
  void grant_waiters(iterator it, time_ms now, std::vector<grant>& grants);

  /// Forgets a lock nobody holds, waits for or is delayed on.
  void forget_if_idle(iterator it);

  std::map<std::string, lock> locks_;
  /// Indexes derived from `locks_` (not in the snapshot).
  std::map<session_id, std::set<std::string>> held_;
  std::map<session_id, std::set<std::string>> waiting_;
  std::set<std::pair<time_ms, std::string>> delayed_;
  std::uint64_t last_token_ = 0;
};

}  // namespace ballot::lock
