#pragma once

#include <functional>
#include <memory>
#include <stdexcept>

#include "actors/paxos/ready.hpp"

/// The seam between a replica actor and its disk.
namespace ballot::actors {

/// Where a replica actor keeps its `paxos::durable_state`. The actor calls
/// `load` once when it starts; its commit pipeline (commit_pipeline.hpp)
/// calls `append` for every `ready` that has records, and `sync` before it
/// sends any message or reply that followed an append: the core's safety
/// rests on an acceptor's answer never outrunning its vote.
///
/// Splitting append from sync is what makes group commit possible: the
/// pipeline appends the records of every input waiting in the actor's
/// mailbox, then pays for one sync (one fdatasync for a write-ahead log) and
/// releases all their answers at once.
///
/// Errors are thrown as `storage_error`; a replica cannot go on without its
/// disk, so the process reports the error and stops.
class storage {
 public:
  virtual ~storage() = default;

  /// Everything persisted so far (empty for a new replica).
  virtual paxos::durable_state load() = 0;

  /// Writes the records of `rd` (promise, votes, chosen slots); they need not
  /// be durable until the next `sync`.
  virtual void append(const paxos::ready& rd) = 0;

  /// Like `append`, for a ready the caller gives away: a storage may take its
  /// large parts (the `compacted` state, hundreds of MiB) instead of copying
  /// them, e.g. to write a snapshot in the background. `rd` is left valid
  /// but `rd.compacted` may be empty. The replica actor appends through this.
  virtual void append_owned(paxos::ready& rd) { append(rd); }

  /// Returns once everything appended so far is durable.
  virtual void sync() = 0;
};

/// A storage failure: names the file and, for a corrupt record, the offset.
class storage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The disk is full. Unlike other storage errors it loses nothing and breaks
/// nothing: what was appended is still held, and `sync` may be tried again
/// once there is space (the replica actor does, and holds its answers
/// meanwhile).
class storage_full : public storage_error {
 public:
  using storage_error::storage_error;
};

/// Makes the storage of one replica; called once per spawned actor.
using storage_factory = std::function<std::unique_ptr<storage>()>;

}  // namespace ballot::actors
