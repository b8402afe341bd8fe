#include "runtime/ballotctl/snapshot_commands.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

#include "actors/backup/backup_format.hpp"
#include "actors/backup/sha256.hpp"
#include "runtime/ballotctl/printable.hpp"
#include "runtime/json/json_line.hpp"

namespace ballot::ctl {

namespace {

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

/// Writes every byte or says why not.
bool write_all(int fd, const char* data, std::size_t n, std::string& error) {
  while (n > 0) {
    auto w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      error = std::strerror(errno);
      return false;
    }
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

int save_failed(const output& out, const client::backup_result& r, const std::string& file) {
  int code = 3;
  std::string what = kv::to_string(r.code);
  if (r.busy) {
    code = 1;
    what = "busy";
  } else if (r.code == kv::result_code::permission_denied ||
             r.code == kv::result_code::unauthenticated) {
    code = 1;
  }
  std::cerr << "ballotctl: snapshot save " << printable(file) << ": " << what << ": "
            << printable(r.message) << "\n";
  if (out.json)
    std::cout << json::line({{"error", what}, {"message", json::text(r.message)}}) << "\n";
  return code;
}

}  // namespace

int run_snapshot_save(const output& out, const std::string& file, client::client& c) {
  auto part = file + ".part";
  int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::cerr << "ballotctl: snapshot save: cannot create " << printable(part) << ": "
              << std::strerror(errno) << "\n";
    return 2;
  }
  std::string write_error;
  auto started = std::chrono::steady_clock::now();
  auto last_report = started;
  std::uint64_t written = 0;
  auto sink = [&](const char* data, std::size_t n, std::uint64_t total) {
    if (!write_all(fd, data, n, write_error))
      return false;
    written += n;
    auto now = std::chrono::steady_clock::now();
    // A line a second for long saves; quick ones stay quiet.
    if (now - last_report >= std::chrono::seconds(1)) {
      last_report = now;
      std::fprintf(stderr, "ballotctl: snapshot: %llu of %llu bytes (%d%%)\n",
                   static_cast<unsigned long long>(written), static_cast<unsigned long long>(total),
                   total == 0 ? 100 : static_cast<int>(written * 100 / total));
    }
    return true;
  };
  // The transfer may take much longer than one call: it gets 10 minutes
  // more than --timeout.
  auto timeout = std::chrono::milliseconds(static_cast<std::int64_t>(out.timeout_s * 1000)) +
                 std::chrono::minutes(10);
  auto r = c.snapshot(sink, timeout);
  bool synced = r.ok() && write_error.empty() && ::fsync(fd) == 0;
  if (r.ok() && write_error.empty() && !synced)
    write_error = std::strerror(errno);
  ::close(fd);
  if (!write_error.empty()) {
    ::unlink(part.c_str());
    std::cerr << "ballotctl: snapshot save: cannot write " << printable(part) << ": " << write_error
              << "\n";
    return 2;
  }
  if (!r.ok()) {
    ::unlink(part.c_str());
    return save_failed(out, r, file);
  }
  if (::rename(part.c_str(), file.c_str()) != 0) {
    std::cerr << "ballotctl: snapshot save: cannot rename " << printable(part) << " to "
              << printable(file) << ": " << std::strerror(errno) << "\n";
    return 2;
  }
  int dir = ::open(parent_of(file).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started)
              .count();
  if (out.json)
    std::cout << json::line({{"file", json::text(file)},
                             {"bytes", r.total_bytes},
                             {"revision", r.revision},
                             {"applied_index", r.applied_index},
                             {"ms", ms}})
              << "\n";
  else
    std::cout << "saved " << printable(file) << ": " << r.total_bytes << " bytes, revision "
              << r.revision << ", applied index " << r.applied_index << " (" << ms << " ms)\n";
  return 0;
}

int run_snapshot_status(const output& out, const std::string& file) {
  std::ifstream in{file, std::ios::binary};
  if (!in) {
    std::cerr << "ballotctl: snapshot status: cannot read " << printable(file) << ": "
              << std::strerror(errno) << "\n";
    return 2;
  }
  std::string bytes{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  auto c = backup::check_backup(bytes);
  if (!c.ok) {
    std::cerr << "ballotctl: " << printable(file) << ": not a usable backup: at offset " << c.offset
              << ": " << c.error << "\n";
    if (out.json)
      std::cout << json::line({{"file", json::text(file)},
                               {"ok", false},
                               {"offset", c.offset},
                               {"error", json::text(c.error)}})
                << "\n";
    return 1;
  }
  auto& h = c.header;
  auto id = backup::to_hex(h.cluster_id);
  auto sum = backup::to_hex(c.checksum);
  if (out.json) {
    std::cout << json::line({{"file", json::text(file)},
                             {"ok", true},
                             {"revision", h.summary.revision},
                             {"applied_index", h.applied_index},
                             {"bytes", bytes.size()},
                             {"keys", h.summary.keys},
                             {"sessions", h.summary.sessions},
                             {"members", h.summary.members},
                             {"cluster_id", id},
                             {"sha256", sum}})
              << "\n";
    return 0;
  }
  std::cout << "revision " << h.summary.revision << "\napplied_index " << h.applied_index
            << "\nsize " << bytes.size() << "\nkeys " << h.summary.keys << "\nsessions "
            << h.summary.sessions << "\nmembers " << h.summary.members << "\ncluster_id " << id
            << "\nsha256 " << sum << "\n";
  return 0;
}

}  // namespace ballot::ctl
