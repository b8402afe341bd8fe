#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

/// Thin POSIX file helpers for the write-ahead log. Every failure throws
/// `ballot::actors::storage_error` naming the path and the OS error, because
/// an operator reading "fdatasync: Input/output error" needs to know which
/// disk to look at.
namespace ballot::wal {

/// Throws storage_error("wal: <msg>"): a failure that is not an OS error.
[[noreturn]] void fail(const std::string& msg);

/// Throws storage_error("<what> <path>: <strerror(err)>").
[[noreturn]] void throw_os_error(std::string_view what, const std::string& path, int err);

/// Owns one file descriptor.
class unique_fd {
 public:
  unique_fd() = default;
  explicit unique_fd(int fd) : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(other.release()) {}
  unique_fd& operator=(unique_fd&& other) noexcept;
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  /// Closes the descriptor. Errors of close(2) are ignored: whatever must be
  /// durable has been synced before, and a write error surfaces at sync.
  void reset();

 private:
  int fd_ = -1;
};

/// A whole file read into word-aligned memory (so Cap'n Proto can read
/// records in place).
struct file_contents {
  std::vector<std::uint64_t> words;
  std::size_t size = 0;

  const char* data() const { return reinterpret_cast<const char*>(words.data()); }
  std::string_view view() const { return {data(), size}; }
};

/// Creates `path` and any missing parents, fsyncing the parent of each
/// directory it creates so the new directory survives a crash.
void create_directories_durably(const std::string& path);

/// Opens `name` relative to the directory `dir_fd`; `path` is for messages.
unique_fd open_at(int dir_fd, const std::string& name, int flags, const std::string& path);

file_contents read_all(int fd, const std::string& path);

/// The size of the open file `fd` (fstat).
std::uint64_t file_size(int fd, const std::string& path);

/// Reads up to `n` bytes at `offset` (retrying EINTR); returns how many were
/// read, 0 at the end of the file.
std::size_t read_at(int fd, char* dst, std::size_t n, std::uint64_t offset,
                    const std::string& path);

/// Writes all of `data` (retrying short writes and EINTR).
void write_all(int fd, std::string_view data, const std::string& path);

/// Like write_all, but returns the errno of a failed write (0 on success)
/// instead of throwing; part of `data` may have been written then.
int try_write_all(int fd, std::string_view data);

/// Like try_write_all, at `offset` (the file position does not move).
int try_pwrite_all(int fd, std::string_view data, std::uint64_t offset);

/// fdatasync(2): the file's data and the metadata needed to read it back.
void sync_data(int fd, const std::string& path);

/// fsync(2) of a directory: makes created, renamed and removed entries durable.
void sync_directory(int dir_fd, const std::string& path);

void truncate_file(int fd, std::uint64_t size, const std::string& path);

/// Allocates [offset, offset + len) of `fd`, extending its size (zeros read
/// back); returns 0 or the errno (the file may then be partly extended).
int try_preallocate(int fd, std::uint64_t offset, std::uint64_t len);

/// Moves `fd`'s file position, where the next write goes, to `offset`.
void seek_to(int fd, std::uint64_t offset, const std::string& path);

/// renameat(2) within the directory `dir_fd` (atomically replacing `to`);
/// `dir` is for messages. Durable only after `sync_directory`.
void rename_at(int dir_fd, const std::string& from, const std::string& to, const std::string& dir);

/// unlinkat(2) of `name` in the directory `dir_fd`; `path` is for messages.
/// Durable only after `sync_directory`.
void remove_at(int dir_fd, const std::string& name, const std::string& path);

}  // namespace ballot::wal
