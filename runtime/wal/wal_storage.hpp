#pragma once

#include <string>

#include "actors/replica/storage.hpp"
#include "runtime/wal/wal.hpp"

namespace ballot::wal {

/// The `actors::storage` of a replica that survives restarts: its promise,
/// votes and chosen values as records in a write-ahead log.
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
  /// `last_recovery` then says whether a torn tail was cut.
  paxos::durable_state load() override;

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
