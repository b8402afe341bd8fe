#include "runtime/peer/snapshot_chunk.hpp"

#include "runtime/peer/frame.hpp"
#include "runtime/wal/crc32c.hpp"

namespace ballot::peer {

namespace {

void put_le(std::vector<char>& out, std::uint64_t v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t get_le(const char* in, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i)
    v |= std::uint64_t{static_cast<unsigned char>(in[i])} << (8 * i);
  return v;
}

}  // namespace

std::uint32_t chunk_crc(const char* data, std::size_t n, std::uint32_t crc) {
  return wal::crc32c(crc, data, n);
}

std::vector<char> make_chunk_frame(std::uint32_t from, std::uint64_t transfer, std::uint64_t total,
                                   std::uint64_t offset, std::uint32_t whole_crc, const char* data,
                                   std::size_t n) {
  std::vector<char> out;
  begin_frame(out, frame_kind::snapshot_chunk, from, 0);
  out.reserve(out.size() + chunk_header_bytes + n);
  put_le(out, transfer, 8);
  put_le(out, total, 8);
  put_le(out, offset, 8);
  put_le(out, whole_crc, 4);
  put_le(out, chunk_crc(data, n), 4);
  out.insert(out.end(), data, data + n);
  finish_frame(out);
  return out;
}

std::vector<char> make_ack_frame(std::uint32_t from, const snapshot_ack& ack) {
  std::vector<char> out;
  begin_frame(out, frame_kind::snapshot_ack, from, 0);
  put_le(out, ack.transfer, 8);
  put_le(out, ack.received, 8);
  put_le(out, static_cast<std::uint8_t>(ack.status), 1);
  finish_frame(out);
  return out;
}

std::optional<snapshot_chunk> parse_chunk(const std::vector<char>& payload) {
  if (payload.size() < chunk_header_bytes)
    return std::nullopt;
  const char* p = payload.data();
  snapshot_chunk c;
  c.transfer = get_le(p, 8);
  c.total = get_le(p + 8, 8);
  c.offset = get_le(p + 16, 8);
  c.whole_crc = static_cast<std::uint32_t>(get_le(p + 24, 4));
  c.crc = static_cast<std::uint32_t>(get_le(p + 28, 4));
  c.data = p + chunk_header_bytes;
  c.size = payload.size() - chunk_header_bytes;
  return c;
}

std::optional<snapshot_ack> parse_ack(const std::vector<char>& payload) {
  if (payload.size() != ack_payload_bytes)
    return std::nullopt;
  const char* p = payload.data();
  auto status = static_cast<std::uint8_t>(p[16]);
  if (status > static_cast<std::uint8_t>(ack_status::refused))
    return std::nullopt;
  return snapshot_ack{get_le(p, 8), get_le(p + 8, 8), static_cast<ack_status>(status)};
}

}  // namespace ballot::peer
