// The write path of the log: appending records, syncing them, starting a
// new segment, and allocating the active one ahead of its writes.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "actors/replica/storage.hpp"
#include "runtime/wal/wal.hpp"

namespace ballot::wal {

namespace {

/// Appended records are written out once this much is buffered, so a long
/// run of appends without a sync does not hold unbounded memory.
constexpr std::size_t write_buffer_limit = std::size_t{1} << 20;

/// While the disk is full, records wait in memory up to this much; past it a
/// full disk is an error like any other.
constexpr std::size_t max_buffered_when_full = std::size_t{256} << 20;

}  // namespace

void write_ahead_log::append(std::string_view payload) {
  require_ready();
  // Too large a record is the caller's data, not a bug: report it as a
  // storage failure (the replica cannot persist it) rather than a logic error.
  if (payload.empty() || payload.size() > max_record_size)
    fail(opts_.dir + ": cannot append a record of " + std::to_string(payload.size()) +
         " bytes (1 to " + std::to_string(max_record_size) + " allowed)");
  // Room for the sync mark that closes the batch, too.
  auto frame = frame_header_size + payload.size();
  try {
    if (!active_fd_ ||
        (active_size_ > 0 && active_size_ + frame + sync_mark_size > opts_.segment_size))
      guarded([&] { roll(); });
  } catch (const actors::storage_full&) {
    // No room to close this segment: the record joins it instead (a segment's
    // size is a target, not a limit), and the next sync tries again.
    if (!active_fd_)
      throw;
  }
  append_frame(pending_, payload);
  active_size_ += frame;
  bytes_appended_ += frame;
  ++next_index_;
  unsynced_ = true;
  if (pending_.size() >= write_buffer_limit) {
    try {
      guarded([&] { write_pending(); });
    } catch (const actors::storage_full&) {
      // Held in memory until a sync finds space (bounded in write_pending).
    }
  }
}

void write_ahead_log::sync() {
  require_ready();
  guarded([&] {
    if (unsynced_) {
      mark_batch();
      write_pending();
      sync_data(active_fd_.get(), path_of(segments_.back().name));
      batch_start_ = active_size_;
      unsynced_ = false;
    }
    if (dir_dirty_) {
      sync_directory(dir_fd_.get(), opts_.dir);
      dir_dirty_ = false;
    }
  });
}

void write_ahead_log::roll() {
  if (active_fd_) {
    // A segment is only created once every segment before it is durable.
    // That is what lets recovery call damage in any but the last segment
    // corruption: a crash can only ever tear the last one.
    if (active_size_ > batch_start_)
      mark_batch();
    write_pending();
    // Whole records only, without the zeros allocated ahead: recovery reads
    // any segment but the last as synced data to its very end.
    if (allocated_ > active_size_)
      truncate_file(active_fd_.get(), active_size_, path_of(segments_.back().name));
    sync_data(active_fd_.get(), path_of(segments_.back().name));
    active_fd_.reset();
  }
  auto name = segment_file_name(next_index_);
  active_fd_ = open_at(dir_fd_.get(), name, O_WRONLY | O_CREAT | O_EXCL, path_of(name));
  segments_.push_back({next_index_, std::move(name)});
  allocated_ = 0;
  retry_allocation_at_ = 0;
  active_size_ = 0;
  batch_start_ = 0;
  dir_dirty_ = true;
}

void write_ahead_log::mark_batch() {
  append_sync_mark(pending_, batch_start_);
  active_size_ += sync_mark_size;
}

void write_ahead_log::write_pending() {
  if (pending_.empty())
    return;
  auto path = path_of(segments_.back().name);
  auto before = active_size_ - pending_.size();
  preallocate(active_size_);
  if (int err = try_write_all(active_fd_.get(), pending_); err != 0) {
    if (err != ENOSPC || pending_.size() > max_buffered_when_full)
      throw_os_error("wal: cannot write", path, err);
    // A full disk: cut off what part of the batch got written (it was never
    // synced) and keep the batch buffered for the next try.
    truncate_file(active_fd_.get(), before, path);
    seek_to(active_fd_.get(), before, path);
    allocated_ = before;
    throw actors::storage_full("wal: cannot write " + path + ": " + std::strerror(err) + " (" +
                               std::to_string(pending_.size()) +
                               " bytes held until there is space)");
  }
  allocated_ = std::max(allocated_, active_size_);
  pending_.clear();
}

void write_ahead_log::preallocate(std::uint64_t end) {
  auto step = opts_.preallocate_bytes;
  if (step == 0 || end <= allocated_ || end < retry_allocation_at_)
    return;
  auto target = (end / step + 1) * step;
  // Best effort: without the room (a full disk, a file system without
  // fallocate) the write below grows the file, as an unallocated log does.
  if (try_preallocate(active_fd_.get(), allocated_, target - allocated_) == 0)
    allocated_ = target;
  else
    retry_allocation_at_ = target;
}

std::size_t write_ahead_log::drop_segments_before(std::uint64_t index) {
  require_ready();
  // Oldest first: a crash part-way leaves the surviving segments contiguous.
  std::size_t n = 0;
  while (segments_.size() > 1 && segments_[1].first_index <= index) {
    remove_at(dir_fd_.get(), segments_.front().name, path_of(segments_.front().name));
    segments_.erase(segments_.begin());
    ++n;
  }
  if (n > 0)
    sync_directory(dir_fd_.get(), opts_.dir);
  return n;
}

}  // namespace ballot::wal
