#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

/// The pure core of a client's session lease: which keep-alives to send and
/// what the client may believe about its session. No clock, socket or event
/// loop: every input carries `now` from the driver's monotonic clock, every
/// output is a decision the driver carries out: the C++ client's session
/// (runtime/client/session.cpp) and the embedded client's (lock_client.cpp).
namespace ballot::lock {

/// What the client may believe about its session at a given moment.
enum class session_health {
  /// A keep-alive confirmed recently enough: the session is certainly live
  /// for at least the jeopardy margin more.
  healthy,
  /// No keep-alive confirmed within TTL minus the margin (Chubby's
  /// "jeopardy"): the cluster may expire the session once the margin is over.
  /// Work under its locks must stop now. A confirmation can still end it.
  jeopardy,
  /// The cluster said the session is gone, or the TTL passed without a
  /// confirmation. Final: the keeper never reports anything else after it.
  expired,
};

const char* to_string(session_health h);

/// The keeper's timing. Start from `defaults_for(ttl)` and change fields.
struct keeper_config {
  /// The session's TTL, as opened on the cluster.
  std::chrono::milliseconds ttl{10000};
  /// Jeopardy begins this long before the earliest moment the cluster may
  /// expire the session: the time the holder has to stop its work.
  std::chrono::milliseconds jeopardy_margin{2500};
  /// A keep-alive this long after the last confirmed one was sent.
  std::chrono::milliseconds interval{2500};
  /// While keep-alives go unanswered, another one this long after the last
  /// send: one lost or stuck request must not cost the whole lease.
  std::chrono::milliseconds retry{625};
  /// Most keep-alives in flight at once.
  std::size_t max_in_flight = 4;

  /// margin = ttl/4, interval = (ttl - margin)/3 (three chances before
  /// jeopardy), retry = interval/4 (at least 1 ms).
  static keeper_config defaults_for(std::chrono::milliseconds ttl);
};

/// "" if `c` is usable, else why not, naming the field and its value.
std::string validate(const keeper_config& c);

class session_keeper {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  /// `open_sent`: when the request that opened the session was sent. The
  /// cluster set its deadline when it applied that request, after it was
  /// sent, so the deadline is at least open_sent + ttl. Throws
  /// std::invalid_argument with `validate`'s reason if `cfg` is not usable.
  session_keeper(const keeper_config& cfg, time_point open_sent);

  /// Should a keep-alive go out at `now`? If so it is recorded as sent at
  /// `now` (send it right after: an anchor earlier than the real send is
  /// safe, a later one is not) and its ticket returned.
  std::optional<std::uint64_t> send_due(time_point now);

  /// The cluster confirmed keep-alive `ticket`: it applied it after it was
  /// sent, so the session lives at least until that send time + TTL. A
  /// confirmation of an older keep-alive than one already confirmed changes
  /// nothing; one that arrives after the TTL passed changes nothing either
  /// (expired is final). Unknown tickets are ignored.
  void confirmed(std::uint64_t ticket, time_point now);

  /// Keep-alive `ticket` ended without an answer (the client's timeout, a
  /// refusal such as overloaded): it is no longer in flight.
  void unanswered(std::uint64_t ticket, time_point now);

  /// The cluster said the session no longer exists.
  void gone(time_point now);

  /// The driver sends no more keep-alives (a hung process in a drill, a
  /// session abandoned): `send_due` never answers again and `next_wake`
  /// names only jeopardy and expiry, which come on the same rule as ever.
  void stop_sending();
  bool sending() const { return sending_; }

  session_health health(time_point now) const;

  /// The health at `now` if it differs from what the last call returned (or
  /// from healthy, on the first call): for the driver's callbacks.
  std::optional<session_health> take_change(time_point now);

  /// The next moment something falls due (a keep-alive, jeopardy, expiry);
  /// nullopt once expired. With `max_in_flight` keep-alives out, the next
  /// send waits for one of them to end (the driver asks again then).
  std::optional<time_point> next_wake(time_point now) const;

  /// The send time of the newest confirmed keep-alive (or of the open).
  time_point confirmed_sent_at() const { return anchor_; }
  time_point jeopardy_at() const { return anchor_ + cfg_.ttl - cfg_.jeopardy_margin; }
  /// The earliest moment the cluster may expire the session.
  time_point expires_at() const { return anchor_ + cfg_.ttl; }
  std::size_t in_flight() const { return in_flight_.size(); }
  /// Expired because the cluster said so (not because the TTL passed).
  bool gone_by_cluster() const { return gone_; }
  const keeper_config& config() const { return cfg_; }

 private:
  /// Time never runs backwards inside the keeper (two threads may read the
  /// clock in one order and reach the keeper in the other), and a TTL that
  /// passed is final.
  time_point advance(time_point now);
  session_health health_at(time_point now) const;
  std::optional<time_point> next_send_at() const;

  keeper_config cfg_;
  time_point anchor_;
  time_point last_sent_;
  time_point latest_now_;
  std::map<std::uint64_t, time_point> in_flight_;
  std::uint64_t next_ticket_ = 1;
  bool expired_ = false;
  bool gone_ = false;
  bool sending_ = true;
  session_health reported_ = session_health::healthy;
};

}  // namespace ballot::lock
