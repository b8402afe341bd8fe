#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "actors/kv/byte_codec.hpp"
#include "actors/kv/event.hpp"
#include "actors/kv/event_history.hpp"
#include "actors/kv/shared_bytes.hpp"
#include "actors/kv/shared_event.hpp"

namespace ballot::kv {

/// Ballot's one key namespace, shared by the key/value API and the lock
/// service (Chubby's files, ZooKeeper's nodes, etcd's keys): every change gets
/// the next store revision; a key's version is the revision of its last put;
/// keys may be ephemeral (bound to a session and deleted when it ends); and
/// the latest changes are kept in a bounded history, so watchers resume from a
/// revision without missing anything.
///
/// The history is bounded by a number of events and by their bytes (values may
/// be large): both limits are part of the replicated state, so every replica
/// drops the same events.
class key_space {
 public:
  static constexpr std::size_t default_history_events = 50'000;
  static constexpr std::size_t default_history_bytes = 32u << 20;

  /// A value shared by the live key, its event in the history and any copy
  /// of the key space (a frozen snapshot): never changed in place, a put
  /// makes a new one. So a copy of the key space costs a pointer per key and
  /// per event, not the values' bytes (issue 9).
  using shared_value = shared_bytes;

  struct entry {
    shared_value data;
    /// Revision of the last put.
    std::uint64_t version = 0;
    /// The session the key lives and dies with; 0 = persistent.
    owner_id session = 0;

    std::string_view value() const { return data.view(); }
  };

  /// Copies share the values (see `shared_value`): a copy costs a node per
  /// key and per event, whatever the values' size, and is independent of
  /// this one (a later put here replaces the pointer, not the bytes).
  /// Keeps at most `history_events` events (at least one) of at most
  /// `history_bytes` key and value bytes in all (the newest event is always kept).
  explicit key_space(std::size_t history_events = default_history_events,
                     std::size_t history_bytes = default_history_bytes);
  /// A copy's history is its own (see event_history).
  key_space(const key_space& other);
  key_space& operator=(const key_space& other);
  key_space(key_space&&) noexcept = default;
  key_space& operator=(key_space&&) noexcept = default;

  /// Sets the key; a put rebinds it to `session` (0 makes it persistent).
  /// Returns the revision of the change.
  std::uint64_t put(const std::string& key, const std::string& value, owner_id session);

  /// Deletes the key; the revision of the change, or nullopt if it was absent.
  std::optional<std::uint64_t> del(const std::string& key);

  /// Deletes every key bound to `session`, in key order.
  void drop_session(owner_id session);

  /// Appends to `out` the events after `revision` on keys starting with
  /// `prefix`, in revision order. False if the history no longer reaches back
  /// to `revision` (some of them were dropped): the caller must re-read.
  bool events_since(const std::string& prefix, std::uint64_t revision,
                    std::vector<event>& out) const;

  /// Like the above, but stops once the events appended hold `max_bytes` of
  /// keys and values (at least one event goes), and sets `upto` to the
  /// revision the scan reached: a watcher has seen everything up to it.
  bool events_since(const std::string& prefix, std::uint64_t revision, std::size_t max_bytes,
                    std::vector<event>& out, std::uint64_t& upto) const;

  /// Every event after `revision`, values shared (not copied); false as above.
  bool events_since(std::uint64_t revision, std::vector<shared_event>& out) const;

  const entry* find(const std::string& key) const;

  const std::map<std::string, entry>& keys() const { return keys_; }

  /// The revision of the latest change (0 = none yet).
  std::uint64_t revision() const { return revision_; }

  /// The highest revision dropped from the history (0 = none dropped):
  /// `events_since` answers for any revision >= this.
  std::uint64_t compacted() const { return history_->compacted(); }

  /// The history itself, for readers on other threads (the gateway's
  /// watches): it is this key space's until a restore replaces the space.
  std::shared_ptr<const event_history> history() const { return history_; }

  /// Bytes of the live keys and values: what a quota limits, so deletes make
  /// room at once (the history has its own bound). Derived, not in the snapshot.
  std::uint64_t bytes() const { return data_size_; }

  /// The sessions that own ephemeral keys.
  std::set<owner_id> sessions() const;

  /// Appends the namespace: `revision:u64 compacted:u64 limit:u64 bytes:u64
  /// count:u64 (key value version:u64 session:u64)* events:u64 (revision:u64
  /// type:u8 key value)*`.
  void save(detail::writer& w) const;

  /// The exact number of bytes `save` appends, from counters (no walk of
  /// the keys): what a snapshot reserves before writing them.
  std::size_t saved_size() const;

  /// Reads what `save` wrote into this (empty) namespace, including its
  /// history limits; false with the reader's error set if invalid.
  bool load(detail::reader& r);

 private:
  void record(std::uint64_t revision, event_type type, const std::string& key, shared_value value);

  std::map<std::string, entry> keys_;
  /// Derived from `keys_` (not in the snapshot).
  std::map<owner_id, std::set<std::string>> by_session_;
  /// Each event's value is shared with the key it set (empty for a delete).
  /// Never null; shared only with readers, never with a copy.
  std::shared_ptr<event_history> history_;
  /// Key and value bytes in `keys_` (derived).
  std::uint64_t data_size_ = 0;
  std::uint64_t revision_ = 0;
};

}  // namespace ballot::kv
