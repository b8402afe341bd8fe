#include "runtime/wal/segment.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "runtime/wal/crc32c.hpp"

namespace ballot::wal {

namespace {

constexpr std::string_view name_prefix = "wal-";
constexpr std::string_view name_suffix = ".log";
constexpr std::size_t name_digits = 16;

void put_u32(std::string& out, std::uint32_t x) {
  char b[4] = {static_cast<char>(x & 0xFFu), static_cast<char>((x >> 8) & 0xFFu),
               static_cast<char>((x >> 16) & 0xFFu), static_cast<char>(x >> 24)};
  out.append(b, 4);
}

std::uint32_t get_u32(const char* p) {
  auto u = reinterpret_cast<const unsigned char*>(p);
  return std::uint32_t{u[0]} | std::uint32_t{u[1]} << 8 | std::uint32_t{u[2]} << 16 |
         std::uint32_t{u[3]} << 24;
}

bool all_zero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

}  // namespace

std::string segment_file_name(std::uint64_t first_index) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "wal-%016" PRIx64 ".log", first_index);
  return buf;
}

std::optional<std::uint64_t> parse_segment_file_name(std::string_view name) {
  if (name.size() != name_prefix.size() + name_digits + name_suffix.size() ||
      name.substr(0, name_prefix.size()) != name_prefix ||
      name.substr(name.size() - name_suffix.size()) != name_suffix)
    return std::nullopt;
  std::uint64_t index = 0;
  for (char c : name.substr(name_prefix.size(), name_digits)) {
    int digit;
    if (c >= '0' && c <= '9')
      digit = c - '0';
    else if (c >= 'a' && c <= 'f')
      digit = c - 'a' + 10;
    else
      return std::nullopt;
    index = index << 4 | static_cast<std::uint64_t>(digit);
  }
  return index;
}

void append_frame(std::string& out, std::string_view payload) {
  put_u32(out, static_cast<std::uint32_t>(payload.size()));
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
    std::size_t len = get_u32(rest.data());
    std::uint32_t crc = get_u32(rest.data() + 4);
    if (len == 0 || len > max_record_size)
      return stop(scan_end::corrupt, "invalid record length " + std::to_string(len));
    auto body = rest.substr(frame_header_size);
    if (len > body.size()) {
      // Torn, unless the payload's own header (if enough of it made it to
      // disk) says another size: then the length field itself is damaged.
      if (payload_size) {
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
    on_record(off, payload);
    ++res.records;
    off += frame_header_size + len;
  }
  res.valid_size = off;
  return res;
}

}  // namespace ballot::wal
