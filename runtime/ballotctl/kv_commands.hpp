#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "runtime/client/client.hpp"

/// ballotctl's key/value commands: put, get, delete, list.
namespace ballot::ctl {

/// How a command prints: --json, and --timeout for "unavailable within".
struct output {
  bool json = false;
  double timeout_s = 5;
};

/// The largest value a node takes by default (the gateway's limit): `put`
/// reads at most one byte more from stdin, so it can say "too large" without
/// reading an endless stream.
constexpr std::size_t max_value_bytes = 1u << 20;

/// Reports a failed key/value call (stderr, and one JSON line with --json)
/// and returns its exit code: 1 refused (not_found, version_mismatch,
/// quota_exceeded, request_id_reused), 2 bad request, 3 unavailable or
/// overloaded within --timeout.
int fail_kv(const output& out, const kv::result& r, const std::string& key);

/// Reads a value from file descriptor `fd` to its end, binary-safe, reading
/// at most `max + 1` bytes. False with `error` naming the size (or that it
/// is over `max`, when the size is not known) if the value is larger.
bool read_value(int fd, std::size_t max, std::string& value, std::string& error);

/// `value` nullopt: read from stdin.
int run_put(const output& out, const std::string& key, const std::optional<std::string>& value,
            std::optional<std::uint64_t> if_version, client::client& c);
int run_get(const output& out, const std::string& key, client::client& c);
int run_delete(const output& out, const std::string& key, std::optional<std::uint64_t> if_version,
               client::client& c);

struct list_args {
  std::string prefix;
  /// Most keys printed in all (nullopt: every one).
  std::optional<std::uint64_t> limit;
  bool values = false;
};

/// Pages through the listing until it is complete (or --limit keys are
/// printed): `key version [value]` a line, or one JSON object a line.
int run_list(const output& out, const list_args& a, client::client& c);

}  // namespace ballot::ctl
