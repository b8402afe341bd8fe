#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "actors/kv/event.hpp"
#include "actors/kv/shared_event.hpp"

namespace ballot::kv {

/// The latest changes of a key space, one event per revision (values shared
/// with the keys they set), bounded by a count and by key and value bytes.
/// The replica's thread appends as it applies; the gateway's thread reads it
/// for watches, so the node keeps one history, not a second copy in the
/// gateway (issue 14). Every access takes the history's lock. A copy is
/// independent of the original: a frozen key space must not see the live
/// one's later changes. It is cheap: the events are kept in chunks shared
/// with copies and never changed while shared, so freezing a key space for
/// a snapshot copies a pointer per `chunk_events` events, not every event
/// (50,000 events took the replica's thread 6-49 ms).
class event_history {
 public:
  /// Keeps at most `max_events` events (at least one) of at most
  /// `max_bytes` key and value bytes in all (the newest is always kept).
  event_history(std::size_t max_events, std::size_t max_bytes);
  event_history(const event_history& other);
  event_history& operator=(const event_history& other);

  /// Appends the event of the next revision and drops the oldest ones past
  /// the bounds.
  void append(shared_event e);

  /// Empties it and sets its bounds: the next event is revision
  /// `compacted` + 1. `restore_push` then adds the events of a snapshot
  /// without dropping any (they were within the bounds when saved).
  void reset(std::uint64_t compacted, std::size_t max_events, std::size_t max_bytes);
  void restore_push(shared_event e);

  /// The highest revision dropped (0 = none): events_since answers for any
  /// revision from here on.
  std::uint64_t compacted() const;
  /// The revision of the newest event (compacted() when empty).
  std::uint64_t revision() const;
  std::size_t size() const;
  /// Key and value bytes held.
  std::size_t bytes() const;
  std::size_t max_events() const;
  std::size_t max_bytes() const;

  /// Appends to `out` the events after `revision` on `key` (with `prefix`,
  /// on keys starting with it), in revision order, stopping once they hold
  /// `max_bytes` of keys and values (at least one goes); sets `upto` to the
  /// revision a watcher has then seen everything up to. False if the events
  /// after `revision` are no longer all here: the caller must re-read.
  bool events_since(const std::string& key, bool prefix, std::uint64_t revision,
                    std::size_t max_bytes, std::vector<event>& out, std::uint64_t& upto) const;

  /// Every event after `revision`, values shared; false as above.
  bool events_since(std::uint64_t revision, std::vector<shared_event>& out) const;

  /// Calls `f(const shared_event&)` for each event, oldest first, under the lock.
  template <class F>
  void for_each(F&& f) const {
    std::lock_guard<std::mutex> guard{mtx_};
    for (std::size_t i = 0; i < size_; ++i)
      f(at(i));
  }

  static constexpr std::size_t chunk_events = 256;

 private:
  /// Every chunk but the last holds `chunk_events` events.
  struct chunk {
    std::vector<shared_event> events;
  };

  /// The index of the first event after `revision` (lock held).
  std::size_t first_after(std::uint64_t revision) const;
  /// The `i`-th event held, oldest first (lock held).
  const shared_event& at(std::size_t i) const {
    auto j = i + skip_;
    return chunks_[j / chunk_events]->events[j % chunk_events];
  }
  /// Appends without dropping; drops the oldest event (lock held).
  void push(shared_event e);
  void drop_oldest();

  mutable std::mutex mtx_;
  /// Oldest first. A chunk a copy shares is never changed: appending to
  /// it copies it first, and dropping from it only moves `skip_`.
  std::deque<std::shared_ptr<chunk>> chunks_;
  /// Events at the front of the first chunk that are dropped already.
  std::size_t skip_ = 0;
  std::size_t size_ = 0;
  std::size_t bytes_ = 0;
  std::size_t max_events_;
  std::size_t max_bytes_;
  std::uint64_t compacted_ = 0;
};

}  // namespace ballot::kv
