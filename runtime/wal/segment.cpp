#include "runtime/wal/segment.hpp"

#include <algorithm>

#include "runtime/wal/crc32c.hpp"
#include "runtime/wal/le32.hpp"
#include "runtime/wal/numbered_name.hpp"

namespace ballot::wal {

namespace {

constexpr std::string_view name_prefix = "wal-";
constexpr std::string_view name_suffix = ".log";

bool all_zero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

}  // namespace

std::string segment_file_name(std::uint64_t first_index) {
  return numbered_file_name(name_prefix, first_index, name_suffix);
}

std::optional<std::uint64_t> parse_segment_file_name(std::string_view name) {
  return parse_numbered_file_name(name, name_prefix, name_suffix);
}

void append_frame(std::string& out, std::string_view payload) {
  put_u32(out, static_cast<std::uint32_t>(payload.size()));
  put_u32(out, crc32c(payload));
  out.append(payload);
}

void append_sync_mark(std::string& out, std::uint64_t batch_start) {
  std::string payload;
  for (int i = 0; i < 8; ++i)
    payload.push_back(static_cast<char>((batch_start >> (8 * i)) & 0xFFu));
  put_u32(out, sync_mark_flag | static_cast<std::uint32_t>(payload.size()));
  put_u32(out, crc32c(payload));
  out.append(payload);
}

scan_result scan_frames(std::string_view bytes,
                        const std::function<void(std::uint64_t, std::string_view)>& on_record,
                        const payload_size_fn& payload_size) {
  scan_result res;
  std::size_t off = 0;
  auto stop = [&](scan_end end, std::string reason) {
    res.end = end;
    res.valid_size = off;
    res.reason = std::move(reason);
    return res;
  };
  while (off < bytes.size()) {
    auto rest = bytes.substr(off);
    if (rest.size() < frame_header_size)
      return stop(scan_end::torn,
                  "partial record header (" + std::to_string(rest.size()) + " bytes)");
    if (all_zero(rest))
      return stop(scan_end::torn, "zero bytes (" + std::to_string(rest.size()) + ")");
    std::uint32_t raw_len = get_u32(rest.data());
    std::uint32_t crc = get_u32(rest.data() + 4);
    // A sync mark is framed like a record, and damaged like one.
    bool mark = raw_len == (sync_mark_flag | sync_mark_payload_size);
    std::size_t len = mark ? sync_mark_payload_size : raw_len;
    if (len == 0 || len > max_record_size)
      return stop(scan_end::corrupt, "invalid record length " + std::to_string(len));
    auto body = rest.substr(frame_header_size);
    if (len > body.size()) {
      // Torn, unless the payload's own header (if enough of it made it to
      // disk) says another size: then the length field itself is damaged.
      if (payload_size && !mark) {
        auto own = payload_size(body);
        if (own && *own != len)
          return stop(scan_end::corrupt, "record length " + std::to_string(len) +
                                           " runs past the end of the file and disagrees with " +
                                           "its payload's size " + std::to_string(*own));
      }
      return stop(scan_end::torn, "record of " + std::to_string(len) + " bytes runs past the " +
                                    "end of the file (" + std::to_string(body.size()) +
                                    " bytes present)");
    }
    auto payload = body.substr(0, len);
    if (crc32c(payload) != crc)
      return stop(all_zero(body.substr(len)) ? scan_end::torn : scan_end::corrupt,
                  "CRC mismatch in record of " + std::to_string(len) + " bytes");
    if (mark) {
      off += sync_mark_size;
      res.marked_size = off;
      continue;
    }
    on_record(off, payload);
    ++res.records;
    off += frame_header_size + len;
  }
  res.valid_size = off;
  return res;
}

}  // namespace ballot::wal
