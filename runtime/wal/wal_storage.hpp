#pragma once

#include <string>

#include "actors/replica/storage.hpp"
#include "runtime/wal/wal.hpp"

namespace ballot::wal {

/// The `actors::storage` of a replica that survives restarts: its promise,
/// votes and chosen values as records in a write-ahead log.
///
/// A ready with a `compacted` state is a checkpoint of the log (see
/// `write_ahead_log::checkpoint`): one snapshot file holds the whole state
/// (the snapshot, the promise, and the votes and chosen values after it),
/// the ready's own records follow in a new segment, and everything older is
/// deleted. `load` starts from the newest snapshot file and replays the
/// segments after it, ignoring records for slots the snapshot covers.
///
/// `append` encodes a ready's records into the log's buffer and `sync` makes
/// everything appended so far durable with one fdatasync: the replica actor
/// appends the readies of every waiting input, then syncs once (group commit).
class wal_storage final : public actors::storage {
 public:
  /// Opens (creating if needed) and locks the log in `opts.dir`; throws
  /// `actors::storage_error` if the directory is unusable.
  explicit wal_storage(wal_options opts);

  /// Replays the log. The first call also recovers it (see `write_ahead_log::replay`);
  /// `last_recovery` then says whether a torn tail was cut or damage set
  /// aside. The state is `damaged` while the directory is marked
  /// `repair_pending` (a ready's `damaged` sets and clears the mark).
  paxos::durable_state load() override;

  /// Throws std::invalid_argument for a compacted state without a snapshot,
  /// std::logic_error for one whose snapshot ends before the previous one.
  void append(const paxos::ready& rd) override;

  void sync() override;

  /// What the last `load` found, for the process to log.
  const recovery_report& last_recovery() const { return report_; }

  /// The log itself (e.g. for its compaction hook).
  write_ahead_log& log() { return log_; }

 private:
  write_ahead_log log_;
  std::string scratch_;  ///< one record's encoding; reused to save allocations
  recovery_report report_;
};

}  // namespace ballot::wal
