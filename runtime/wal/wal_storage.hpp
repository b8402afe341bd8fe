#pragma once

#include <cstdint>
#include <functional>
#include <optional>
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
///
/// A snapshot the replica took itself (`ready::compacted_locally`), handed
/// over with `append_owned`, is written in the background
/// (`write_ahead_log::start_checkpoint`): encoding it, writing, syncing and
/// renaming its file no longer stall the replica's thread. Until it is
/// durable the log keeps every record it covers (the core leaves them in
/// the ready), and `sync` finishes it (cuts the log) once it is. One at a
/// time: a snapshot that comes while one is being written is skipped (the
/// log keeps covering it, and the next one replaces both), so at most one
/// state waits in memory. A snapshot installed from a peer, or handed over
/// with `append`, is written at once, durable before `append` returns.
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

  /// Takes a local snapshot's state out of `rd` and writes it in the
  /// background (see above); otherwise like `append`.
  void append_owned(paxos::ready& rd) override;

  /// Also finishes a background checkpoint that became durable.
  void sync() override;

  /// Finishes a background checkpoint, waiting for it with `wait`; what
  /// `write_ahead_log::finish_checkpoint` returns.
  checkpoint_result finish_checkpoint(bool wait);

  /// Called on the caller's thread with every background checkpoint that
  /// finished (committed or postponed), e.g. to log its cost.
  void on_checkpoint_finished(std::function<void(const checkpoint_result&)> fn) {
    on_finished_ = std::move(fn);
  }

  /// Local snapshots skipped because one was still being written.
  std::uint64_t skipped_checkpoints() const { return skipped_; }

  /// What the last `load` found, for the process to log.
  const recovery_report& last_recovery() const { return report_; }

  /// The log itself (e.g. for its compaction hook).
  write_ahead_log& log() { return log_; }

 private:
  /// The records of `rd` (without its compaction); those for slots up to
  /// `covered` are left out (a snapshot already written holds them).
  void append_records(const paxos::ready& rd, std::optional<paxos::slot_index> covered);
  void start_background_checkpoint(paxos::durable_state state);

  write_ahead_log log_;
  std::string scratch_;  ///< one record's encoding; reused to save allocations
  recovery_report report_;
  std::function<void(const checkpoint_result&)> on_finished_;
  std::uint64_t skipped_ = 0;
};

}  // namespace ballot::wal
