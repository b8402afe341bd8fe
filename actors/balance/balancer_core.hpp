#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "actors/balance/actions.hpp"
#include "actors/balance/core_config.hpp"
#include "actors/balance/errors.hpp"
#include "actors/balance/policies/policy.hpp"
#include "actors/balance/stats.hpp"

namespace ballot::balance {

/// The balancer's rules, pure: no CAF, no clock, no threads. A driver (the
/// balancer actor, or a test) feeds it inputs, each with the time `now` on
/// the driver's clock in milliseconds, and carries out the actions it takes
/// from `take_actions()`: send a request to a backend, answer a caller, arm
/// a deadline, wake the core up later. Requests are opaque: the core sees
/// an id, a key hash and whether the request may be retried.
///
/// The rules, in order of a request's life:
/// - Admission: the policy picks an available backend (up, not ejected,
///   below its concurrency limit). If none is available but some backend
///   could serve later, the request waits in a bounded FIFO queue; past the
///   bound it is refused at once (`errc::overloaded`). With no usable
///   backend at all (none, all down, all ejected) it fails at once
///   (`errc::no_backends`).
/// - Every attempt has a timeout (attempt_timeout, capped by the request's
///   deadline); a queued request fails with `errc::timeout` at its deadline.
/// - A failed attempt (error reply, timeout, or its backend went down) of an
///   idempotent request is retried on another backend (the same one only if
///   every usable backend was tried), while attempts are left, the deadline
///   has not passed and the retry budget allows: a request that starts
///   retrying needs retries_in_flight < max(min_retry_concurrency,
///   retry_budget_percent% of the open requests). Otherwise the caller gets
///   the attempt's error.
/// - Outlier ejection: `consecutive_failures` errors or timeouts in a row
///   eject a backend for n * base_ejection (n-th ejection, capped at
///   max_ejection), unless floor(max_ejection_percent% of the live backends)
///   are ejected already. It returns when the time is up (`tick`). A backend
///   going down is not an error of its own: it leaves at once.
/// - Slow start: a backend added at run time, back up, or back from
///   ejection has its weight ramped linearly from slow_start_min_percent% to
///   100% over slow_start_window; the core pushes the weights into the
///   policy as they change. Backends given to the constructor start at full
///   weight, and hashing policies never slow start.
/// - `backend_down` (its worker died) removes a backend from the policy at
///   once and fails its attempts in flight (retried if allowed);
///   `backend_up` brings it back. `remove_backend` is for good: no new
///   requests, but those in flight finish.
///
/// Inputs about unknown requests or attempts that are no longer in flight
/// (a late timeout, a reply after a retry) are ignored, so the driver may
/// deliver them in any order.
class balancer_core {
 public:
  /// `initial` backends start at full weight. Throws std::invalid_argument
  /// on a null policy.
  balancer_core(core_config cfg, std::unique_ptr<policy> pol,
                const std::vector<std::pair<backend_id, backend_options>>& initial = {});

  // -- requests

  /// A new request with a fresh `id` (reusing the id of an open request
  /// throws std::invalid_argument). `key` is the hash hashing policies route by.
  void submit(request_id id, std::uint64_t key, bool idempotent, millis now);

  /// Attempt `attempt` of `id` got its reply: the caller gets it.
  void succeeded(request_id id, std::uint32_t attempt, millis now);

  /// Attempt `attempt` of `id` got an error reply (`detail` says which); it
  /// counts as an error of its backend.
  void failed(request_id id, std::uint32_t attempt, const std::string& detail, millis now);

  /// No reply to attempt `attempt` of `id` by its `timeout_at`.
  void timed_out(request_id id, std::uint32_t attempt, millis now);

  /// The deadline armed for a queued request passed.
  void deadline_expired(request_id id, millis now);

  // -- backends (false if the id is unknown, or already in that state)

  /// A new backend (slow start), or one that was removed or down comes back.
  bool add_backend(backend_id id, backend_options opts, millis now);
  /// For good: no new requests; requests in flight finish.
  bool remove_backend(backend_id id, millis now);
  /// Its worker died: out of the policy at once, its attempts in flight fail.
  bool backend_down(backend_id id, millis now);
  /// A down backend is back (slow start).
  bool backend_up(backend_id id, millis now);
  bool reweight(backend_id id, std::uint32_t weight, millis now);

  /// Time passed: ends ejections, moves slow-start ramps on.
  void tick(millis now);

  /// The actions since the last call, in order.
  std::vector<action> take_actions();

  // -- introspection

  core_stats stats() const;
  std::size_t queued() const { return queue_.size(); }
  std::size_t open_requests() const { return requests_.size(); }
  std::size_t in_flight() const { return in_flight_; }
  std::size_t retries_in_flight() const { return retries_active_; }
  /// Outstanding attempts of a backend (0 if unknown).
  std::uint32_t outstanding(backend_id id) const;
  bool is_ejected(backend_id id) const;
  /// The weight the policy sees for `id` (0 if it is not in the policy).
  std::uint32_t effective_weight(backend_id id) const;
  const core_config& config() const { return cfg_; }

 private:
  enum class lifecycle { up, down, removed };

  struct backend_entry {
    backend_id id = 0;
    std::string name;
    std::uint32_t weight = 1;
    std::uint32_t max_outstanding = 0;  // 0 = no limit
    lifecycle state = lifecycle::up;
    bool ejected = false;
    millis ejected_until{0};
    std::uint32_t ejections = 0;
    std::uint32_t consecutive_failures = 0;
    std::optional<millis> slow_start_since;
    std::uint32_t effective_weight = 1;
    std::uint32_t outstanding = 0;
    std::uint64_t served = 0;
    std::uint64_t failures = 0;
  };

  struct request_entry {
    std::uint64_t key = 0;
    bool idempotent = false;
    millis submitted{0};
    millis deadline{0};
    std::uint32_t attempt = 0;  // attempts dispatched so far
    std::optional<backend_id> backend;
    std::vector<backend_id> tried;
    bool queued = false;
    bool deadline_armed = false;
    bool retrying = false;  // counts against the retry budget
  };

  enum class placement { dispatched, busy, no_backends };

  class view;

  backend_entry* find(backend_id id);
  const backend_entry* find(backend_id id) const;
  bool usable(const backend_entry& b) const;
  bool has_capacity(const backend_entry& b) const;
  std::string describe(const backend_entry& b) const;
  std::string describe(backend_id id) const;

  placement place(request_id id, request_entry& req, millis now);
  void send(request_id id, request_entry& req, backend_entry& b, millis now);
  void enqueue(request_id id, request_entry& req, bool front);
  void drain(millis now);
  void complete_ok(request_id id, backend_id backend);
  void complete_error(request_id id, errc code, std::string message);
  void fail_attempt(request_id id, request_entry& req, errc cause, const std::string& what,
                    bool counts_as_error, millis now);
  void record_failure(backend_entry& b, millis now);
  void forget_if_drained(backend_id id);
  std::string no_backends_reason() const;
  std::string overloaded_reason() const;

  bool slow_start_enabled() const;
  void start_slow_start(backend_entry& b, millis now);
  std::uint32_t weight_now(const backend_entry& b, millis now) const;
  /// Recomputes effective weights; pushes the set into the policy if it changed.
  void refresh_policy(millis now);
  /// Asks for a wake-up if an ejection or a ramp needs one before the next.
  void finish(millis now);

  core_config cfg_;
  std::unique_ptr<policy> policy_;
  std::uint32_t weight_scale_ = 1;
  std::map<backend_id, backend_entry> backends_;
  std::unordered_map<request_id, request_entry> requests_;
  std::deque<request_id> queue_;
  std::size_t in_flight_ = 0;
  std::size_t retries_active_ = 0;
  std::vector<backend> pushed_;  // what the policy has now
  bool pushed_once_ = false;
  std::optional<millis> next_wake_;
  std::vector<action> actions_;
  core_stats counters_;
};

}  // namespace ballot::balance
