#include "runtime/wal/snapshot_file.hpp"

#include <cinttypes>
#include <cstdio>

#include "runtime/wal/crc32c.hpp"
#include "runtime/wal/segment.hpp"

namespace ballot::wal {

namespace {

constexpr std::string_view name_prefix = "snapshot-";
constexpr std::string_view name_suffix = ".snap";
constexpr std::size_t name_digits = 16;

std::uint32_t get_u32(const char* p) {
  auto u = reinterpret_cast<const unsigned char*>(p);
  return std::uint32_t{u[0]} | std::uint32_t{u[1]} << 8 | std::uint32_t{u[2]} << 16 |
         std::uint32_t{u[3]} << 24;
}

void put_u32(std::string& out, std::uint32_t x) {
  char b[4] = {static_cast<char>(x & 0xFFu), static_cast<char>((x >> 8) & 0xFFu),
               static_cast<char>((x >> 16) & 0xFFu), static_cast<char>(x >> 24)};
  out.append(b, 4);
}

}  // namespace

std::string snapshot_file_name(std::uint64_t key) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "snapshot-%016" PRIx64 ".snap", key);
  return buf;
}

std::optional<std::uint64_t> parse_snapshot_file_name(std::string_view name) {
  if (name.size() != name_prefix.size() + name_digits + name_suffix.size() ||
      name.substr(0, name_prefix.size()) != name_prefix ||
      name.substr(name.size() - name_suffix.size()) != name_suffix)
    return std::nullopt;
  std::uint64_t key = 0;
  for (char c : name.substr(name_prefix.size(), name_digits)) {
    int digit;
    if (c >= '0' && c <= '9')
      digit = c - '0';
    else if (c >= 'a' && c <= 'f')
      digit = c - 'a' + 10;
    else
      return std::nullopt;
    key = key << 4 | static_cast<std::uint64_t>(digit);
  }
  return key;
}

bool is_snapshot_temp_file_name(std::string_view name) {
  if (name.size() <= snapshot_temp_suffix.size() ||
      name.substr(name.size() - snapshot_temp_suffix.size()) != snapshot_temp_suffix)
    return false;
  return parse_snapshot_file_name(name.substr(0, name.size() - snapshot_temp_suffix.size()))
    .has_value();
}

std::string snapshot_header(std::string_view payload) {
  std::string out;
  put_u32(out, static_cast<std::uint32_t>(payload.size()));
  put_u32(out, crc32c(payload));
  return out;
}

snapshot_check check_snapshot_file(std::string_view bytes) {
  snapshot_check res;
  if (bytes.size() < frame_header_size) {
    res.reason = "file of " + std::to_string(bytes.size()) + " bytes has no frame header";
    return res;
  }
  std::uint64_t len = get_u32(bytes.data());
  auto body = bytes.substr(frame_header_size);
  if (len == 0 || len != body.size()) {
    // Exact, not "at least": the file was synced whole before its rename.
    res.reason = "length field says " + std::to_string(len) + " bytes but " +
                 std::to_string(body.size()) + " follow the header";
    return res;
  }
  if (crc32c(body) != get_u32(bytes.data() + 4)) {
    res.reason = "CRC mismatch in snapshot of " + std::to_string(len) + " bytes";
    return res;
  }
  res.payload = body;
  return res;
}

}  // namespace ballot::wal
