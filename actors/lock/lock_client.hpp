#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caf/fwd.hpp"
#include "caf/timespan.hpp"

#include "actors/lock/session_keeper.hpp"
#include "actors/lock/types.hpp"
#include "actors/replica/peer_map.hpp"

/// The embedded lock-service client: a CAF program talks to replica actors
/// running `service::service_machine` directly, without Cap'n Proto.
///
///     lock::lock_client client{sys, replicas, client_id};
///     auto [opened, s] = client.open_session(std::chrono::seconds(10));
///     if (!opened.ok()) return fail(opened.message);
///     auto got = s->lock("jobs/report", lock::lock_mode::exclusive, std::chrono::seconds(5));
///     if (got.ok()) {
///       write_report(/*fencing token=*/got.token);   // the storage checks the token
///       s->unlock("jobs/report");
///     }
///     s->close();
namespace ballot::lock {

/// How a call of the embedded client ended.
enum class call_status : std::uint8_t {
  ok = 0,
  busy,              ///< try_lock: held in a conflicting mode, waited for, or in lock-delay
  timed_out,         ///< lock: not granted within the wait; the wait was withdrawn
  already_held,      ///< lock, try_lock: this session holds it already (`token` is its token)
  not_held,          ///< unlock: this session neither holds nor waits for the lock
  stale,             ///< check_token: no current holder has that token
  not_found,         ///< get, del: the key is absent; election::leader: nobody leads
  version_mismatch,  ///< del: the key's version is not `if_version` (`revision` = current)
  compacted,         ///< watch: the history no longer reaches back to the revision
  session_lost,      ///< the session expired, was closed, or could not be kept alive
  unavailable,       ///< no replica answered within the call's timeout
  bad_request,       ///< invalid input (empty name, TTL out of range, ...)
  /// A write's request id expired: the replicas forgot the client id (e.g.
  /// after hours idle), so whether it applied is unknown, as for
  /// unavailable. The client's next writes take a fresh random id.
  expired,
};

/// Readable name of a status ("ok", "busy", ...).
const char* to_string(call_status status);

/// The answer to one call; which fields are set depends on the call.
struct call_result {
  call_status status = call_status::ok;
  /// lock, try_lock (ok, already_held): the grant's fencing token. Tokens of
  /// one lock name strictly increase over its whole history, across leader
  /// fail-overs: hand it to every downstream write so the storage can refuse
  /// a holder whose lock has since moved on (see `check_token`).
  std::uint64_t token = 0;
  /// put, del: the revision of the change; get: the key's version (the
  /// revision of its last put); watch end: the last revision delivered.
  std::uint64_t revision = 0;
  /// get: the key's value.
  std::string value;
  /// Why, when not ok.
  std::string message;

  bool ok() const { return status == call_status::ok; }
};

/// The holders and waiters of a lock (`lock_client::describe`).
struct lock_state {
  call_result result;
  /// In grant order, with their tokens.
  std::vector<grant> holders;
  /// In queue order (token 0).
  std::vector<grant> waiters;
  /// End of a pending lock-delay on the leader's clock (ms); 0 if none.
  time_ms delay_until = 0;
};

struct client_options {
  /// Bounds every call (a blocking `lock` waits its own timeout on top).
  caf::timespan timeout = std::chrono::seconds(5);
  /// The longest pause between two polls of a watch or of a queued `lock`:
  /// polls start at a few milliseconds and back off to this while idle.
  caf::timespan poll_interval = std::chrono::milliseconds(50);
  /// How long one replica may take to answer before the next one is tried.
  caf::timespan attempt_timeout = std::chrono::seconds(1);
};

using lost_callback = std::function<void(const std::string& why)>;

struct session_options {
  /// If this session expires while holding a lock, the lock stays unavailable
  /// this long (Chubby's lock-delay; at most 60 s): its holder may still
  /// believe it holds the lock. A clean unlock or close has no delay.
  std::chrono::milliseconds lock_delay{0};
  /// Called once if the session is lost (see `session::on_lost`).
  lost_callback on_lost;
};

class lock_client;

/// A session of the lock service: a lease the service keeps while this
/// object sends keep-alives. Locks and ephemeral keys belong to it, and the
/// service releases and deletes them when it ends.
///
/// A background thread keeps it alive on the rules of the `session_keeper`
/// core, the same as the C++ client's sessions (`keeper_config::defaults_for`
/// the TTL, one keep-alive at a time): a keep-alive every (TTL - TTL/4)/3
/// after the send time of the last confirmed one, sooner again while one
/// goes unanswered. Measured from that send time, the session is in
/// *jeopardy* TTL - TTL/4 after it (stop work under its locks: the service
/// may expire it once the margin is over), and *lost* a TTL after it, or at
/// once when the service answers that it no longer exists. From then on this
/// object no longer claims its locks (`lost()`, the callbacks, and every call
/// returns session_lost). A leader fail-over does not lose healthy sessions:
/// the new leader extends every session by a grace period, and keep-alives
/// follow the new leader. Choose a TTL well above the cluster's election time.
///
/// Calls block the calling thread (never call them inside an actor's message
/// handler); they are thread-safe and serialized per session. Destroy
/// sessions before the actor system.
class session {
 public:
  /// Stops the keep-alives and closes the session (unless the service said
  /// it is gone), bounded by the client timeout. Calls no loss callback.
  ~session();

  session(const session&) = delete;
  session& operator=(const session&) = delete;

  session_id id() const;
  std::chrono::milliseconds ttl() const;

  /// Whether the session is lost (expired, or no keep-alive confirmed for a
  /// TTL), judged from the clock at the call.
  bool lost() const;
  /// Healthy, in jeopardy or expired (lost, or closed), judged from the
  /// clock at the call (see the class comment).
  session_health health() const;
  /// Not known to be healthy: work under the session's locks should stop.
  bool in_jeopardy() const;
  /// The keeper's timing for this session's TTL.
  const keeper_config& timing() const;
  /// Why it was lost; empty while it is not.
  std::string lost_reason() const;
  /// Whether `close` ended it.
  bool closed() const;

  /// Ends the session cleanly: its locks are released at once (no
  /// lock-delay), its waits withdrawn, its ephemeral keys deleted.
  call_result close();

  /// Takes `name` if that is possible at once: ok with the fencing token,
  /// busy, or already_held with the token this session has.
  call_result try_lock(const std::string& name, lock_mode mode = lock_mode::exclusive);

  /// Takes `name`, waiting in the lock's FIFO queue up to `wait_timeout`:
  /// ok with the fencing token; timed_out (the wait was withdrawn, nothing of
  /// it stays queued); already_held with the token; session_lost. Returns
  /// within `wait_timeout` plus the client timeout. If it returns unavailable
  /// the wait may still be queued: `unlock(name)` withdraws it.
  call_result lock(const std::string& name, lock_mode mode, caf::timespan wait_timeout);

  /// Releases `name` (the next waiters are granted in the same command), or
  /// withdraws a wait for it. not_held if the session does neither.
  call_result unlock(const std::string& name);

  /// Sets `key` to `value` as an ephemeral key of this session: the service
  /// deletes it when the session ends. ok: `revision` of the change.
  call_result put(const std::string& key, const std::string& value);

  /// Calls `cb` once (with the reason) if the session is lost, while the
  /// returned handle is kept; at once if it is lost already. Callbacks run on
  /// the keep-alive thread, or on the thread whose call found the session
  /// gone, never under a lock of the session: they may call into it (calls
  /// then return session_lost) but must not destroy it.
  [[nodiscard]] std::shared_ptr<void> on_lost(lost_callback cb);

  /// Stops sending keep-alives without closing, as if this process hung: the
  /// service expires the session after its TTL, and this object reports it
  /// lost once a TTL passed since the last confirmed keep-alive. For tests
  /// and fault drills.
  void stop_keep_alive();

  struct impl;

 private:
  friend class lock_client;
  explicit session(std::shared_ptr<impl> state);

  std::shared_ptr<impl> impl_;
};

/// A running watch (`lock_client::watch`): a background thread polls the
/// service for new events and hands them to the callback in commit order.
class watcher {
 public:
  /// Stops the watch (waits for a callback in progress to return).
  ~watcher();

  watcher(const watcher&) = delete;
  watcher& operator=(const watcher&) = delete;

  /// Stops the watch; no callback runs after this returns (unless called from
  /// a callback). The end callback is not called.
  void stop();

  /// Whether the watch still runs (false once stopped or ended).
  bool running() const;

  /// The revision up to which every matching event was delivered.
  std::uint64_t revision() const;

  struct impl;

 private:
  friend class lock_client;
  explicit watcher(std::shared_ptr<impl> state);

  std::shared_ptr<impl> impl_;
};

/// Gets one event of a watch, on the watch's thread. Must not throw and
/// must not destroy its watcher.
using event_callback = std::function<void(const event&)>;

/// Gets why a watch ended by itself: compacted (the history no longer reaches
/// back to `revision`: re-read the state, then watch again from
/// `current_revision()`) or bad_request.
using end_callback = std::function<void(const call_result&)>;

/// A blocking client of the lock service over a group of replica actors
/// (`service::service_machine`). It follows not_leader hints, tries the next
/// replica when one does not answer, and retries a command with the same
/// (client id, seq), so a retried command applies once. Every call returns
/// within the timeout of its options, with unavailable if no replica answered
/// (or expired, see call_status::expired).
///
/// Thread-safe; calls on one client are serialized. It blocks the calling
/// thread: never use it inside an actor's message handler (event-based actors
/// send `lock_codec` commands themselves).
class lock_client {
 public:
  /// `client_id` names this client in the replicas' deduplication tables:
  /// pick one that no other client uses, now or earlier (a random number).
  /// Its sessions share it, and the fresh one it takes once the replicas
  /// forgot it.
  lock_client(caf::actor_system& sys, actors::peer_map replicas, std::uint64_t client_id,
              client_options opts = {});
  ~lock_client();

  lock_client(const lock_client&) = delete;
  lock_client& operator=(const lock_client&) = delete;

  struct opened {
    call_result result;
    /// Set when `result` is ok.
    std::unique_ptr<lock::session> session;
  };

  /// Opens a session that the service keeps while keep-alives arrive within
  /// `ttl` of each other (4 ms .. 1 h, the least the keeper's timing allows;
  /// a few seconds is typical). The session
  /// may outlive this client object (not the actor system).
  opened open_session(std::chrono::milliseconds ttl, session_options opts = {});

  /// ok if `token` is the fencing token of a current holder of `name`, else stale.
  call_result check_token(const std::string& name, std::uint64_t token);

  /// ok with `value` and `revision` (the key's version); not_found.
  call_result get(const std::string& key);

  /// Deletes `key` (any key, ephemeral or not); with `if_version`, only if its
  /// version is still that one. ok: `revision` of the delete.
  call_result del(const std::string& key, std::optional<std::uint64_t> if_version = std::nullopt);

  /// The holders and waiters of `name` (a linearizable read).
  lock_state describe(const std::string& name);

  /// The key space's current revision.
  call_result current_revision();

  /// Watches from the revision current when `watch` is called.
  static constexpr std::uint64_t from_now = std::numeric_limits<std::uint64_t>::max();

  /// Delivers every change of a key starting with `prefix` with a revision
  /// after `from_revision` (0: the whole history kept; `from_now`: what is
  /// committed from now on), in commit order, each exactly once, across
  /// leader fail-overs. To resume a watch, pass the last revision seen
  /// (`watcher::revision()`). If the history no longer reaches back that far
  /// the watch ends with compacted and `on_end` is called.
  std::unique_ptr<watcher> watch(std::string prefix, std::uint64_t from_revision,
                                 event_callback on_event, end_callback on_end = {});

  const client_options& options() const;

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace ballot::lock
