#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

/// The wire format of a snapshot on its way to a lagging member (pure: no
/// sockets, no CAF). The encoded `install_snapshot` travels as a numbered
/// transfer of chunk frames, each acknowledged, so no frame is larger than a
/// chunk and the link stays open to heartbeats in between:
///
///   snapshot_chunk: u64 transfer | u64 total | u64 offset | u32 whole crc |
///                   u32 chunk crc | data
///   snapshot_ack:   u64 transfer | u64 received | u8 status
///
/// little-endian; the CRCs are CRC-32C, `whole crc` of all `total` bytes
/// (the same in every chunk of a transfer), `chunk crc` of this chunk's data.
namespace ballot::peer {

constexpr std::size_t chunk_header_bytes = 8 + 8 + 8 + 4 + 4;
constexpr std::size_t ack_payload_bytes = 8 + 8 + 1;
/// The most data one chunk frame may carry, whatever the sender's option:
/// the frame decoder's cap for the kind (frame.cpp) is this plus the header.
constexpr std::size_t max_chunk_bytes = std::size_t{8} << 20;
/// The sender's chunk size unless told otherwise (etcd's max-size-per-msg
/// is of the same order): large enough that a GiB is 256 frames, small
/// enough that a heartbeat waits behind at most a few milliseconds of it.
constexpr std::size_t default_chunk_bytes = std::size_t{4} << 20;

/// A chunk as parsed; `data` points into the frame's payload.
struct snapshot_chunk {
  std::uint64_t transfer = 0;
  std::uint64_t total = 0;
  std::uint64_t offset = 0;
  std::uint32_t whole_crc = 0;
  std::uint32_t crc = 0;
  const char* data = nullptr;
  std::size_t size = 0;
};

enum class ack_status : std::uint8_t {
  progress = 0,  ///< `received` bytes are in, in order
  complete = 1,  ///< all in, checked, handed to the replica
  refused = 2,   ///< the receiver dropped this transfer (the sender stops)
  /// The receiver is taking another member's transfer (one at a time a
  /// node, snapshot_slot.hpp): the sender stops, and its replica's resend
  /// tries again later.
  busy = 3,
};

struct snapshot_ack {
  std::uint64_t transfer = 0;
  std::uint64_t received = 0;
  ack_status status = ack_status::progress;
};

/// CRC-32C, extending `crc` over `n` more bytes (see runtime/wal/crc32c.hpp).
std::uint32_t chunk_crc(const char* data, std::size_t n, std::uint32_t crc = 0);

/// A whole snapshot_chunk frame from member `from` (its crc computed here).
std::vector<char> make_chunk_frame(std::uint32_t from, std::uint64_t transfer, std::uint64_t total,
                                   std::uint64_t offset, std::uint32_t whole_crc, const char* data,
                                   std::size_t n);
/// A whole snapshot_ack frame from member `from`.
std::vector<char> make_ack_frame(std::uint32_t from, const snapshot_ack& ack);

/// The chunk in a payload; nullopt when it is shorter than the header. The
/// CRC and the offsets are the receiver's to judge.
std::optional<snapshot_chunk> parse_chunk(const std::vector<char>& payload);
/// The ack in a payload; nullopt unless exactly its size with a known status.
std::optional<snapshot_ack> parse_ack(const std::vector<char>& payload);

}  // namespace ballot::peer
