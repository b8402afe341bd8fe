#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "actors/kv/byte_codec.hpp"
#include "actors/lock/types.hpp"

namespace ballot::lock {

/// The small key namespace of the lock service (Chubby's files, ZooKeeper's
/// nodes): keys may be ephemeral (bound to a session and deleted when it
/// ends), every change gets the next revision, and the latest changes are kept
/// in a bounded history so watchers can catch up without missing any.
class key_space {
 public:
  struct entry {
    std::string value;
    /// Revision of the last put.
    std::uint64_t revision = 0;
    /// The session the key lives and dies with; 0 = persistent.
    session_id session = 0;
  };

  /// Keeps at most `history_limit` events (at least one).
  explicit key_space(std::size_t history_limit);

  /// Sets the key; a put rebinds it to `session` (0 makes it persistent).
  /// Returns the revision of the change.
  std::uint64_t put(const std::string& key, const std::string& value, session_id session);

  /// Deletes the key; the revision of the change, or nullopt if it was absent.
  std::optional<std::uint64_t> del(const std::string& key);

  /// Deletes every key bound to `session`, in key order.
  void drop_session(session_id session);

  /// Appends to `out` the events after `revision` on keys starting with
  /// `prefix`, in revision order. False if the history no longer reaches back
  /// to `revision` (some of them were dropped): the caller must re-read.
  bool events_since(const std::string& prefix, std::uint64_t revision,
                    std::vector<event>& out) const;

  const entry* find(const std::string& key) const;

  const std::map<std::string, entry>& keys() const { return keys_; }

  /// The revision of the latest change (0 = none yet).
  std::uint64_t revision() const { return revision_; }

  /// The sessions that own ephemeral keys.
  std::set<session_id> sessions() const;

  /// Appends the namespace: `revision:u64 compacted:u64 limit:u64 count:u64
  /// (key value revision:u64 session:u64)* events:u64 (revision:u64 type:u8
  /// key value)*`.
  void save(kv::detail::writer& w) const;

  /// Reads what `save` wrote into this (empty) namespace, including its
  /// history limit; false with the reader's error set if invalid.
  bool load(kv::detail::reader& r);

 private:
  void record(event e);

  std::map<std::string, entry> keys_;
  /// Derived from `keys_` (not in the snapshot).
  std::map<session_id, std::set<std::string>> by_session_;
  std::deque<event> history_;
  /// Part of the replicated state: replicas must drop the same events.
  std::size_t history_limit_;
  std::uint64_t revision_ = 0;
  /// The highest revision dropped from the history (0 = none dropped).
  std::uint64_t compacted_ = 0;
};

}  // namespace ballot::lock
