#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/wal/file.hpp"
#include "runtime/wal/segment.hpp"

/// A segmented, checksummed, group-committed write-ahead log of opaque
/// records. It knows nothing of Paxos: `wal_storage` puts Paxos records in it.
namespace ballot::wal {

struct wal_options {
  /// The data directory; created, with missing parents, if it does not exist.
  std::string dir;
  /// A new segment starts when the next record would take the current one
  /// past this many bytes (a larger record gets a segment of its own).
  std::uint64_t segment_size = std::uint64_t{64} << 20;
  /// Optional: lets recovery check a record's length field against the size
  /// its payload declares (see `scan_frames`); `wal_storage` sets it.
  payload_size_fn payload_size;
};

/// Where a replayed record lives, for error messages.
struct record_position {
  std::string_view file;  ///< path of its segment
  std::uint64_t offset;   ///< byte offset of its header in that segment
  std::uint64_t index;    ///< its number in the log
};

/// What `replay` found, for the process to log.
struct recovery_report {
  std::size_t segments = 0;
  std::uint64_t records = 0;
  /// Bytes cut from the end of the last segment: the remains of a write a
  /// crash interrupted before its sync (so nothing acknowledged). 0: none.
  std::uint64_t truncated_bytes = 0;
  std::string truncated_file;      ///< the segment that was cut
  std::uint64_t truncated_at = 0;  ///< its new size
  std::string truncated_reason;    ///< what the cut bytes looked like

  bool truncated() const { return truncated_bytes > 0; }
};

/// One line for a log: "replayed 3 segments, 1200 records; cut 17 bytes ...".
std::string to_string(const recovery_report& report);

/// The log. Use: construct (opens and locks the directory), `replay` once
/// (recovers, and positions the log for appending), then `append` records
/// and `sync` whenever they must be durable. Not thread-safe; one `write_ahead_log` per
/// directory (a second one, in any process, fails to open: two replicas
/// sharing a disk would break Paxos silently).
///
/// Durability rule: nothing is durable before `sync` returns. A crash may
/// leave any part of what was appended since the last sync, and `replay`
/// cuts such a torn tail; damage anywhere else is reported, never skipped.
class write_ahead_log {
 public:
  using record_handler = std::function<void(std::string_view payload, const record_position&)>;

  /// Creates the directory if missing and locks it. Throws storage_error
  /// (naming the path and the OS error) if it is unusable.
  explicit write_ahead_log(wal_options opts);

  /// Writes out buffered records (without syncing them) and closes.
  ~write_ahead_log();

  write_ahead_log(const write_ahead_log&) = delete;
  write_ahead_log& operator=(const write_ahead_log&) = delete;

  /// Calls `on_record` for every record, in order. The first call recovers:
  /// it cuts a torn tail off the last segment and readies the log for
  /// appending. Throws storage_error naming the file and offset of any
  /// damage it may not cut, or of a record `on_record` throws for (e.g. one
  /// that does not decode).
  recovery_report replay(const record_handler& on_record);

  /// Appends one record (1 byte to `max_record_size`, else storage_error).
  /// Buffered: written out by `sync` (or once 1 MiB is buffered), never
  /// synced here, so N appends and a sync cost one write and one fdatasync.
  void append(std::string_view payload);

  /// Returns once every appended record is durable: one write and one
  /// fdatasync for all of them (plus a directory fsync after a new segment).
  /// A no-op when nothing was appended since the last sync.
  void sync();

  /// Compaction hook: removes every whole segment whose records all have
  /// indexes below `index` (never the segment being written). For when the
  /// state up to `index` is kept elsewhere, e.g. in a future snapshot.
  /// Returns how many segments were removed.
  std::size_t drop_segments_before(std::uint64_t index);

  /// The index the next appended record will get.
  std::uint64_t next_index() const { return next_index_; }
  /// File names of the segments, oldest first.
  std::vector<std::string> segment_files() const;
  const std::string& dir() const { return opts_.dir; }

 private:
  struct segment_info {
    std::uint64_t first_index;
    std::string name;
  };

  std::string path_of(const std::string& name) const { return opts_.dir + "/" + name; }
  std::vector<segment_info> list_segments() const;
  void require_ready() const;
  void roll();
  void write_pending();
  /// Runs an I/O step; on failure the log refuses all further use, because
  /// after a failed write or fdatasync what is on disk is unknown (and a
  /// retried fdatasync may report success for data the kernel dropped).
  template <class F>
  void guarded(F&& step);

  wal_options opts_;
  unique_fd dir_fd_;
  std::vector<segment_info> segments_;
  unique_fd active_fd_;            ///< the last segment, open for appending
  std::uint64_t active_size_ = 0;  ///< its size including `pending_`
  std::string pending_;            ///< framed records not yet written
  std::uint64_t next_index_ = 0;
  bool replayed_ = false;
  bool unsynced_ = false;   ///< records appended since the last sync
  bool dir_dirty_ = false;  ///< a segment was created since the last sync
  bool broken_ = false;
};

}  // namespace ballot::wal
