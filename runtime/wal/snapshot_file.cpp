#include "runtime/wal/snapshot_file.hpp"

#include "runtime/wal/crc32c.hpp"
#include "runtime/wal/le32.hpp"
#include "runtime/wal/numbered_name.hpp"
#include "runtime/wal/segment.hpp"

namespace ballot::wal {

namespace {

constexpr std::string_view name_prefix = "snapshot-";
constexpr std::string_view name_suffix = ".snap";

void put_u64(std::string& out, std::uint64_t x) {
  put_u32(out, static_cast<std::uint32_t>(x));
  put_u32(out, static_cast<std::uint32_t>(x >> 32));
}

std::uint64_t get_u64(const char* p) {
  return std::uint64_t{get_u32(p)} | std::uint64_t{get_u32(p + 4)} << 32;
}

std::uint32_t chunk_crc(std::uint64_t index, std::string_view bytes) {
  std::string at;
  put_u64(at, index);
  return crc32c(crc32c(at), bytes.data(), bytes.size());
}

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

bool is_chunked_snapshot(std::string_view bytes) {
  return bytes.substr(0, chunked_snapshot_magic.size()) == chunked_snapshot_magic;
}

std::string chunked_snapshot_start(std::string_view header, std::uint64_t body_size,
                                   std::uint32_t chunk_size) {
  std::string out{chunked_snapshot_magic};
  put_u64(out, body_size);
  put_u32(out, chunk_size);
  put_u32(out, crc32c(out));
  out += snapshot_header(header);
  out += header;
  return out;
}

std::string chunk_frame_header(std::uint64_t index, std::string_view bytes) {
  std::string out;
  put_u32(out, static_cast<std::uint32_t>(bytes.size()));
  put_u32(out, chunk_crc(index, bytes));
  return out;
}

std::string check_chunked_prefix(std::string_view prefix, chunk_layout& out) {
  if (prefix.size() < chunked_prefix_size)
    return "file of " + std::to_string(prefix.size()) + " bytes ends inside its sizes";
  if (!is_chunked_snapshot(prefix))
    return "no chunked snapshot magic";
  if (crc32c(prefix.substr(0, chunked_prefix_size - 4)) != get_u32(prefix.data() + 20))
    return "CRC mismatch in the sizes of the snapshot";
  auto chunk = get_u32(prefix.data() + 16);
  if (chunk == 0 || chunk > max_snapshot_chunk_size)
    return "chunk size " + std::to_string(chunk) + " out of range";
  out.body_size = get_u64(prefix.data() + 8);
  out.chunk_size = chunk;
  return {};
}

std::string check_chunk(const chunk_layout& layout, std::uint64_t index,
                        std::string_view frame_header, std::string_view bytes) {
  auto what = "chunk " + std::to_string(index) + " of " + std::to_string(layout.chunks());
  if (frame_header.size() < frame_header_size || bytes.size() != layout.chunk_length(index))
    return what + " is cut short";
  if (get_u32(frame_header.data()) != bytes.size())
    return what + ": length field says " + std::to_string(get_u32(frame_header.data())) +
           " bytes, the layout " + std::to_string(bytes.size());
  if (get_u32(frame_header.data() + 4) != chunk_crc(index, bytes))
    return what + ": CRC mismatch";
  return {};
}

}  // namespace ballot::wal
