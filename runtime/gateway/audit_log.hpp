#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

/// The audit trail: one line per authentication failure, permission denial
/// and user or role change, to its own file (ZooKeeper 3.6's audit log,
/// etcd's auth events). A line is
///
///     2026-12-05T13:04:05.123Z result=denied user=alice from=127.0.0.1 op=put target="app/x"
///     why="..."
///
/// with `user=-` for an anonymous connection; values with spaces, quotes or
/// control bytes are quoted with C escapes, so a hostile key or user name
/// cannot forge a line. Each line is flushed at once (an operator tails it).
namespace ballot::gateway {

class audit_log {
 public:
  /// Opens `path` for appending; throws std::runtime_error naming it.
  explicit audit_log(const std::string& path);
  ~audit_log();
  audit_log(const audit_log&) = delete;
  audit_log& operator=(const audit_log&) = delete;

  /// `result` is ok, denied or failed; `why` may be empty.
  void record(const std::string& result, const std::string& user, const std::string& from,
              const std::string& op, const std::string& target, const std::string& why);

  /// A value as it appears in a line (quoted and escaped when needed).
  static std::string field(const std::string& value);

 private:
  std::mutex mutex_;
  std::FILE* file_ = nullptr;
};

}  // namespace ballot::gateway
