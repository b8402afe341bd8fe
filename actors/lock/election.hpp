#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "caf/timespan.hpp"

#include "actors/lock/lock_client.hpp"

namespace ballot::lock {

/// Leader election, a recipe on the lock service. Participants campaign with
/// a value (an address, a name); the one that holds the exclusive lock
/// `election/<name>` leads, and its value is the ephemeral key
/// `election/<name>/leader`, so anybody can read or watch who leads.
///
/// **The term.** The fencing token of the leader's grant is its term: terms
/// strictly increase over the election's whole history (across resignations,
/// expired sessions and fail-overs of the service itself). A leader stamps
/// its term on everything it does to shared resources, and they refuse any
/// term older than one they have seen (or ask `lock_client::check_token`): a
/// deposed leader that does not know it yet is then harmless.
///
/// **Losing leadership.** Leadership lives in the participant's session: when
/// the session is lost (it expired, or no keep-alive was confirmed for a TTL)
/// the service releases the lock and deletes the leader key in one command,
/// the next campaigner takes over with a higher term, and this object calls
/// its `on_lost` callback and stops claiming to lead.
///
///     lock::election e{client, "scheduler"};
///     auto won = e.campaign(*s, "node-a:7000", std::chrono::seconds(30));
///     if (won.ok()) {
///       run_as_leader(/*term=*/won.token);
///       e.resign();
///     }
///
/// Thread-safe; `campaign` blocks its caller.
class election {
 public:
  /// Called at most once per term with the term lost and why.
  using lost_callback = std::function<void(std::uint64_t term, const std::string& why)>;

  /// Called with the current leader's value, or nullopt when nobody leads.
  using leader_callback = std::function<void(const std::optional<std::string>& leader)>;

  /// `client` must outlive this object.
  election(lock_client& client, std::string name, lost_callback on_lost = {});

  /// Does not resign: leadership ends with the session (or `resign`).
  ~election();

  election(const election&) = delete;
  election& operator=(const election&) = delete;

  /// Blocks until this participant leads with session `s` or `wait_timeout`
  /// passes. ok: `token` is the term, and `election/<name>/leader` holds
  /// `value`. timed_out: another participant still leads, and this one no
  /// longer waits. already_held: it leads already (the value is updated).
  /// session_lost, unavailable. `s` must outlive the leadership (resign or
  /// lose it first).
  call_result campaign(session& s, const std::string& value, caf::timespan wait_timeout);

  /// Steps down: deletes the leader key (if it is still this leader's) and
  /// releases the lock, which passes to the next campaigner in the same
  /// command. not_held if this participant does not lead.
  call_result resign();

  /// Whether this participant leads (as far as it knows: a lost session ends it).
  bool leading() const;

  /// The term this participant leads in; 0 when it does not lead.
  std::uint64_t term() const;

  /// ok: `value` is the current leader's value (`revision`: its key's
  /// version); not_found: nobody leads; unavailable.
  call_result leader();

  struct observation {
    call_result result;
    /// Set when `result` is ok; stop observing by destroying it.
    std::unique_ptr<lock::watcher> watcher;
  };

  /// Calls `on_change` at once (on this thread) with the current leader, then
  /// (on the watcher's thread) with every change of leader, in order. Fails
  /// only if the service cannot be reached now.
  observation observe(leader_callback on_change);

  /// `election/<name>`: the lock whose holder leads.
  const std::string& lock_name() const;

  /// `election/<name>/leader`: the leader's value, an ephemeral key.
  const std::string& leader_key() const;

  struct state;

 private:
  lock_client& client_;
  std::shared_ptr<state> state_;
};

}  // namespace ballot::lock
