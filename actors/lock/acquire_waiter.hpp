#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/lock/result.hpp"

/// The pure core of one acquire that waits for its lock: when to look for
/// the grant, when the wait is over, how to withdraw it, and what each answer
/// of the service means for the caller. No clock, socket or event loop:
/// every input carries `now` from the driver's monotonic clock, every output
/// is a request the driver sends or the call's outcome. One definition for
/// every client-side driver: the gateway's acquire (runtime/gateway/
/// service_locks.cpp), the embedded client's lock() (actors/lock/
/// lock_client.cpp) and the simulator's lock clients (tests/sim/
/// lock_workload.cpp).
///
/// The behaviour, and how it differs from what each driver did before:
///
/// - The acquire's answer: ok / already_held grant at once; queued /
///   already_waiting start the wait; busy, no_session and anything else end
///   the call. No answer at all ends it as `unavailable` (the wait may be
///   queued: the driver's unlock withdraws it; a retry of the same request id
///   finds it). Same as all three before.
/// - While waiting, the first look (lock_info) goes out at once: a retried
///   acquire may have been granted before the driver listened (the gateway's
///   rule; the simulator used to look first after 30..80 ms). Later looks back
///   off from `first_look` to `max_look` (the embedded client's rule; the
///   simulator used one random pause per look). `max_look` 0: no looks after
///   the first, the driver reports grants itself (`granted`, the gateway's
///   change feed).
/// - One request at a time: no look while a look or a withdraw is in flight
///   (the simulator's rule; the others were blocking or single-shot anyway).
/// - A look that shows the session holding the lock is the grant; waiting
///   goes on; neither holding nor waiting is `dropped`: only the session's
///   end does that, which the driver confirms its own way (the embedded client
///   declared the session lost, the simulator waited for the next keep-alive).
///   A look without an answer is retried after the next pause (as the
///   embedded client did).
/// - When the deadline passes with nothing in flight, the wait is withdrawn
///   (cancel_wait), so that a grant after it cannot leave the session holding
///   a lock nobody knows of. A grant that arrives (pushed or seen) before the
///   withdraw is answered is still a grant: the caller holds the lock and is
///   told so with its token, never `timed_out` (the same in all three).
/// - The withdraw's answer: ok is `timed_out`; no_session is `session_lost`;
///   not_waiting means a grant raced it: a look tells the token (`granted`) or
///   shows neither (`dropped`). The gateway and the embedded client called
///   that last case timed_out, the simulator "vanished" as here. A look that
///   still shows the session waiting contradicts the withdraw: `failed`
///   (the simulator failed the run; the others said timed_out). A withdraw
///   without an answer is followed by a look too (the gateway's rule; the
///   embedded client gave up at once): held is `granted`, anything else is
///   `uncertain` (the wait may still be queued).
/// - The session's end (the driver hears it from the change feed or a
///   keep-alive) ends the call as `session_lost` whatever is in flight.
namespace ballot::lock {

/// How one waiting acquire ended (or that it has not yet).
enum class wait_outcome {
  pending,
  granted,       ///< the session holds the lock: `token()`
  refused,       ///< busy, or another answer than a wait: `refusal()`
  timed_out,     ///< the deadline passed and the wait was withdrawn
  session_lost,  ///< the service no longer knows the session
  /// Neither holding nor waiting, without a withdraw that said so: only the
  /// session's end does that; the driver confirms how it learns of that.
  dropped,
  unavailable,  ///< the acquire itself got no answer (the wait may be queued)
  /// The withdraw got no answer and the session does not hold the lock: the
  /// wait may still be queued (a release or cancel_wait withdraws it later).
  uncertain,
  failed,  ///< the service contradicted itself (see the header)
};

const char* to_string(wait_outcome o);

/// What the driver must send next.
enum class waiter_request {
  none,      ///< nothing now (see `next_wake`)
  look,      ///< lock_info of the name: then `looked` or `look_failed`
  withdraw,  ///< cancel_wait of the name: then `withdrawn` or `withdraw_failed`
};

/// What lock_info says about one session and one name.
struct lock_standing {
  std::uint64_t token = 0;  ///< != 0: held with this token
  bool waits = false;
};

/// The standing of `session` in a lock_info answer.
lock_standing standing_in(const result& info, session_id session);

struct waiter_config {
  /// How long the caller waits for the grant, from the acquire's send.
  std::chrono::milliseconds wait{1000};
  /// The pause after the first look; each later one doubles, up to `max_look`.
  std::chrono::milliseconds first_look{2};
  /// The longest pause between looks; 0: only the first look.
  std::chrono::milliseconds max_look{100};
};

/// "" if `c` is usable, else why not, naming the field and its value.
std::string validate(const waiter_config& c);

class acquire_waiter {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  /// `sent`: when the acquire (with wait) was sent; the deadline is
  /// `sent + cfg.wait`. Throws std::invalid_argument with `validate`'s reason
  /// if `cfg` is not usable.
  acquire_waiter(const waiter_config& cfg, time_point sent);

  // -- what the service answered

  /// The acquire's answer (`token` for ok / already_held).
  void acquired(result_code code, std::uint64_t token, time_point now);
  /// The acquire got no answer in time.
  void acquire_failed(time_point now);
  void looked(const lock_standing& s, time_point now);
  void look_failed(time_point now);
  void withdrawn(result_code code, time_point now);
  void withdraw_failed(time_point now);
  /// The driver learnt of the grant another way (a change feed).
  void granted(std::uint64_t token, time_point now);
  /// The driver learnt that the session is gone.
  void session_gone(time_point now);

  // -- what to do

  /// The request to send at `now`, if one is due; it is then in flight until
  /// its answer (or failure) is reported.
  waiter_request due(time_point now);
  /// When `due` will next have something (a look, the withdraw); nullopt
  /// while a request is in flight or once finished.
  std::optional<time_point> next_wake() const;
  /// Waits without a deadline: for a caller that never gives up (the
  /// simulator's clients after healing, whose liveness it checks).
  void wait_forever() { forever_ = true; }

  bool finished() const { return outcome_ != wait_outcome::pending; }
  wait_outcome outcome() const { return outcome_; }
  /// The token of a grant.
  std::uint64_t token() const { return token_; }
  /// The answer that ended a `refused` or `failed` call.
  result_code refusal() const { return refusal_; }
  /// Whether the acquire was answered queued (the wait started).
  bool waiting() const { return queued_; }
  /// Whether the deadline passed and the withdraw went out.
  bool withdraw_sent() const { return withdrawing_; }
  time_point deadline() const { return deadline_; }
  const waiter_config& config() const { return cfg_; }

 private:
  enum class flight { none, acquire, look, withdraw, check };

  void finish(wait_outcome o);
  void schedule_look(time_point now);

  waiter_config cfg_;
  time_point deadline_;
  time_point next_look_;
  std::chrono::milliseconds pause_;
  flight in_flight_ = flight::acquire;
  bool queued_ = false;
  bool withdrawing_ = false;  ///< the deadline passed: the withdraw went out
  bool forever_ = false;
  /// The withdraw failed (no answer): a look decides between granted and
  /// uncertain.
  bool withdraw_unknown_ = false;
  /// A look after the withdraw is due (it said not_waiting, or nothing).
  bool checking_ = false;
  wait_outcome outcome_ = wait_outcome::pending;
  std::uint64_t token_ = 0;
  result_code refusal_ = result_code::ok;
};

}  // namespace ballot::lock
