#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "runtime/wal/file_ops.hpp"

/// A disk that fails on command, for the log's fault tests: EIO or ENOSPC on
/// write or sync (after a number of bytes, leaving a short write), short
/// writes, and a power loss that takes back everything written since each
/// file's last fdatasync. It keeps track of files by path, so the loss also
/// reaches what an earlier, closed log wrote.
namespace ballot::wal::test {

class faulty_file_ops final : public file_ops {
 public:
  /// Writes fail with this errno once `write_budget` bytes have been written
  /// (the call that crosses it writes up to the budget: a short write).
  std::optional<int> write_error;
  std::size_t write_budget = 0;
  /// fdatasync fails with this errno.
  std::optional<int> sync_error;
  /// Every write writes at most this many bytes (0: no limit).
  std::size_t max_write = 0;
  /// fsync of a directory and renames fail with this errno.
  std::optional<int> metadata_error;
  std::size_t writes = 0, syncs = 0;
  /// Bit rot the disk does not report: reads of a file whose path ends with
  /// `flip_suffix` return the byte at `flip_offset` with a bit flipped.
  std::string flip_suffix;
  std::uint64_t flip_offset = 0;

  ssize_t pread(int fd, void* buf, std::size_t n, off_t offset) override {
    auto got = file_ops::pread(fd, buf, n, offset);
    auto at = static_cast<std::uint64_t>(offset);
    auto it = paths_.find(fd);
    if (got > 0 && !flip_suffix.empty() && it != paths_.end() &&
        ends_with(it->second, flip_suffix) && flip_offset >= at &&
        flip_offset < at + static_cast<std::uint64_t>(got))
      static_cast<char*>(buf)[flip_offset - at] ^= 0x10;
    return got;
  }

  int open_at(int dir_fd, const char* name, int flags, mode_t mode) override {
    int fd = file_ops::open_at(dir_fd, name, flags, mode);
    if (fd >= 0) {
      paths_[fd] = path_of(fd);
      seen_.insert(paths_[fd]);
    }
    return fd;
  }

  ssize_t write(int fd, const void* buf, std::size_t n) override {
    ++writes;
    if (write_error) {
      if (write_budget == 0) {
        errno = *write_error;
        return -1;
      }
      n = std::min(n, write_budget);
    }
    if (max_write > 0)
      n = std::min(n, max_write);
    auto done = file_ops::write(fd, buf, n);
    if (done > 0 && write_error)
      write_budget -= static_cast<std::size_t>(done);
    return done;
  }

  int fdatasync(int fd) override {
    ++syncs;
    if (sync_error) {
      errno = *sync_error;
      return -1;
    }
    int rc = file_ops::fdatasync(fd);
    if (rc == 0 && paths_.count(fd) != 0)
      synced_[paths_[fd]] = size_of(paths_[fd]);
    return rc;
  }

  int fsync(int fd) override {
    if (metadata_error) {
      errno = *metadata_error;
      return -1;
    }
    return file_ops::fsync(fd);
  }

  int rename_at(int dir_fd, const char* from, const char* to) override {
    if (metadata_error) {
      errno = *metadata_error;
      return -1;
    }
    auto dir = path_of(dir_fd);
    int rc = file_ops::rename_at(dir_fd, from, to);
    if (rc == 0) {
      auto it = synced_.find(dir + "/" + from);
      if (it != synced_.end()) {
        synced_[dir + "/" + to] = it->second;
        synced_.erase(it);
      }
    }
    return rc;
  }

  /// A power loss: every file this object saw written is cut back to its
  /// size at its last fdatasync (zero if never synced). Directory entries
  /// are kept (a simplification: the log syncs its directory whenever it
  /// creates, renames or removes a file, before it relies on it).
  void lose_unsynced() {
    for (auto& path : seen_) {
      std::error_code ec;
      if (!std::filesystem::is_regular_file(path, ec))
        continue;
      auto it = synced_.find(path);
      auto keep = it == synced_.end() ? 0 : it->second;
      if (size_of(path) > keep)
        std::filesystem::resize_file(path, keep, ec);
    }
  }

  /// Clears every fault (space is back, the disk works again).
  void heal() {
    write_error.reset();
    sync_error.reset();
    metadata_error.reset();
    max_write = 0;
  }

 private:
  static bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  }
  static std::string path_of(int fd) {
    std::error_code ec;
    auto p = std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(fd), ec);
    return ec ? std::string{} : p.string();
  }
  static std::uintmax_t size_of(const std::string& path) {
    std::error_code ec;
    auto n = std::filesystem::file_size(path, ec);
    return ec ? 0 : n;
  }

  std::map<int, std::string> paths_;
  std::set<std::string> seen_;
  std::map<std::string, std::uintmax_t> synced_;
};

}  // namespace ballot::wal::test
