#include "runtime/peer/snapshot_chunk.hpp"

#include "runtime/peer/frame.hpp"
#include "runtime/peer/le_bytes.hpp"
#include "runtime/wal/crc32c.hpp"

namespace ballot::peer {

std::uint32_t chunk_crc(const char* data, std::size_t n, std::uint32_t crc) {
  return wal::crc32c(crc, data, n);
}

std::vector<char> make_chunk_frame(std::uint32_t from, std::uint64_t transfer, std::uint64_t total,
                                   std::uint64_t offset, std::uint32_t whole_crc, const char* data,
                                   std::size_t n) {
  std::vector<char> out;
  begin_frame(out, frame_kind::snapshot_chunk, from, 0);
  out.reserve(out.size() + chunk_header_bytes + n);
  le::append(out, transfer, 8);
  le::append(out, total, 8);
  le::append(out, offset, 8);
  le::append(out, whole_crc, 4);
  le::append(out, chunk_crc(data, n), 4);
  out.insert(out.end(), data, data + n);
  finish_frame(out);
  return out;
}

std::vector<char> make_ack_frame(std::uint32_t from, const snapshot_ack& ack) {
  std::vector<char> out;
  begin_frame(out, frame_kind::snapshot_ack, from, 0);
  le::append(out, ack.transfer, 8);
  le::append(out, ack.received, 8);
  le::append(out, static_cast<std::uint8_t>(ack.status), 1);
  finish_frame(out);
  return out;
}

std::optional<snapshot_chunk> parse_chunk(const std::vector<char>& payload) {
  if (payload.size() < chunk_header_bytes)
    return std::nullopt;
  const char* p = payload.data();
  snapshot_chunk c;
  c.transfer = le::get(p, 8);
  c.total = le::get(p + 8, 8);
  c.offset = le::get(p + 16, 8);
  c.whole_crc = static_cast<std::uint32_t>(le::get(p + 24, 4));
  c.crc = static_cast<std::uint32_t>(le::get(p + 28, 4));
  c.data = p + chunk_header_bytes;
  c.size = payload.size() - chunk_header_bytes;
  return c;
}

std::optional<snapshot_ack> parse_ack(const std::vector<char>& payload) {
  if (payload.size() != ack_payload_bytes)
    return std::nullopt;
  const char* p = payload.data();
  auto status = static_cast<std::uint8_t>(p[16]);
  if (status > static_cast<std::uint8_t>(ack_status::busy))
    return std::nullopt;
  return snapshot_ack{le::get(p, 8), le::get(p + 8, 8), static_cast<ack_status>(status)};
}

}  // namespace ballot::peer
