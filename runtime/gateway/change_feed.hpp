#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "actors/kv/event.hpp"
#include "actors/lock/types.hpp"
#include "actors/service/service_machine.hpp"

/// What the node's local replica applied, for the gateway's waiting calls:
/// watches read recent key events through here (from the local replica's
/// own history, kv::event_history: the feed keeps no copy of its own)
/// instead of asking the cluster, and a waiting `acquire` learns of its
/// grant (or of its session's expiry) the moment the local replica applies
/// it. Plain C++ and thread-safe: the replica's thread publishes, the
/// gateway's KJ thread reads and waits.
///
/// Callbacks run on the publishing thread, outside the feed's lock, once
/// each; they must not block (the gateway's fulfill a cross-thread promise).
namespace ballot::gateway {

class change_feed {
 public:
  using waker = std::function<void()>;
  /// A grant's token, or nullopt when the session expired first.
  using grant_handler = std::function<void(std::optional<std::uint64_t>)>;

  /// Takes one applied command's changes (the service machine's observer)
  /// and the history they are in.
  void publish(const service::change& c);

  /// The revision of the latest applied change this feed saw (0 = none).
  std::uint64_t revision() const;

  /// Appends the events after `after` on `key` (or on keys starting with
  /// it, with `prefix`) to `out` and sets `upto` to the revision they bring
  /// a watcher to. False if the local history no longer holds every event
  /// after `after` (the caller must ask the cluster's history).
  bool events_since(const std::string& key, bool prefix, std::uint64_t after,
                    std::vector<kv::event>& out, std::uint64_t& upto) const;

  /// Calls `wake` once the feed's revision passes `after` (at once if it has).
  /// Returns an id for `cancel`.
  std::uint64_t on_revision(std::uint64_t after, waker wake);

  /// Like `on_revision`, but after `after` only a change of `key` (of a key
  /// starting with it, with `prefix`) or a reset wakes it: an idle watch
  /// costs nothing while other keys change.
  std::uint64_t on_change(std::uint64_t after, const std::string& key, bool prefix, waker wake);

  /// The users, roles and switch as the local replica last applied them;
  /// null until it applied an auth change or a snapshot (authentication off).
  std::shared_ptr<const auth::auth_store> auth() const;

  /// Registrations waiting (for tests and metrics).
  std::size_t waiting() const;

  /// Calls `done` once `session` is granted `name` or expires.
  std::uint64_t on_grant(lock::session_id session, const std::string& name, grant_handler done);

  /// Forgets a registration whose callback has not run (no-op otherwise).
  void cancel(std::uint64_t id);

 private:
  struct grant_wait {
    lock::session_id session;
    std::string name;
    grant_handler done;
  };

  struct key_wait {
    std::string key;
    bool prefix = false;
    waker wake;
  };
  /// Moves the callbacks of key waits that `e` concerns into `out`.
  void take_matching(const kv::shared_event& e, std::vector<waker>& out);
  void take_all_key_waits(std::vector<waker>& out);

  mutable std::mutex mutex_;
  std::shared_ptr<const auth::auth_store> auth_;
  /// The local key space's history, as of the last change published (none
  /// before the first).
  std::shared_ptr<const kv::event_history> history_;
  std::map<std::uint64_t, key_wait> key_waits_;
  /// Ids of key waits by exact key, and by prefix.
  std::multimap<std::string, std::uint64_t, std::less<>> by_key_;
  std::multimap<std::string, std::uint64_t, std::less<>> by_prefix_;
  std::uint64_t revision_ = 0;
  std::uint64_t next_id_ = 0;
  std::map<std::uint64_t, grant_wait> grant_waits_;
};

}  // namespace ballot::gateway
