#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/replica/storage.hpp"
#include "runtime/wal/background_job.hpp"
#include "runtime/wal/file.hpp"
#include "runtime/wal/segment.hpp"
#include "runtime/wal/snapshot_file.hpp"
#include "runtime/wal/snapshot_reader.hpp"

/// A segmented, checksummed, group-committed write-ahead log of opaque
/// records, compacted by checkpoints. It knows nothing of Paxos:
/// `wal_storage` puts Paxos records and snapshots in it.
namespace ballot::wal {

/// The file whose presence says the directory's state is incomplete.
constexpr std::string_view repair_marker_name = "repair-pending";
/// What damaged files are renamed to (plus ".N" if taken).
constexpr std::string_view damaged_suffix = ".damaged";

/// The steps of `write_ahead_log::checkpoint`, in order. In a background
/// checkpoint (`start_checkpoint`), temp_written and renamed happen on the
/// background thread, the others on the log's own.
enum class checkpoint_step {
  segment_started,  ///< a new segment starts at next_index(); every record before it is synced
  temp_written,     ///< the snapshot file is written and synced under its temporary name
  renamed,          ///< it has its name and the directory is synced: the checkpoint is committed
  segment_dropped,  ///< one obsolete segment was removed (once per segment, oldest first)
  done,             ///< older snapshot files are removed and the directory synced
};

struct wal_options {
  /// The data directory; created, with missing parents, if it does not exist.
  std::string dir;
  /// A new segment starts when the next record would take the current one
  /// past this many bytes (a larger record gets a segment of its own).
  std::uint64_t segment_size = std::uint64_t{64} << 20;
  /// Optional: lets recovery check a record's length field against the size
  /// its payload declares (see `scan_frames`); `wal_storage` sets it.
  payload_size_fn payload_size;
  /// What the first replay does with damage it may not cut as a torn tail (a
  /// damaged synced record, a missing segment, a damaged snapshot that no
  /// older checkpoint covers). false: replay throws storage_error naming it.
  /// true: it keeps the valid records before the damage, renames the damaged
  /// file and every later one to "<name>.damaged" (nothing synced is ever
  /// deleted), marks the directory `repair_pending` BEFORE it changes
  /// anything, and reports what it set aside. The caller must then treat
  /// its state as incomplete (a replica re-learns it from its peers).
  bool set_aside_damage = false;
  /// The chunk size of the body of the snapshot files it writes (1 to
  /// `max_snapshot_chunk_size`): a state of GiBs goes to disk in pieces of
  /// this size, each with its own CRC. Files written with any size are read.
  std::uint32_t snapshot_chunk_size = default_snapshot_chunk_size;
  /// The active segment is allocated ahead of its writes in steps of this
  /// many bytes (0: it grows with each write). An fdatasync that need not
  /// also record a larger file size in the file system's journal costs about
  /// half as much (bench/README "Preallocated segments"). The zeros after the
  /// last record are unused space, not a torn write; a finished segment is
  /// cut to its records before the next one starts. Where the file system
  /// cannot allocate (full, or no fallocate), the segment grows as it is
  /// written.
  std::uint64_t preallocate_bytes = std::uint64_t{4} << 20;
  /// Test seam: called after each step of a checkpoint. Throwing from it plays
  /// a crash right there (the log then refuses further use, like after an I/O
  /// error, and a new log on the directory recovers).
  std::function<void(checkpoint_step)> checkpoint_hook;
};

/// What became of a background checkpoint (`write_ahead_log::finish_checkpoint`).
struct checkpoint_result {
  enum class outcome {
    none,       ///< no checkpoint was pending
    running,    ///< still being written
    committed,  ///< durable, and the log before it is gone
    postponed,  ///< the disk was full: nothing changed, the log still holds it all
  };
  outcome what = outcome::none;
  std::uint64_t key = 0;
  std::uint64_t bytes = 0;  ///< of the header and body
  /// Time on the background thread making the payload, and writing it (the
  /// temporary file, its fdatasync, the rename and the directory fsync).
  std::chrono::nanoseconds encode_time{0};
  std::chrono::nanoseconds write_time{0};
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

  /// The snapshot file the replay started from ("" if none), and the index
  /// of the first record replayed after it.
  std::string snapshot_file;
  std::uint64_t first_record = 0;
  /// Leftovers of a checkpoint a crash interrupted, removed: segments and
  /// snapshot files older than the checkpoint, and uncommitted temporary files.
  std::size_t removed_files = 0;
  /// A damaged snapshot file that recovery could do without, because an older
  /// checkpoint and the segments after it were all still there: it was renamed
  /// to "<name>.corrupt" and replay started from the older one. "" if none.
  std::string corrupt_snapshot;
  std::string corrupt_reason;

  /// Damage set aside (see wal_options::set_aside_damage): the file and
  /// offset of the first damaged byte, why, and the files renamed.
  std::string damaged_file;
  std::uint64_t damaged_at = 0;
  std::string damaged_reason;
  std::vector<std::string> set_aside;
  /// The directory is marked as holding incomplete state (now, or by an
  /// earlier recovery whose repair has not finished).
  bool repair_pending = false;

  bool truncated() const { return truncated_bytes > 0; }
  bool damaged() const { return !damaged_file.empty(); }
};

/// What a checkpoint writes (see `write_ahead_log::checkpoint`).
struct snapshot_payload {
  std::string header;
  /// Viewed, not copied: a body of GiBs is written straight from where it is.
  std::string_view body;
  /// Keeps what `body` views alive until the file is written.
  std::shared_ptr<const void> body_owner;
  /// Or, when set, makes the body piece by piece into the sink it is given,
  /// which writes each piece to the file as it comes (snapshot_writer): a
  /// body of GiBs is never one string beside the state it encodes (issue 9).
  std::function<void(const std::function<void(std::string_view)>& sink)> write_body;
  /// The size `write_body` will make, or a close estimate (exact is cheaper:
  /// a wrong one costs one more write of the file's sizes).
  std::uint64_t body_size_hint = 0;
};

/// One line for a log: "replayed 3 segments, 1200 records; cut 17 bytes ...".
std::string to_string(const recovery_report& report);

/// The log. Use: construct (opens and locks the directory), `replay` once
/// (recovers, and positions the log for appending), then `append` records
/// and `sync` whenever they must be durable, and `checkpoint` now and then.
/// Not thread-safe; one `write_ahead_log` per directory (a second one, in any
/// process, fails to open: two replicas sharing a disk would break Paxos
/// silently).
///
/// Durability rule: nothing is durable before `sync` returns. A crash may
/// leave any part of what was appended since the last sync, and `replay`
/// cuts such a torn tail; damage anywhere else is reported, never skipped.
class write_ahead_log {
 public:
  using record_handler = std::function<void(std::string_view payload, const record_position&)>;
  /// Takes a snapshot file, whose header is checked and whose body it reads
  /// (`snapshot_reader::read_body`), and its path, for messages; returns the
  /// index of the first record after it, which the header recorded (see
  /// `checkpoint`). Throwing (anything but storage_error) means the file is
  /// damaged.
  using checkpoint_handler =
    std::function<std::uint64_t(snapshot_reader& snapshot, const std::string& path)>;

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
  ///
  /// With checkpoints: hands the newest snapshot file to `on_checkpoint`, then
  /// replays the records from the index it returns. A snapshot file that
  /// fails its CRC or `on_checkpoint` is corruption (its name says it was
  /// complete once), reported with its path and offset, unless recovery may
  /// do without it: then an older checkpoint (or the log from record 0) and
  /// every segment after it are still there, and that is where the replay
  /// starts (see recovery_report::corrupt_snapshot). The first replay also
  /// finishes what a crash interrupted: it removes uncommitted temporary
  /// snapshot files, and segments and snapshot files older than the one it
  /// starts from.
  recovery_report replay(const checkpoint_handler& on_checkpoint, const record_handler& on_record);

  /// For a log that never checkpoints: a snapshot file in the directory is
  /// a storage_error.
  recovery_report replay(const record_handler& on_record);

  /// Appends one record (1 byte to `max_record_size`, else storage_error).
  /// Buffered: written out by `sync` (or once 1 MiB is buffered), never
  /// synced here, so N appends and a sync cost one write and one fdatasync.
  void append(std::string_view payload);

  /// Returns once every appended record is durable: one write and one
  /// fdatasync for all of them (plus a directory fsync after a new segment).
  /// A no-op when nothing was appended since the last sync.
  void sync();

  /// Compacts the log: from now on, replay starts from `header` and `body`
  /// (the whole state so far; the header must record `next_index()` as read
  /// before this call for the checkpoint handler to return; the body, of any
  /// size, is written in chunks) and the records appended after
  /// it; everything before is deleted. `key` orders checkpoints and names the
  /// file (e.g. the snapshot's last slot); it may not decrease (logic_error).
  ///
  /// Crash-safe at every instant, because one rename commits it: a crash
  /// before leaves the old state, after it the new one. Steps: start a new
  /// segment (syncing the records before it), write the payload to a temporary
  /// file and fdatasync it, rename it to "snapshot-<key>.snap" and fsync the
  /// directory, then remove the older segments and snapshot files. Records
  /// appended after it are durable at the next `sync`, as always.
  void checkpoint(std::uint64_t key, std::string_view header, std::string_view body = {});

  /// The same checkpoint with its slow half on a background thread, so that
  /// the caller goes on appending meanwhile. Here, on the caller's thread:
  /// the key check and the new segment (which syncs the records before it);
  /// the header `make_payload` returns must record `next_index()` as read
  /// before this call.
  /// There: `make_payload` (e.g. encoding a state it owns), the temporary
  /// file, its fdatasync, the rename and the directory fsync. Nothing older
  /// is deleted until `finish_checkpoint` sees the rename durable, so a crash
  /// at any point leaves the old checkpoint with every segment after it, or
  /// the new one with every segment after it (recovery removes the rest).
  /// At most one is in flight: throws std::logic_error if one is.
  void start_checkpoint(std::uint64_t key, std::function<snapshot_payload()> make_payload);

  /// A background checkpoint was started and not finished yet.
  bool checkpoint_in_flight() const { return background_.pending(); }

  /// Finishes a background checkpoint once it is durable: removes the
  /// segments before it and older snapshot files. With `wait`, blocks until
  /// it is written; without, returns `running` if it is not. A full disk
  /// postpones it (nothing deleted, `postponed`); any other failure of the
  /// background half is rethrown here, and the log refuses further use.
  checkpoint_result finish_checkpoint(bool wait);

  /// Compaction hook: removes every whole segment whose records all have
  /// indexes below `index` (never the segment being written). For when the
  /// state up to `index` is kept elsewhere, e.g. in a future snapshot.
  /// Returns how many segments were removed.
  std::size_t drop_segments_before(std::uint64_t index);

  /// Marks (true) or unmarks the directory as holding incomplete state, with
  /// a file named `repair_marker_name`, durably (file and directory synced)
  /// before it returns. Unmarking first syncs every appended record.
  void set_repair_pending(bool pending);
  bool repair_pending() const;

  /// The index the next appended record will get.
  std::uint64_t next_index() const { return next_index_; }
  /// Bytes of records (with their framing) appended since this log opened.
  std::uint64_t bytes_appended() const { return bytes_appended_; }
  /// Segments the log holds now, the one being written included.
  std::size_t segment_count() const { return segments_.size(); }
  /// File names of the segments, oldest first.
  std::vector<std::string> segment_files() const;
  /// File names of the snapshot files in the directory, oldest first (one,
  /// but for a crash in the middle of a checkpoint).
  std::vector<std::string> snapshot_files() const;
  const std::string& dir() const { return opts_.dir; }

 private:
  struct segment_info {
    std::uint64_t first_index;
    std::string name;
  };

  struct snapshot_info {
    std::uint64_t key;
    std::string name;
  };

  /// The log's files in the directory, each list in key/index order.
  struct listing {
    std::vector<segment_info> segments;
    std::vector<snapshot_info> snapshots;
    std::vector<std::string> temp_files;
  };

  /// Where a replay starts: after the chosen snapshot file, if any.
  struct replay_start {
    std::optional<snapshot_info> snapshot;
    std::uint64_t index = 0;
    /// The first segment must start exactly at `index` (after a checkpoint,
    /// or when a damaged newer checkpoint makes the log from 0 the base).
    bool exact = false;
    /// Newer snapshot files found damaged that the replay may do without.
    std::vector<std::string> damaged;
  };

  /// One replay's walk over the files (wal.cpp).
  struct replay_pass;

  std::string path_of(const std::string& name) const { return opts_.dir + "/" + name; }
  listing list_files() const;
  replay_start choose_start(const listing& files, const checkpoint_handler& on_checkpoint,
                            bool repair, recovery_report& report);
  void step(checkpoint_step s) const;
  /// The steps of a checkpoint before its snapshot file (on the log's thread).
  void begin_checkpoint(std::uint64_t key, std::uint64_t header_size);
  /// Writes, syncs and renames the snapshot file and syncs the directory.
  /// Touches nothing of the log but `opts_` and `dir_fd_`: safe on a
  /// background thread while the log appends.
  /// `write` writes the file to the fd it is given and returns the errno
  /// of a failed write (0: none).
  void commit_snapshot_file(std::uint64_t key, const std::function<int(int fd)>& write) const;
  /// Writes the chunked file to `fd`; returns the errno of a failed write (0: none).
  int write_snapshot(int fd, std::string_view header, std::string_view body) const;
  /// Writes the chunked file to `fd` as `p.write_body` makes the body; adds
  /// the body's size to `res.bytes` and the time spent making it (outside
  /// the writes) to `encoding`. Returns the errno of a failed write (0: none).
  int stream_snapshot(int fd, const snapshot_payload& p, checkpoint_result& res,
                      std::chrono::nanoseconds& encoding) const;
  /// The steps after the rename (on the log's thread).
  void end_checkpoint(std::uint64_t key, std::uint64_t first_index);
  void require_ready() const;
  void roll();
  /// Frames a sync mark for the batch written since the last one.
  void mark_batch();
  void write_pending();
  /// Allocates the active segment up to at least `end` (see preallocate_bytes).
  void preallocate(std::uint64_t end);
  /// Renames `name` to a free "<name>.damaged[.N]"; returns the new name.
  std::string set_aside(const std::string& name);
  /// fdatasync of a file recovery read, so that what it acts on is durable.
  void sync_read_file(const std::string& name);
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
  std::uint64_t batch_start_ = 0;  ///< where the batch not yet synced starts in it
  /// Its size on disk: `active_size_` less `pending_`, then preallocated zeros.
  std::uint64_t allocated_ = 0;
  /// After an allocation failed, the next waits until the writes reach this
  /// (a file system without room or without fallocate is not asked per batch).
  std::uint64_t retry_allocation_at_ = 0;
  std::string pending_;  ///< framed records not yet written
  std::uint64_t next_index_ = 0;
  std::uint64_t bytes_appended_ = 0;
  bool replayed_ = false;
  bool unsynced_ = false;   ///< records appended since the last sync
  bool dir_dirty_ = false;  ///< a segment was created since the last sync
  bool broken_ = false;
  /// The key of the newest checkpoint, once there is one.
  std::optional<std::uint64_t> checkpoint_key_;
  /// The background checkpoint in flight: its key, the index its segment
  /// starts at, and what its thread measured (written there, read after
  /// `background_` is collected).
  struct in_flight {
    std::uint64_t key = 0;
    std::uint64_t first_index = 0;
    checkpoint_result result;
  };
  in_flight flight_;
  /// Declared last: destroyed (joined) first, while what it uses still exists.
  background_job background_;
};

/// On failure the log refuses all further use (a full disk excepted: then
/// nothing was lost or left half-done, see write_pending).
template <class F>
void write_ahead_log::guarded(F&& step) {
  try {
    step();
  } catch (const actors::storage_full&) {
    throw;  // nothing was lost or left half-done (see write_pending)
  } catch (...) {
    broken_ = true;
    throw;
  }
}

}  // namespace ballot::wal
