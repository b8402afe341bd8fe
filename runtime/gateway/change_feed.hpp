#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "actors/kv/event.hpp"
#include "actors/lock/types.hpp"
#include "actors/service/service_machine.hpp"

/// What the node's local replica applied, for the gateway's waiting calls:
/// watches read recent key events from here instead of asking the cluster,
/// and a waiting `acquire` learns of its grant (or of its session's expiry)
/// the moment the local replica applies it. Plain C++ and thread-safe: the
/// replica's thread publishes, the gateway's KJ thread reads and waits.
///
/// Callbacks run on the publishing thread, outside the feed's lock, once
/// each; they must not block (the gateway's fulfill a cross-thread promise).
namespace ballot::gateway {

class change_feed {
 public:
  using waker = std::function<void()>;
  /// A grant's token, or nullopt when the session expired first.
  using grant_handler = std::function<void(std::optional<std::uint64_t>)>;

  /// Keeps the latest `keep_events` events for watches.
  explicit change_feed(std::size_t keep_events = 20'000);

  /// Takes one applied command's changes (the service machine's observer).
  void publish(const service::change& c);

  /// The revision of the latest applied change this feed saw (0 = none).
  std::uint64_t revision() const;

  /// Appends the events after `after` on `key` (or on keys starting with
  /// it, with `prefix`) to `out` and sets `upto` to the revision they bring
  /// a watcher to. False if the feed no longer holds every event after
  /// `after` (the caller must ask the cluster's history).
  bool events_since(const std::string& key, bool prefix, std::uint64_t after,
                    std::vector<kv::event>& out, std::uint64_t& upto) const;

  /// Calls `wake` once the feed's revision passes `after` (at once if it has).
  /// Returns an id for `cancel`.
  std::uint64_t on_revision(std::uint64_t after, waker wake);

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

  mutable std::mutex mutex_;
  std::size_t keep_events_;
  std::deque<kv::event> events_;
  /// Every event after `base_` up to `revision_` is in `events_`.
  std::uint64_t base_ = 0;
  std::uint64_t revision_ = 0;
  std::uint64_t next_id_ = 0;
  std::map<std::uint64_t, std::pair<std::uint64_t, waker>> revision_waits_;
  std::map<std::uint64_t, grant_wait> grant_waits_;
};

}  // namespace ballot::gateway
