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
#include "runtime/wal/snapshot_file.hpp"
#include "runtime/wal/snapshot_writer.hpp"

namespace ballot::wal {

std::string to_string(const recovery_report& r) {
  std::string out;
  if (!r.snapshot_file.empty())
    out += "loaded " + r.snapshot_file + ", then ";
  out += "replayed " + std::to_string(r.segments) + " segment(s), " + std::to_string(r.records) +
         " record(s)";
  if (r.removed_files > 0)
    out += "; removed " + std::to_string(r.removed_files) +
           " file(s) left over by an interrupted checkpoint";
  if (!r.corrupt_snapshot.empty())
    out += "; set aside the damaged " + r.corrupt_snapshot + " (" + r.corrupt_reason +
           ") as an older checkpoint and the log still cover it";
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
  if (opts_.snapshot_chunk_size == 0 || opts_.snapshot_chunk_size > max_snapshot_chunk_size)
    fail("snapshot chunk size must be 1 to " + std::to_string(max_snapshot_chunk_size));
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

void write_ahead_log::require_ready() const {
  if (broken_)
    fail(opts_.dir + ": unusable after an earlier I/O error");
  if (!replayed_)
    throw std::logic_error("ballot::wal::wal: replay() must come before append() and sync()");
}

write_ahead_log::listing write_ahead_log::list_files() const {
  listing out;
  std::error_code ec;
  for (std::filesystem::directory_iterator it{opts_.dir, ec}, end; !ec && it != end;
       it.increment(ec)) {
    auto name = it->path().filename().string();
    if (auto first = parse_segment_file_name(name))
      out.segments.push_back({*first, std::move(name)});
    else if (auto key = parse_snapshot_file_name(name))
      out.snapshots.push_back({*key, std::move(name)});
    else if (is_snapshot_temp_file_name(name))
      out.temp_files.push_back(std::move(name));
  }
  if (ec)
    throw_os_error("wal: cannot list directory", opts_.dir, ec.value());
  std::sort(out.segments.begin(), out.segments.end(),
            [](auto& a, auto& b) { return a.first_index < b.first_index; });
  std::sort(out.snapshots.begin(), out.snapshots.end(),
            [](auto& a, auto& b) { return a.key < b.key; });
  return out;
}

write_ahead_log::replay_start write_ahead_log::choose_start(const listing& files,
                                                            const checkpoint_handler& on_checkpoint,
                                                            bool repair, recovery_report& report) {
  replay_start start;
  if (files.snapshots.empty())
    return start;
  if (!on_checkpoint)
    fail(path_of(files.snapshots.back().name) +
         ": a snapshot file, but the log was replayed without a checkpoint handler");
  // Newest first; the first valid one is the start, unless a newer one is damaged.
  struct damage {
    std::string name;
    std::string what;  ///< "<kind> at offset <n>: <reason>"
  };
  std::vector<damage> damaged;
  for (auto it = files.snapshots.rbegin(); it != files.snapshots.rend(); ++it) {
    auto path = path_of(it->name);
    auto fd = open_at(dir_fd_.get(), it->name, O_RDONLY, path);
    int raw = fd.get();
    std::uint64_t header_at = 0;
    try {
      snapshot_reader reader{[raw, &path](std::uint64_t offset, char* dst, std::size_t n) {
                               return read_at(raw, dst, n, offset, path);
                             },
                             file_size(raw, path)};
      header_at = reader.header_offset();
      start.index = on_checkpoint(reader, path);
    } catch (const snapshot_damage& d) {
      damaged.push_back(
        {it->name, "corrupt snapshot at offset " + std::to_string(d.offset()) + ": " + d.what()});
      continue;
    } catch (const actors::storage_error&) {
      throw;
    } catch (const std::bad_alloc&) {
      throw;
    } catch (const std::exception& e) {
      damaged.push_back(
        {it->name, "bad snapshot at offset " + std::to_string(header_at) + ": " + e.what()});
      continue;
    }
    start.snapshot = *it;
    break;
  }
  start.exact = true;
  if (damaged.empty())
    return start;
  // A named snapshot file was synced whole before its rename: damage is bit
  // rot or a bug, never a crash. Doing without it is safe only if the older
  // state it replaced is still complete: an older checkpoint (or the log from
  // record 0) and an unbroken run of segments from there. Whatever the newer
  // one held beyond that was chosen values, which peers still have; every
  // promise and vote is in those segments, as the records before a
  // checkpoint are synced before it starts and its segments are dropped only
  // after it is committed.
  auto newest = path_of(damaged.front().name) + ": " + damaged.front().what;
  // With repair from peers at hand, never fall back: a checkpoint's state
  // may not come from the records before it (a snapshot installed from a
  // peer holds values this log never had), so only the peers can tell.
  if (!repair || opts_.set_aside_damage)
    fail(newest);
  bool covered = std::any_of(files.segments.begin(), files.segments.end(),
                             [&](auto& seg) { return seg.first_index == start.index; });
  if (!covered)
    fail(newest + "; no older checkpoint and log cover it, so it cannot be left out");
  for (auto& d : damaged)
    start.damaged.push_back(d.name);
  report.corrupt_snapshot = path_of(damaged.front().name);
  report.corrupt_reason = damaged.front().what;
  return start;
}

recovery_report write_ahead_log::replay(const record_handler& on_record) {
  return replay(checkpoint_handler{}, on_record);
}

/// Where a replay starts, the segments it reads, the damage it finds (set
/// aside when the options allow it), and what it may remove once it succeeded.
struct write_ahead_log::replay_pass {
  replay_pass(write_ahead_log& log, const record_handler& on_record, bool repair)
      : log(log),
        on_record(on_record),
        repair(repair),
        set_aside_ok(repair && log.opts_.set_aside_damage) {}

  write_ahead_log& log;
  const record_handler& on_record;
  /// Only the first replay may cut a torn tail; later ones read back what
  /// this log wrote itself, so damage there is corruption.
  bool repair;
  bool set_aside_ok;
  recovery_report report;
  listing files;
  replay_start start;
  std::vector<segment_info> segments;
  /// Segments before the start belong to the state the checkpoint replaced.
  std::vector<std::string> obsolete;
  /// The next record's index.
  std::uint64_t index = 0;
  /// The valid bytes of the last segment read.
  std::uint64_t last_size = 0;

  /// Damage found before anything was changed: sets the whole log aside.
  void set_aside_all(const std::string& file, std::uint64_t at, const std::string& why) {
    log.set_repair_pending(true);
    report.repair_pending = true;
    report.damaged_file = file;
    report.damaged_at = at;
    report.damaged_reason = why;
    for (auto& snap : files.snapshots)
      report.set_aside.push_back(log.path_of(log.set_aside(snap.name)));
    for (auto& seg : files.segments)
      report.set_aside.push_back(log.path_of(log.set_aside(seg.name)));
    sync_directory(log.dir_fd_.get(), log.opts_.dir);
    files = listing{{}, {}, files.temp_files};
  }

  void choose_start(const checkpoint_handler& on_checkpoint) {
    try {
      start = log.choose_start(files, on_checkpoint, repair, report);
    } catch (const actors::storage_error& e) {
      if (!set_aside_ok || files.snapshots.empty())
        throw;
      set_aside_all(log.path_of(files.snapshots.back().name), 0, e.what());
      start = replay_start{};
    }
    if (start.snapshot)
      report.snapshot_file = log.path_of(start.snapshot->name);
  }

  /// The segments from the start on, checked to continue where it is.
  void pick_segments() {
    for (auto& seg : files.segments) {
      if (seg.first_index < start.index)
        obsolete.push_back(seg.name);
      else
        segments.push_back(seg);
    }
    if (start.exact && (segments.empty() || segments.front().first_index != start.index)) {
      auto what = (start.snapshot ? log.path_of(start.snapshot->name) : log.opts_.dir) +
                  ": the log continues at record " + std::to_string(start.index) +
                  " but no segment starts there (a segment is missing)";
      if (!set_aside_ok)
        fail(what);
      set_aside_all(start.snapshot ? log.path_of(start.snapshot->name) : log.opts_.dir, 0, what);
      start = replay_start{};
      segments.clear();
      obsolete.clear();
    }
    index = start.exact || segments.empty() ? start.index : segments.front().first_index;
    report.first_record = index;
  }

  /// Damage from byte `at` of segment `i` on: sets aside this segment and
  /// every later one, keeps the valid bytes before it (none without
  /// `contents`) in a segment starting at record `first`; the replay ends.
  void damage(std::size_t i, std::uint64_t at, const std::string& why,
              const file_contents* contents, std::uint64_t first) {
    if (!set_aside_ok)
      fail(why);
    auto& seg = segments[i];
    log.set_repair_pending(true);
    report.repair_pending = true;
    report.damaged_file = log.path_of(seg.name);
    report.damaged_at = at;
    report.damaged_reason = why;
    report.set_aside.push_back(log.path_of(log.set_aside(seg.name)));
    for (std::size_t j = i + 1; j < segments.size(); ++j)
      report.set_aside.push_back(log.path_of(log.set_aside(segments[j].name)));
    // The valid prefix goes back where replay expects the records after
    // the ones before it.
    seg = segment_info{first, segment_file_name(first)};
    auto kept = log.path_of(seg.name);
    {
      auto fd = open_at(log.dir_fd_.get(), seg.name, O_WRONLY | O_CREAT | O_EXCL, kept);
      if (contents != nullptr && at > 0)
        write_all(fd.get(), contents->view().substr(0, at), kept);
      sync_data(fd.get(), kept);
    }
    sync_directory(log.dir_fd_.get(), log.opts_.dir);
    segments.resize(i + 1);
    last_size = contents != nullptr ? at : 0;
  }

  /// Hands segment `i`'s records to `on_record`; false: the replay ends here.
  bool read_segment(std::size_t i) {
    auto& seg = segments[i];
    bool last = i + 1 == segments.size();
    auto path = log.path_of(seg.name);
    if (seg.first_index != index) {
      damage(i, 0,
             path + ": starts at record " + std::to_string(seg.first_index) +
               " but the segments before it end at record " + std::to_string(index) +
               " (a segment is missing or was cut)",
             nullptr, index);
      ++report.segments;
      return false;
    }
    auto contents = read_all(open_at(log.dir_fd_.get(), seg.name, O_RDONLY, path).get(), path);
    std::optional<std::pair<std::uint64_t, std::string>> bad_record;
    auto res = scan_frames(
      contents.view(),
      [&](std::uint64_t offset, std::string_view payload) {
        if (bad_record)
          return;
        try {
          on_record(payload, record_position{path, offset, index});
        } catch (const actors::storage_error&) {
          throw;
        } catch (const std::bad_alloc&) {
          throw;
        } catch (const std::exception& e) {
          bad_record.emplace(offset, path + ": bad record at offset " + std::to_string(offset) +
                                       " (record " + std::to_string(index) + "): " + e.what());
          return;
        }
        ++index;
      },
      log.opts_.payload_size);
    ++report.segments;
    if (bad_record) {
      damage(i, bad_record->first, bad_record->second, &contents, seg.first_index);
      return false;
    }
    if (res.end == scan_end::corrupt) {
      damage(i, res.valid_size,
             path + ": corrupt record at offset " + std::to_string(res.valid_size) + ": " +
               res.reason + "; refusing to drop the records after it",
             &contents, seg.first_index);
      report.records += res.records;
      return false;
    }
    // Zeros after the last record of the last segment: the space the log
    // allocated ahead of its writes (or blocks a crash left unwritten, which
    // held nothing synced). Not a torn write; the log writes over them.
    if (res.end == scan_end::torn && last &&
        contents.view().find_first_not_of('\0', res.valid_size) == std::string_view::npos)
      res.end = scan_end::clean;
    if (res.end == scan_end::torn && (!last || !repair)) {
      damage(i, res.valid_size,
             path + ": damaged record at offset " + std::to_string(res.valid_size) + ": " +
               res.reason + (last ? "" : " (not the last segment, so it was synced)"),
             &contents, seg.first_index);
      report.records += res.records;
      return false;
    }
    if (res.end == scan_end::torn) {
      auto fd = open_at(log.dir_fd_.get(), seg.name, O_WRONLY, path);
      truncate_file(fd.get(), res.valid_size, path);
      sync_data(fd.get(), path);
      report.truncated_bytes = contents.size - res.valid_size;
      report.truncated_file = path;
      report.truncated_at = res.valid_size;
      report.truncated_reason = res.reason;
    } else if (repair) {
      // Recovery acts on what it read (promises and votes it will answer
      // with): make sure that is on disk, not only in the page cache of a
      // process that was killed before its sync.
      log.sync_read_file(seg.name);
    }
    report.records += res.records;
    last_size = res.valid_size;
    return true;
  }

  /// Only once the replay succeeded: finishes what an interrupted
  /// checkpoint left. Its temporary file was never committed, and what its
  /// rename made obsolete may go. Damaged snapshot files that could be left
  /// out are kept aside for the operator, under a name no replay reads.
  void finish_repair() {
    auto dir_fd = log.dir_fd_.get();
    for (auto& name : start.damaged)
      rename_at(dir_fd, name, name + std::string{snapshot_corrupt_suffix}, log.opts_.dir);
    for (auto& name : files.temp_files)
      obsolete.push_back(name);
    for (auto& snap : files.snapshots)
      if (start.snapshot && snap.key < start.snapshot->key)
        obsolete.push_back(snap.name);
    for (auto& name : obsolete)
      remove_at(dir_fd, name, log.path_of(name));
    report.removed_files = obsolete.size();
    if (start.snapshot)
      log.sync_read_file(start.snapshot->name);
    sync_directory(dir_fd, log.opts_.dir);
  }
};

recovery_report write_ahead_log::replay(const checkpoint_handler& on_checkpoint,
                                        const record_handler& on_record) {
  if (broken_)
    fail(opts_.dir + ": unusable after an earlier I/O error");
  // The files must hold still while they are read.
  finish_checkpoint(true);
  bool repair = !replayed_;
  if (replayed_)
    guarded([&] { write_pending(); });
  replay_pass pass{*this, on_record, repair};
  pass.report.repair_pending = repair_pending();
  pass.files = list_files();
  pass.choose_start(on_checkpoint);
  pass.pick_segments();
  for (std::size_t i = 0; i < pass.segments.size(); ++i)
    if (!pass.read_segment(i))
      break;
  if (repair)
    pass.finish_repair();
  if (!replayed_) {
    segments_ = std::move(pass.segments);
    next_index_ = pass.index;
    if (pass.start.snapshot)
      checkpoint_key_ = pass.start.snapshot->key;
    if (!segments_.empty()) {
      auto& seg = segments_.back();
      auto path = path_of(seg.name);
      active_fd_ = open_at(dir_fd_.get(), seg.name, O_WRONLY, path);
      // Writes go on after the last record, over the preallocated zeros.
      seek_to(active_fd_.get(), pass.last_size, path);
      allocated_ = file_size(active_fd_.get(), path);
      active_size_ = pass.last_size;
      batch_start_ = pass.last_size;
    }
    replayed_ = true;
  }
  return pass.report;
}

std::string write_ahead_log::set_aside(const std::string& name) {
  auto target = name + std::string{damaged_suffix};
  for (int n = 1; ::faccessat(dir_fd_.get(), target.c_str(), F_OK, 0) == 0; ++n)
    target = name + std::string{damaged_suffix} + "." + std::to_string(n);
  rename_at(dir_fd_.get(), name, target, opts_.dir);
  return target;
}

void write_ahead_log::sync_read_file(const std::string& name) {
  auto path = path_of(name);
  sync_data(open_at(dir_fd_.get(), name, O_RDONLY, path).get(), path);
}

bool write_ahead_log::repair_pending() const {
  return ::faccessat(dir_fd_.get(), std::string{repair_marker_name}.c_str(), F_OK, 0) == 0;
}

void write_ahead_log::set_repair_pending(bool pending) {
  std::string name{repair_marker_name};
  auto path = path_of(name);
  if (pending) {
    if (repair_pending())
      return;
    auto fd = open_at(dir_fd_.get(), name, O_WRONLY | O_CREAT, path);
    write_all(fd.get(), "this replica's state is incomplete; it re-learns it from its peers\n",
              path);
    sync_data(fd.get(), path);
    sync_directory(dir_fd_.get(), opts_.dir);
    return;
  }
  if (!repair_pending())
    return;
  // What the repair re-learned must be durable before the mark goes.
  if (replayed_)
    sync();
  remove_at(dir_fd_.get(), name, path);
  sync_directory(dir_fd_.get(), opts_.dir);
}

void write_ahead_log::step(checkpoint_step s) const {
  if (opts_.checkpoint_hook)
    opts_.checkpoint_hook(s);
}

void write_ahead_log::checkpoint(std::uint64_t key, std::string_view header,
                                 std::string_view body) {
  // One checkpoint at a time, in key order: a background one finishes first.
  finish_checkpoint(true);
  begin_checkpoint(key, header.size());
  guarded(
    [&] { commit_snapshot_file(key, [&](int fd) { return write_snapshot(fd, header, body); }); });
  end_checkpoint(key, next_index_);
}

void write_ahead_log::start_checkpoint(std::uint64_t key,
                                       std::function<snapshot_payload()> make_payload) {
  if (background_.pending())
    throw std::logic_error("ballot::wal::wal: a background checkpoint is still in flight");
  // The header's size is known only once it is made: checked there.
  begin_checkpoint(key, 1);
  flight_ = in_flight{key, next_index_, {}};
  background_.start([this, key, make_payload = std::move(make_payload)] {
    auto started = std::chrono::steady_clock::now();
    auto payload = make_payload();
    auto encoded = std::chrono::steady_clock::now();
    flight_.result.bytes = payload.header.size() + payload.body.size();
    if (payload.header.empty() || payload.header.size() > max_snapshot_size)
      fail(opts_.dir + ": cannot write a snapshot header of " +
           std::to_string(payload.header.size()) + " bytes (1 to " +
           std::to_string(max_snapshot_size) + " allowed)");
    // A streamed body is made while the file is written: its making counts
    // as encoding, the rest (writes, fdatasync, rename) as writing.
    std::chrono::nanoseconds body_encoding{0};
    commit_snapshot_file(key, [&](int fd) {
      if (payload.write_body)
        return stream_snapshot(fd, payload, flight_.result, body_encoding);
      return write_snapshot(fd, payload.header, payload.body);
    });
    flight_.result.encode_time = encoded - started + body_encoding;
    flight_.result.write_time = std::chrono::steady_clock::now() - encoded - body_encoding;
  });
}

checkpoint_result write_ahead_log::finish_checkpoint(bool wait) {
  checkpoint_result res;
  if (!background_.pending())
    return res;
  auto outcome = background_.collect(wait);
  if (!outcome) {
    res.what = checkpoint_result::outcome::running;
    return res;
  }
  res = flight_.result;
  res.key = flight_.key;
  if (*outcome) {
    try {
      std::rethrow_exception(*outcome);
    } catch (const actors::storage_full&) {
      // The log before it is whole and synced: the compaction just waits.
      res.what = checkpoint_result::outcome::postponed;
      return res;
    } catch (...) {
      // What the failed step left on disk is unknown, as after any I/O error.
      broken_ = true;
      throw;
    }
  }
  end_checkpoint(flight_.key, flight_.first_index);
  res.what = checkpoint_result::outcome::committed;
  return res;
}

void write_ahead_log::begin_checkpoint(std::uint64_t key, std::uint64_t header_size) {
  require_ready();
  // Recovery starts from the highest key: a lower one would lose to an older
  // file left by a crash before the cleanup.
  if (checkpoint_key_ && key < *checkpoint_key_)
    throw std::logic_error("ballot::wal::wal: checkpoint key " + std::to_string(key) +
                           " is below the previous one, " + std::to_string(*checkpoint_key_));
  if (header_size == 0 || header_size > max_snapshot_size)
    fail(opts_.dir + ": cannot write a snapshot header of " + std::to_string(header_size) +
         " bytes (1 to " + std::to_string(max_snapshot_size) + " allowed)");
  guarded([&] {
    // The checkpoint's records start a segment of their own, so that the
    // older segments can go whole; roll() syncs everything before it, which
    // keeps those segments complete should this checkpoint's file ever turn
    // out damaged (or, in the background, never get written). An empty
    // current segment already starts at next_index_.
    if (!active_fd_ || active_size_ > 0)
      roll();
    unsynced_ = false;
    step(checkpoint_step::segment_started);
  });
}

int write_ahead_log::write_snapshot(int fd, std::string_view header, std::string_view body) const {
  chunk_layout layout{body.size(), opts_.snapshot_chunk_size, header.size()};
  int err = try_write_all(fd, chunked_snapshot_start(header, body.size(), layout.chunk_size));
  // Straight from the body, a chunk at a time: no copy of it is made.
  for (std::uint64_t i = 0; err == 0 && i < layout.chunks(); ++i) {
    auto piece = body.substr(i * layout.chunk_size, layout.chunk_length(i));
    err = try_write_all(fd, chunk_frame_header(i, piece));
    if (err == 0)
      err = try_write_all(fd, piece);
  }
  return err;
}

int write_ahead_log::stream_snapshot(int fd, const snapshot_payload& p, checkpoint_result& res,
                                     std::chrono::nanoseconds& encoding) const {
  using clock = std::chrono::steady_clock;
  struct write_failed {
    int err;
  };
  std::uint64_t position = 0;
  std::chrono::nanoseconds writing{0};
  auto write = [&](std::uint64_t offset, std::string_view bytes) {
    auto t = clock::now();
    // In order but for the sizes rewritten at the end: plain writes, which
    // a fault-injecting test sees as it sees every other file's.
    int err = offset == position ? try_write_all(fd, bytes) : try_pwrite_all(fd, bytes, offset);
    if (offset == position)
      position += bytes.size();
    writing += clock::now() - t;
    if (err != 0)
      throw write_failed{err};
  };
  auto started = clock::now();
  try {
    snapshot_writer out(write, p.header, p.body_size_hint, opts_.snapshot_chunk_size);
    p.write_body([&](std::string_view piece) { out.append(piece); });
    res.bytes += out.finish();
  } catch (const write_failed& e) {
    return e.err;
  }
  encoding = clock::now() - started - writing;
  return 0;
}

void write_ahead_log::commit_snapshot_file(std::uint64_t key,
                                           const std::function<int(int fd)>& write) const {
  auto name = snapshot_file_name(key);
  auto temp = name + std::string{snapshot_temp_suffix};
  {
    auto path = path_of(temp);
    auto fd = open_at(dir_fd_.get(), temp, O_WRONLY | O_CREAT | O_TRUNC, path);
    int err = write(fd.get());
    if (err == ENOSPC) {
      // The log before it is whole and synced: the compaction just waits.
      fd.reset();
      remove_at(dir_fd_.get(), temp, path);
      throw actors::storage_full("wal: cannot write " + path + ": " + std::strerror(err) +
                                 " (checkpoint postponed)");
    }
    if (err != 0)
      throw_os_error("wal: cannot write", path, err);
    sync_data(fd.get(), path);
  }
  step(checkpoint_step::temp_written);

  // The commit point. The directory sync also makes the new segment durable.
  rename_at(dir_fd_.get(), temp, name, opts_.dir);
  sync_directory(dir_fd_.get(), opts_.dir);
  step(checkpoint_step::renamed);
}

void write_ahead_log::end_checkpoint(std::uint64_t key, std::uint64_t first_index) {
  require_ready();
  checkpoint_key_ = key;
  auto name = snapshot_file_name(key);
  guarded([&] {
    // Oldest first, so that a crash part-way leaves a contiguous run (which
    // only matters if this checkpoint's file is ever found damaged). Only
    // segments wholly before the checkpoint go: after a background one, the
    // log has gone on appending (and maybe rolling) meanwhile.
    while (segments_.size() > 1 && segments_.front().first_index < first_index) {
      remove_at(dir_fd_.get(), segments_.front().name, path_of(segments_.front().name));
      segments_.erase(segments_.begin());
      step(checkpoint_step::segment_dropped);
    }
    for (auto& snap : list_files().snapshots)
      if (snap.name != name)
        remove_at(dir_fd_.get(), snap.name, path_of(snap.name));
    sync_directory(dir_fd_.get(), opts_.dir);
    dir_dirty_ = false;
    step(checkpoint_step::done);
  });
}

std::vector<std::string> write_ahead_log::snapshot_files() const {
  std::vector<std::string> out;
  for (auto& snap : list_files().snapshots)
    out.push_back(snap.name);
  return out;
}

std::vector<std::string> write_ahead_log::segment_files() const {
  std::vector<std::string> out;
  for (auto& seg : segments_)
    out.push_back(seg.name);
  return out;
}

}  // namespace ballot::wal
