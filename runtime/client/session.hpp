#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "actors/lock/result.hpp"
#include "actors/lock/types.hpp"
#include "runtime/client/client.hpp"

namespace ballot::client {

/// A lock-service session that the client keeps alive by itself: a
/// keep-alive every ttl/3 from the client's I/O thread, retried sooner when
/// one gets no answer. The cluster alone decides expiry (on the leader's
/// clock, with a grace after a leader change); the session learns of it from
/// the next keep-alive (`lost`, and the `on_lost` callback).
///
/// A lost session holds nothing: its locks went to others and its ephemeral
/// keys are gone. Fencing tokens are what keep a holder that does not know
/// yet from doing harm downstream.
class session {
 public:
  using lost_handler = std::function<void(const std::string& why)>;

  /// Opens a session on `c` (which must outlive it). On failure returns
  /// nullptr and, if `why` is given, the answer that refused it.
  static std::unique_ptr<session> open(client& c, std::chrono::milliseconds ttl,
                                       lost_handler on_lost = nullptr, lock::result* why = nullptr);

  /// Stops the keep-alives and closes the session (best effort) unless lost.
  ~session();

  session(const session&) = delete;
  session& operator=(const session&) = delete;

  lock::session_id id() const;

  /// The cluster said the session is gone (expired or closed).
  bool lost() const;

  /// No keep-alive was acknowledged for a whole TTL: the session may have
  /// expired (Chubby's "jeopardy"); it is not known to be lost yet.
  bool in_jeopardy() const;

  lock::result acquire(const std::string& name, lock::lock_mode mode = lock::lock_mode::exclusive,
                       std::chrono::milliseconds wait = std::chrono::milliseconds{0},
                       std::chrono::milliseconds lock_delay = std::chrono::milliseconds{0});
  lock::result release(const std::string& name);
  lock::result put(const std::string& key, const std::string& value);

  /// Ends the session now: releases its locks (no lock-delay), deletes its
  /// ephemeral keys. The destructor then has nothing left to do.
  lock::result close();

 private:
  struct keeper;
  explicit session(std::shared_ptr<keeper> k);
  std::shared_ptr<keeper> k_;
};

}  // namespace ballot::client
