#pragma once

#include <sys/types.h>

#include <cstddef>

/// The system calls the write-ahead log makes on its files, behind one
/// interface: a test installs a faulty implementation (EIO or ENOSPC on
/// write or sync, short writes, data lost since the last sync) and drives
/// the log through every step of append, sync, checkpoint and recovery.
namespace ballot::wal {

/// Each call returns like its POSIX namesake (-1 with errno set on failure).
/// The defaults make the real calls, so a test overrides only what it breaks.
class file_ops {
 public:
  virtual ~file_ops() = default;
  virtual int open_at(int dir_fd, const char* name, int flags, mode_t mode);
  virtual ssize_t write(int fd, const void* buf, std::size_t n);
  virtual ssize_t pread(int fd, void* buf, std::size_t n, off_t offset);
  virtual ssize_t pwrite(int fd, const void* buf, std::size_t n, off_t offset);
  virtual int fdatasync(int fd);
  /// fsync(2) of a directory.
  virtual int fsync(int fd);
  virtual int ftruncate(int fd, off_t size);
  /// fallocate(2) with mode 0: allocates the range and extends the size.
  virtual int fallocate(int fd, off_t offset, off_t len);
  virtual int rename_at(int dir_fd, const char* from, const char* to);
  virtual int unlink_at(int dir_fd, const char* name);
};

/// What the log calls: the real calls unless a test installed others.
file_ops& current_file_ops();

/// Installs `ops` for this object's lifetime. For tests: not thread-safe,
/// and every log in the process uses them meanwhile.
class scoped_file_ops {
 public:
  explicit scoped_file_ops(file_ops& ops);
  ~scoped_file_ops();
  scoped_file_ops(const scoped_file_ops&) = delete;
  scoped_file_ops& operator=(const scoped_file_ops&) = delete;

 private:
  file_ops* previous_;
};

}  // namespace ballot::wal
