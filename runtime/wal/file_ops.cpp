#include "runtime/wal/file_ops.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

namespace ballot::wal {

namespace {

file_ops& real_ops() {
  static file_ops ops;
  return ops;
}

file_ops* installed = nullptr;

}  // namespace

int file_ops::open_at(int dir_fd, const char* name, int flags, mode_t mode) {
  return ::openat(dir_fd, name, flags, mode);
}

ssize_t file_ops::write(int fd, const void* buf, std::size_t n) {
  return ::write(fd, buf, n);
}

ssize_t file_ops::pread(int fd, void* buf, std::size_t n, off_t offset) {
  return ::pread(fd, buf, n, offset);
}

ssize_t file_ops::pwrite(int fd, const void* buf, std::size_t n, off_t offset) {
  return ::pwrite(fd, buf, n, offset);
}

int file_ops::fdatasync(int fd) {
  return ::fdatasync(fd);
}

int file_ops::fsync(int fd) {
  return ::fsync(fd);
}

int file_ops::ftruncate(int fd, off_t size) {
  return ::ftruncate(fd, size);
}

int file_ops::fallocate(int fd, off_t offset, off_t len) {
  return ::fallocate(fd, 0, offset, len);
}

int file_ops::rename_at(int dir_fd, const char* from, const char* to) {
  return ::renameat(dir_fd, from, dir_fd, to);
}

int file_ops::unlink_at(int dir_fd, const char* name) {
  return ::unlinkat(dir_fd, name, 0);
}

file_ops& current_file_ops() {
  return installed != nullptr ? *installed : real_ops();
}

scoped_file_ops::scoped_file_ops(file_ops& ops) : previous_(installed) {
  installed = &ops;
}

scoped_file_ops::~scoped_file_ops() {
  installed = previous_;
}

}  // namespace ballot::wal
