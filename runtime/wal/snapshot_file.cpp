#include "runtime/wal/snapshot_file.hpp"

#include "runtime/wal/crc32c.hpp"
#include "runtime/wal/le32.hpp"
#include "runtime/wal/numbered_name.hpp"
#include "runtime/wal/segment.hpp"

namespace ballot::wal {

namespace {

constexpr std::string_view name_prefix = "snapshot-";
constexpr std::string_view name_suffix = ".snap";

}  // namespace

std::string snapshot_file_name(std::uint64_t key) {
  return numbered_file_name(name_prefix, key, name_suffix);
}

std::optional<std::uint64_t> parse_snapshot_file_name(std::string_view name) {
  return parse_numbered_file_name(name, name_prefix, name_suffix);
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
