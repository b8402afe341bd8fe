#include "runtime/wal/wal.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <new>
#include <stdexcept>

#include "actors/replica/storage.hpp"

namespace ballot::wal {

namespace {

/// Appended records are written out once this much is buffered, so a long
/// run of appends without a sync does not hold unbounded memory.
constexpr std::size_t write_buffer_limit = std::size_t{1} << 20;

[[noreturn]] void fail(const std::string& msg) {
  throw actors::storage_error("wal: " + msg);
}

}  // namespace

std::string to_string(const recovery_report& r) {
  auto out = "replayed " + std::to_string(r.segments) + " segment(s), " +
             std::to_string(r.records) + " record(s)";
  if (r.truncated())
    out += "; cut a torn tail of " + std::to_string(r.truncated_bytes) + " byte(s) from " +
           r.truncated_file + " at offset " + std::to_string(r.truncated_at) + " (" +
           r.truncated_reason + ")";
  return out;
}

write_ahead_log::write_ahead_log(wal_options opts) : opts_(std::move(opts)) {
  if (opts_.dir.empty())
    fail("no data directory given");
  if (opts_.segment_size == 0)
    fail("segment size must be positive");
  create_directories_durably(opts_.dir);
  dir_fd_ = unique_fd{::open(opts_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (!dir_fd_)
    throw_os_error("wal: cannot open directory", opts_.dir, errno);
  // Checked now, not at the first append: a replica should fail at start,
  // not after it has joined the cluster.
  if (::faccessat(dir_fd_.get(), ".", W_OK | X_OK, AT_EACCESS) != 0)
    throw_os_error("wal: cannot write to directory", opts_.dir, errno);
  if (::flock(dir_fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    fail(opts_.dir + ": cannot lock the directory (" + std::strerror(err) +
         "); is another replica using it?");
  }
}

write_ahead_log::~write_ahead_log() {
  if (!broken_ && active_fd_ && !pending_.empty()) {
    try {
      write_pending();
    } catch (...) {  // NOLINT(bugprone-empty-catch): never synced, so never promised
    }
  }
}

template <class F>
void write_ahead_log::guarded(F&& step) {
  try {
    step();
  } catch (...) {
    broken_ = true;
    throw;
  }
}

void write_ahead_log::require_ready() const {
  if (broken_)
    fail(opts_.dir + ": unusable after an earlier I/O error");
  if (!replayed_)
    throw std::logic_error("ballot::wal::wal: replay() must come before append() and sync()");
}

std::vector<write_ahead_log::segment_info> write_ahead_log::list_segments() const {
  std::vector<segment_info> out;
  std::error_code ec;
  for (std::filesystem::directory_iterator it{opts_.dir, ec}, end; !ec && it != end;
       it.increment(ec)) {
    auto name = it->path().filename().string();
    if (auto first = parse_segment_file_name(name))
      out.push_back({*first, std::move(name)});
  }
  if (ec)
    throw_os_error("wal: cannot list directory", opts_.dir, ec.value());
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.first_index < b.first_index; });
  return out;
}

recovery_report write_ahead_log::replay(const record_handler& on_record) {
  if (broken_)
    fail(opts_.dir + ": unusable after an earlier I/O error");
  // Only the first replay may cut a torn tail; later ones read back what this
  // log wrote itself, so damage there is corruption.
  bool repair = !replayed_;
  if (replayed_)
    guarded([&] { write_pending(); });
  recovery_report report;
  auto segments = list_segments();
  std::uint64_t index = segments.empty() ? 0 : segments.front().first_index;
  std::uint64_t last_size = 0;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    auto& seg = segments[i];
    bool last = i + 1 == segments.size();
    auto path = path_of(seg.name);
    if (seg.first_index != index)
      fail(path + ": starts at record " + std::to_string(seg.first_index) +
           " but the segments before it end at record " + std::to_string(index) +
           " (a segment is missing or was cut)");
    auto contents = read_all(open_at(dir_fd_.get(), seg.name, O_RDONLY, path).get(), path);
    auto res = scan_frames(
      contents.view(),
      [&](std::uint64_t offset, std::string_view payload) {
        try {
          on_record(payload, record_position{path, offset, index});
        } catch (const actors::storage_error&) {
          throw;
        } catch (const std::bad_alloc&) {
          throw;
        } catch (const std::exception& e) {
          fail(path + ": bad record at offset " + std::to_string(offset) + " (record " +
               std::to_string(index) + "): " + e.what());
        }
        ++index;
      },
      opts_.payload_size);
    if (res.end == scan_end::corrupt)
      fail(path + ": corrupt record at offset " + std::to_string(res.valid_size) + ": " +
           res.reason + "; refusing to drop the records after it");
    if (res.end == scan_end::torn) {
      if (!last || !repair)
        fail(path + ": damaged record at offset " + std::to_string(res.valid_size) + ": " +
             res.reason + (last ? "" : " (not the last segment, so it was synced)"));
      auto fd = open_at(dir_fd_.get(), seg.name, O_WRONLY, path);
      truncate_file(fd.get(), res.valid_size, path);
      sync_data(fd.get(), path);
      report.truncated_bytes = contents.size - res.valid_size;
      report.truncated_file = path;
      report.truncated_at = res.valid_size;
      report.truncated_reason = res.reason;
    }
    ++report.segments;
    report.records += res.records;
    last_size = res.valid_size;
  }
  if (!replayed_) {
    segments_ = std::move(segments);
    next_index_ = index;
    if (!segments_.empty()) {
      auto& seg = segments_.back();
      active_fd_ = open_at(dir_fd_.get(), seg.name, O_WRONLY | O_APPEND, path_of(seg.name));
      active_size_ = last_size;
    }
    replayed_ = true;
  }
  return report;
}

void write_ahead_log::append(std::string_view payload) {
  require_ready();
  // Too large a record is the caller's data, not a bug: report it as a
  // storage failure (the replica cannot persist it) rather than a logic error.
  if (payload.empty() || payload.size() > max_record_size)
    fail(opts_.dir + ": cannot append a record of " + std::to_string(payload.size()) +
         " bytes (1 to " + std::to_string(max_record_size) + " allowed)");
  auto frame = frame_header_size + payload.size();
  if (!active_fd_ || (active_size_ > 0 && active_size_ + frame > opts_.segment_size))
    guarded([&] { roll(); });
  append_frame(pending_, payload);
  active_size_ += frame;
  ++next_index_;
  unsynced_ = true;
  if (pending_.size() >= write_buffer_limit)
    guarded([&] { write_pending(); });
}

void write_ahead_log::sync() {
  require_ready();
  guarded([&] {
    if (unsynced_) {
      write_pending();
      sync_data(active_fd_.get(), path_of(segments_.back().name));
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
    write_pending();
    sync_data(active_fd_.get(), path_of(segments_.back().name));
    active_fd_.reset();
  }
  auto name = segment_file_name(next_index_);
  active_fd_ = open_at(dir_fd_.get(), name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND, path_of(name));
  segments_.push_back({next_index_, std::move(name)});
  active_size_ = 0;
  dir_dirty_ = true;
}

void write_ahead_log::write_pending() {
  if (pending_.empty())
    return;
  write_all(active_fd_.get(), pending_, path_of(segments_.back().name));
  pending_.clear();
}

std::size_t write_ahead_log::drop_segments_before(std::uint64_t index) {
  require_ready();
  // Oldest first: a crash part-way leaves the surviving segments contiguous.
  std::size_t n = 0;
  while (segments_.size() > 1 && segments_[1].first_index <= index) {
    auto path = path_of(segments_.front().name);
    if (::unlinkat(dir_fd_.get(), segments_.front().name.c_str(), 0) != 0)
      throw_os_error("wal: cannot remove segment", path, errno);
    segments_.erase(segments_.begin());
    ++n;
  }
  if (n > 0)
    sync_directory(dir_fd_.get(), opts_.dir);
  return n;
}

std::vector<std::string> write_ahead_log::segment_files() const {
  std::vector<std::string> out;
  for (auto& seg : segments_)
    out.push_back(seg.name);
  return out;
}

}  // namespace ballot::wal
