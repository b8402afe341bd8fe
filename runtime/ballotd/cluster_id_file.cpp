#include "runtime/ballotd/cluster_id_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "actors/backup/cluster_id.hpp"
#include "actors/backup/sha256.hpp"

namespace ballot::ballotd {

namespace {

std::string path_of(const std::string& dir) {
  return dir + "/" + cluster_id_file_name;
}

const char* name_of(id_origin o) {
  switch (o) {
    case id_origin::derived:
      return "derived";
    case id_origin::explicit_:
      return "explicit";
    case id_origin::restored:
      return "restored";
  }
  return "?";
}

std::string sys_error(const std::string& what, const std::string& path) {
  return "cannot " + what + " " + path + ": " + std::strerror(errno);
}

}  // namespace

stored_cluster_id read_cluster_id(const std::string& dir) {
  stored_cluster_id out;
  auto path = path_of(dir);
  std::ifstream in{path, std::ios::binary};
  if (!in) {
    if (errno != ENOENT) {
      out.present = true;
      out.error = sys_error("read", path);
    }
    return out;
  }
  out.present = true;
  std::string hex, origin;
  std::getline(in, hex);
  std::getline(in, origin);
  std::string why;
  auto id = backup::parse_cluster_id(hex, why);
  if (!id) {
    out.error = path + ": not a cluster id (" + why + ")";
    return out;
  }
  out.value.id = *id;
  if (origin == "explicit")
    out.value.origin = id_origin::explicit_;
  else if (origin == "restored")
    out.value.origin = id_origin::restored;
  else if (origin == "derived" || origin.empty())
    out.value.origin = id_origin::derived;
  else
    out.error = path + ": unknown origin '" + origin + "' on line 2";
  return out;
}

std::optional<std::string> write_file_durably(const std::string& dir, const std::string& name,
                                              const std::string& text) {
  auto path = dir + "/" + name;
  auto temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return sys_error("create", temp);
  bool ok =
    ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  auto err = sys_error("write", temp);
  ::close(fd);
  if (!ok)
    return err;
  if (::rename(temp.c_str(), path.c_str()) != 0)
    return sys_error("rename to", path);
  // The rename is durable only once the directory is.
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0)
    return sys_error("open", dir);
  ok = ::fsync(dir_fd) == 0;
  err = sys_error("sync", dir);
  ::close(dir_fd);
  if (!ok)
    return err;
  return std::nullopt;
}

std::optional<std::string> write_cluster_id(const std::string& dir, const cluster_id_wish& id) {
  return write_file_durably(dir, cluster_id_file_name,
                            backup::to_hex(id.id) + "\n" + name_of(id.origin) + "\n");
}

cluster_id_check settle_cluster_id(const std::string& dir, const cluster_id_wish& wanted) {
  cluster_id_check out;
  auto stored = read_cluster_id(dir);
  if (!stored.error.empty()) {
    out.error = stored.error;
    out.bad_file = true;
    return out;
  }
  if (!stored.present) {
    if (auto err = write_cluster_id(dir, wanted)) {
      out.error = *err;
      out.bad_file = true;
      return out;
    }
    out.id = wanted.id;
    return out;
  }
  auto& have = stored.value;
  // Flags that only derive an id do not override one set explicitly or by a restore.
  bool compare = wanted.origin != id_origin::derived || have.origin == id_origin::derived;
  if (compare && have.id != wanted.id) {
    const char* source = wanted.origin == id_origin::explicit_  ? "--cluster-id"
                         : wanted.origin == id_origin::restored ? "--restore"
                                                                : "--cluster-token and --peers";
    out.error = "the data directory " + dir + " belongs to cluster " + backup::to_hex(have.id) +
                ", but " + source + " make cluster " + backup::to_hex(wanted.id) +
                "; start it with the flags it was bootstrapped with, or with --cluster-id " +
                backup::to_hex(have.id) + " to keep its cluster";
    return out;
  }
  out.id = have.id;
  return out;
}

}  // namespace ballot::ballotd
