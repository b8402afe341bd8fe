#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "actors/kv/event.hpp"

/// Vocabulary of the lock service: plain values only (no CAF, no clocks).
namespace ballot::lock {

/// Sessions are numbered from 1 by a counter in the replicated state; 0 means
/// "no session" (e.g. a key that is not ephemeral).
using session_id = std::uint64_t;

/// Milliseconds on the leader's clock, as stamped into each command. Replicas
/// never read a clock of their own: time is whatever the log says.
using time_ms = std::uint64_t;

enum class lock_mode : std::uint8_t {
  exclusive = 0,  ///< one holder, nobody else (writer)
  shared = 1,     ///< any number of shared holders (readers)
};

/// The longest lock-delay a holder may ask for (Chubby's bound): a longer one
/// would let one crashed client block a lock for an unbounded time.
constexpr time_ms max_lock_delay_ms = 60'000;

/// The longest session TTL: a session of a crashed client must die eventually.
constexpr time_ms max_session_ttl_ms = 3'600'000;

/// The most sessions one `keep_alive_many` may carry: a gateway splits a
/// larger batch, and a replica refuses a larger command. Its result (about
/// 21 bytes a session) is kept in the log's dedup table with the gateway's
/// last 64 commands, so this bounds that memory too (1.4 MiB a gateway).
constexpr std::size_t max_keep_alive_batch = 1024;

/// `a + b`, or the largest time if that overflows: deadlines come from client
/// values and must never wrap around into the past.
inline time_ms saturating_add(time_ms a, time_ms b) {
  return a > std::numeric_limits<time_ms>::max() - b ? std::numeric_limits<time_ms>::max() : a + b;
}

/// One holder of a lock (or, with token 0, one waiter for it).
struct grant {
  session_id session = 0;
  std::string name;
  lock_mode mode = lock_mode::exclusive;
  /// The fencing token of this grant; 0 for a waiter.
  std::uint64_t token = 0;

  friend bool operator==(const grant& a, const grant& b) {
    return a.session == b.session && a.name == b.name && a.mode == b.mode && a.token == b.token;
  }
};

/// Key changes are the key space's (`kv/event.hpp`); the lock service reports them.
using kv::event;
using kv::event_type;

}  // namespace ballot::lock
