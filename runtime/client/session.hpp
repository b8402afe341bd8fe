#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "actors/lock/result.hpp"
#include "actors/lock/session_keeper.hpp"
#include "actors/lock/types.hpp"
#include "runtime/client/client.hpp"

namespace ballot::client {

// The lease rules are the embedded client's too (actors/lock): one core.
using lock::keeper_config;
using lock::session_health;
using lock::session_keeper;

/// A lock-service session that the client keeps alive by itself, from the
/// client's I/O thread, on the timing of a `session_keeper` (the pure core
/// that decides when keep-alives go out and what the session's health is).
///
/// The cluster decides expiry on the leader's clock. The client cannot know
/// it in time when it is cut off, so it judges from what it can know: the
/// send time of the newest keep-alive the cluster confirmed. TTL minus the
/// jeopardy margin after it, the session is in *jeopardy* (stop work under
/// its locks: the cluster may expire it once the margin is over); a TTL
/// after it, or when the cluster says so, it is *expired* (`lost`, and the
/// `on_lost` callback).
///
/// A lost session holds nothing: its locks went to others and its ephemeral
/// keys are gone. Fencing tokens are what keep a holder that does not know
/// yet from doing harm downstream.
class session {
 public:
  using lost_handler = std::function<void(const std::string& why)>;
  using health_handler = std::function<void(session_health)>;

  /// Opens a session on `c` (which must outlive it) with the default timing
  /// for `ttl` (`keeper_config::defaults_for`). On failure returns nullptr
  /// and, if `why` is given, the answer that refused it.
  static std::unique_ptr<session> open(client& c, std::chrono::milliseconds ttl,
                                       lost_handler on_lost = nullptr, lock::result* why = nullptr);

  /// As above with the timing given. `on_health` runs at every change of
  /// health (healthy -> jeopardy -> healthy again, or -> expired), `on_lost`
  /// once at expiry; both on the client's I/O thread (or on the thread whose
  /// call heard the cluster say the session is gone), neither may block.
  /// Throws std::invalid_argument (before anything is sent) if `timing` is
  /// not usable (`validate`).
  static std::unique_ptr<session> open(client& c, const keeper_config& timing, lost_handler on_lost,
                                       health_handler on_health, lock::result* why = nullptr);

  /// Stops the keep-alives and closes the session (best effort) unless the
  /// cluster said it is gone, or `abandon` was called.
  ~session();

  session(const session&) = delete;
  session& operator=(const session&) = delete;

  lock::session_id id() const;

  /// The session's health now (read from the monotonic clock at the call,
  /// not at the last timer).
  session_health health() const;

  /// Expired: the cluster said the session is gone, or no keep-alive was
  /// confirmed within its TTL.
  bool lost() const;

  /// Not known to be healthy: in jeopardy or expired. Work under the
  /// session's locks should stop.
  bool in_jeopardy() const;

  /// The keeper's timing, as validated.
  const keeper_config& timing() const;

  /// The calls below: an answer that the session no longer exists makes it
  /// expired at once (the keeper's rule), with the callbacks, on the calling
  /// thread.
  lock::result acquire(const std::string& name, lock::lock_mode mode = lock::lock_mode::exclusive,
                       std::chrono::milliseconds wait = std::chrono::milliseconds{0},
                       std::chrono::milliseconds lock_delay = std::chrono::milliseconds{0});
  lock::result release(const std::string& name);
  lock::result put(const std::string& key, const std::string& value);

  /// Ends the session now: releases its locks (no lock-delay), deletes its
  /// ephemeral keys. The destructor then has nothing left to do.
  lock::result close();

  /// Stops the keep-alives without a word to the cluster: the session ends
  /// there when its TTL runs out. For a client cut off from the cluster,
  /// where `close` would wait for its whole timeout.
  void abandon();

 private:
  struct keeper;
  explicit session(std::shared_ptr<keeper> k);
  std::shared_ptr<keeper> k_;
};

}  // namespace ballot::client
