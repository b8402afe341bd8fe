#include "runtime/ballotctl/kv_commands.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>

#include <sys/stat.h>
#include <unistd.h>

#include "runtime/ballotctl/printable.hpp"
#include "runtime/json/json_line.hpp"

namespace ballot::ctl {

namespace {

using kv::result_code;

constexpr int exit_ok = 0;
constexpr int exit_refused = 1;
constexpr int exit_usage = 2;
constexpr int exit_unavailable = 3;

/// Keys asked for per list call. A node may end a page sooner (its entry
/// cap, its byte bound); the listing goes on after the last key either way.
constexpr std::uint32_t list_page_keys = 1000;

}  // namespace

int fail_kv(const output& out, const kv::result& r, const std::string& key) {
  auto code = r.code;
  if (out.json) {
    json::value j{{"ok", false}, {"error", kv::to_string(code)}};
    if (!key.empty())
      j["key"] = json::text(key);
    if (code == result_code::version_mismatch)
      j["current_version"] = r.version;
    if (code == result_code::quota_exceeded)
      j["quota_bytes"] = r.version;
    if (!r.message.empty())
      j["message"] = json::text(r.message);
    std::cout << json::line(j) << std::endl;
  }
  // The node's words quote keys and user names: escaped like them, so a
  // hostile key cannot forge lines on stderr either.
  auto message = printable(r.message);
  auto shown = "'" + printable(key) + "'";
  switch (code) {
    case result_code::not_found:
      std::cerr << "ballotctl: key " << shown << " not found\n";
      return exit_refused;
    case result_code::version_mismatch:
      std::cerr << "ballotctl: version mismatch on " << shown << ": its current version is "
                << r.version << (r.version == 0 ? " (absent)" : "") << "\n";
      return exit_refused;
    case result_code::quota_exceeded:
      std::cerr << "ballotctl: refused (quota_exceeded): " << message
                << "; deletes and reads still work\n";
      return exit_refused;
    case result_code::request_id_reused:
      std::cerr << "ballotctl: refused (request_id_reused): " << message << "\n";
      return exit_refused;
    case result_code::unauthenticated:
      std::cerr << "ballotctl: unauthenticated: " << message << "\n";
      return exit_refused;
    case result_code::permission_denied:
      std::cerr << "ballotctl: permission denied (permissionDenied): " << message << "\n";
      return exit_refused;
    case result_code::bad_request:
      std::cerr << "ballotctl: bad request: " << message << "\n";
      return exit_usage;
    case result_code::overloaded:
      std::cerr << "ballotctl: cluster overloaded, still refusing after " << out.timeout_s
                << " s of retries: " << message << "\n";
      return exit_unavailable;
    case result_code::unavailable:
      std::cerr << "ballotctl: cluster unavailable within " << out.timeout_s << " s: " << message
                << "\n";
      return exit_unavailable;
    case result_code::expired:
      std::cerr << "ballotctl: the write's request id expired (whether it applied is unknown: "
                   "read the key): "
                << message << "\n";
      return exit_unavailable;
    case result_code::ok:
      break;
  }
  return exit_ok;
}

bool read_value(int fd, std::size_t max, std::string& value, std::string& error) {
  value.clear();
  std::size_t want = max + 1;  // one byte more tells "too large" without reading on
  value.resize(std::min<std::size_t>(want, 64 * 1024));
  std::size_t got = 0;
  for (;;) {
    if (got == value.size()) {
      if (value.size() >= want)
        break;
      value.resize(std::min(want, value.size() * 2));
    }
    auto n = ::read(fd, value.data() + got, value.size() - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      error = std::string{"cannot read the value from stdin: "} + std::strerror(errno);
      return false;
    }
    if (n == 0)
      break;
    got += static_cast<std::size_t>(n);
  }
  value.resize(got);
  if (got <= max)
    return true;
  // A file on stdin has a size to tell; a pipe only that it is larger.
  struct stat st {};
  std::string size = "more than " + std::to_string(max);
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
    size = std::to_string(st.st_size);
  error = "the value on stdin is " + size + " bytes, over the limit of " + std::to_string(max);
  value.clear();
  return false;
}

int run_put(const output& out, const std::string& key, const std::optional<std::string>& value,
            std::optional<std::uint64_t> if_version, client::client& c) {
  std::string from_stdin;
  if (!value) {
    std::string error;
    if (!read_value(STDIN_FILENO, max_value_bytes, from_stdin, error)) {
      std::cerr << "ballotctl: put " << printable(key) << ": " << error << "\n";
      return exit_usage;
    }
  }
  auto r = c.put(key, value ? *value : from_stdin, if_version);
  if (!r.ok())
    return fail_kv(out, r, key);
  if (out.json)
    std::cout << json::line({{"ok", true}, {"key", json::text(key)}, {"version", r.version}})
              << std::endl;
  else
    std::cout << "version " << r.version << std::endl;
  return exit_ok;
}

int run_get(const output& out, const std::string& key, client::client& c) {
  auto r = c.get(key);
  if (!r.ok())
    return fail_kv(out, r, key);
  if (out.json)
    std::cout << json::line({{"ok", true},
                             {"key", json::text(key)},
                             {"value", json::text(r.value)},
                             {"version", r.version}})
              << std::endl;
  else
    std::cout << printable(r.value) << "\nversion " << r.version << std::endl;
  return exit_ok;
}

int run_delete(const output& out, const std::string& key, std::optional<std::uint64_t> if_version,
               client::client& c) {
  auto r = c.del(key, if_version);
  if (!r.ok())
    return fail_kv(out, r, key);
  if (out.json)
    std::cout << json::line({{"ok", true}, {"key", json::text(key)}, {"revision", r.version}})
              << std::endl;
  return exit_ok;
}

int run_list(const output& out, const list_args& a, client::client& c) {
  std::uint64_t printed = 0;
  std::string after;
  for (;;) {
    auto page_keys = list_page_keys;
    if (a.limit)
      page_keys =
        static_cast<std::uint32_t>(std::min<std::uint64_t>(page_keys, *a.limit - printed));
    auto r = c.list(a.prefix, page_keys, after, a.values);
    if (!r.ok())
      return fail_kv(out, r, a.prefix);
    for (auto& e : r.entries) {
      if (out.json) {
        json::value j{{"key", json::text(e.key)}, {"version", e.version}};
        if (a.values)
          j["value"] = json::text(e.value);
        std::cout << json::line(j) << "\n";
      } else {
        std::cout << printable(e.key) << " " << e.version;
        if (a.values)
          std::cout << " " << printable(e.value);
        std::cout << "\n";
      }
    }
    printed += r.entries.size();
    // A truncated page always holds an entry (a node never ends one empty),
    // so the listing moves on; an empty one is the end whatever it says.
    if (!r.truncated || r.entries.empty())
      break;
    after = r.entries.back().key;
    if (a.limit && printed >= *a.limit) {
      if (out.json)
        std::cout << json::line({{"truncated", true}, {"returned", printed}}) << "\n";
      std::cerr << "ballotctl: stopped at --limit " << *a.limit << "; more keys match\n";
      break;
    }
  }
  std::cout.flush();
  return exit_ok;
}

}  // namespace ballot::ctl
