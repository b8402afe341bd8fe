#include "runtime/wal/file.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "actors/replica/storage.hpp"
#include "runtime/wal/file_ops.hpp"

namespace ballot::wal {

namespace fs = std::filesystem;

void fail(const std::string& msg) {
  throw actors::storage_error("wal: " + msg);
}

void throw_os_error(std::string_view what, const std::string& path, int err) {
  std::string msg{what};
  msg += ' ';
  msg += path;
  msg += ": ";
  msg += std::strerror(err);
  throw actors::storage_error(msg);
}

unique_fd& unique_fd::operator=(unique_fd&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = other.release();
  }
  return *this;
}

void unique_fd::reset() {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
}

namespace {

void sync_parent_of(const fs::path& dir) {
  auto parent = dir.parent_path();
  if (parent.empty())
    parent = ".";
  auto name = parent.string();
  unique_fd fd{::open(name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (!fd)
    throw_os_error("wal: cannot open directory", name, errno);
  sync_directory(fd.get(), name);
}

file_ops& io() {
  return current_file_ops();
}

}  // namespace

void create_directories_durably(const std::string& path) {
  // Remember which levels are missing before creating them: each new entry
  // must be made durable in its parent, or a crash can lose the directory
  // with every acknowledged record in it.
  fs::path dir = fs::path{path}.lexically_normal();
  if (dir.has_relative_path() && !dir.has_filename())
    dir = dir.parent_path();  // "a/b/" -> "a/b"
  std::vector<fs::path> missing;
  std::error_code ec;
  for (auto p = dir; !p.empty(); p = p.parent_path()) {
    if (fs::exists(p, ec) || p == p.root_path())
      break;
    missing.push_back(p);
  }
  fs::create_directories(dir, ec);
  if (ec)
    throw_os_error("wal: cannot create directory", path, ec.value());
  for (auto it = missing.rbegin(); it != missing.rend(); ++it)
    sync_parent_of(*it);
}

unique_fd open_at(int dir_fd, const std::string& name, int flags, const std::string& path) {
  int fd;
  do {
    fd = io().open_at(dir_fd, name.c_str(), flags | O_CLOEXEC, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0)
    throw_os_error("wal: cannot open", path, errno);
  return unique_fd{fd};
}

file_contents read_all(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    throw_os_error("wal: cannot stat", path, errno);
  file_contents out;
  out.words.resize((static_cast<std::size_t>(st.st_size) + 7) / 8);
  auto buf = reinterpret_cast<char*>(out.words.data());
  std::size_t want = static_cast<std::size_t>(st.st_size);
  while (out.size < want) {
    auto n = io().pread(fd, buf + out.size, want - out.size, static_cast<off_t>(out.size));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      throw_os_error("wal: cannot read", path, errno);
    if (n == 0)
      break;  // shrank under us; what was read is what there is
    out.size += static_cast<std::size_t>(n);
  }
  return out;
}

std::uint64_t file_size(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    throw_os_error("wal: cannot stat", path, errno);
  return static_cast<std::uint64_t>(st.st_size);
}

std::size_t read_at(int fd, char* dst, std::size_t n, std::uint64_t offset,
                    const std::string& path) {
  for (;;) {
    auto r = io().pread(fd, dst, n, static_cast<off_t>(offset));
    if (r >= 0)
      return static_cast<std::size_t>(r);
    if (errno != EINTR)
      throw_os_error("wal: cannot read", path, errno);
  }
}

void write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    auto n = io().write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      throw_os_error("wal: cannot write", path, errno);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

int try_write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    auto n = io().write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return errno;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

int try_pwrite_all(int fd, std::string_view data, std::uint64_t offset) {
  while (!data.empty()) {
    auto n = io().pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return errno;
    data.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return 0;
}

void sync_data(int fd, const std::string& path) {
  if (io().fdatasync(fd) != 0)
    throw_os_error("wal: fdatasync failed for", path, errno);
}

void sync_directory(int dir_fd, const std::string& path) {
  if (io().fsync(dir_fd) != 0)
    throw_os_error("wal: fsync failed for directory", path, errno);
}

void truncate_file(int fd, std::uint64_t size, const std::string& path) {
  if (io().ftruncate(fd, static_cast<off_t>(size)) != 0)
    throw_os_error("wal: cannot truncate", path, errno);
}

int try_preallocate(int fd, std::uint64_t offset, std::uint64_t len) {
  for (;;) {
    if (io().fallocate(fd, static_cast<off_t>(offset), static_cast<off_t>(len)) == 0)
      return 0;
    if (errno != EINTR)
      return errno;
  }
}

void seek_to(int fd, std::uint64_t offset, const std::string& path) {
  if (::lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0)
    throw_os_error("wal: cannot seek in", path, errno);
}

void rename_at(int dir_fd, const std::string& from, const std::string& to, const std::string& dir) {
  if (io().rename_at(dir_fd, from.c_str(), to.c_str()) != 0)
    throw_os_error("wal: cannot rename " + from + " to " + to + " in", dir, errno);
}

void remove_at(int dir_fd, const std::string& name, const std::string& path) {
  if (io().unlink_at(dir_fd, name.c_str()) != 0)
    throw_os_error("wal: cannot remove", path, errno);
}

}  // namespace ballot::wal
