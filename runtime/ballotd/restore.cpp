#include "runtime/ballotd/restore.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "actors/backup/backup_format.hpp"
#include "actors/backup/cluster_id.hpp"
#include "actors/backup/sha256.hpp"
#include "runtime/ballotd/cluster_id_file.hpp"
#include "runtime/ballotd/node.hpp"
#include "runtime/wal/wal_storage.hpp"

namespace ballot::ballotd {

namespace {

/// -1: absent; otherwise the number of entries besides . and ..
long entries_in(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr)
    return errno == ENOENT ? -1 : 1;  // unreadable counts as "not empty"
  long n = 0;
  while (auto* e = ::readdir(d))
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
      ++n;
  ::closedir(d);
  return n;
}

bool sync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

std::string parent_of(const std::string& dir) {
  auto trimmed = dir;
  while (trimmed.size() > 1 && trimmed.back() == '/')
    trimmed.pop_back();
  auto slash = trimmed.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : trimmed.substr(0, slash);
}

int fail(int code, const std::string& what) {
  std::fprintf(stderr, "ballotd: --restore: %s\n", what.c_str());
  return code;
}

}  // namespace

int restore_data_dir(const options& o) {
  auto dir = o.data_dir;
  while (dir.size() > 1 && dir.back() == '/')
    dir.pop_back();
  if (entries_in(dir) > 0)
    return fail(exit_usage, "refusing to restore into " + dir +
                              ": the data directory is not empty (a restore starts a new "
                              "member; give an empty or absent --data-dir)");
  std::ifstream in{o.restore, std::ios::binary};
  if (!in)
    return fail(exit_usage, "cannot read " + o.restore + ": " + std::strerror(errno));
  std::string file{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  auto check = backup::check_backup(file);
  if (!check.ok)
    return fail(exit_data,
                o.restore + ": at offset " + std::to_string(check.offset) + ": " + check.error);
  std::string why;
  auto snap = backup::snapshot_of(file, check.header, why);
  if (!snap)
    return fail(exit_data, o.restore + ": " + why);
  file.clear();
  file.shrink_to_fit();
  // The new cluster's members are its --peers (as etcd's restore takes
  // --initial-cluster): the old membership names old addresses and ids.
  snap->members.clear();
  cluster_id_wish id;
  if (!o.cluster_id.empty()) {
    id = {*backup::parse_cluster_id(o.cluster_id, why), id_origin::explicit_};
  } else {
    id = {backup::restored_cluster_id(check.header.cluster_id, check.checksum),
          id_origin::restored};
  }

  // Built aside and renamed into place: a crash leaves no half-restored directory.
  auto temp = dir + ".restoring";
  if (entries_in(temp) >= 0)
    return fail(exit_usage, temp + " exists (left by an interrupted restore?): remove it first");
  try {
    wal::wal_options wo;
    wo.dir = temp;
    wal::wal_storage log{wo};
    log.load();
    paxos::ready rd;
    paxos::durable_state state;
    state.snap = std::move(*snap);
    rd.compacted = std::move(state);
    log.append(rd);
    log.sync();
  } catch (const std::exception& e) {
    return fail(exit_data, "cannot write the restored state in " + temp + ": " + e.what());
  }
  if (auto err = write_cluster_id(temp, id))
    return fail(exit_data, *err);
  if (entries_in(dir) == 0 && ::rmdir(dir.c_str()) != 0)
    return fail(exit_data, "cannot replace the empty " + dir + ": " + std::strerror(errno));
  if (::rename(temp.c_str(), dir.c_str()) != 0 || !sync_dir(parent_of(dir)))
    return fail(exit_data, "cannot rename " + temp + " to " + dir + ": " + std::strerror(errno));
  std::fprintf(
    stderr,
    "ballotd: restored %s into %s: applied index %llu, revision %llu, %llu keys, "
    "%llu sessions; new cluster id %s\n",
    o.restore.c_str(), dir.c_str(), static_cast<unsigned long long>(check.header.applied_index),
    static_cast<unsigned long long>(check.header.summary.revision),
    static_cast<unsigned long long>(check.header.summary.keys),
    static_cast<unsigned long long>(check.header.summary.sessions), backup::to_hex(id.id).c_str());
  return 0;
}

}  // namespace ballot::ballotd
