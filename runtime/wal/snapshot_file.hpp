#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

/// The on-disk form of a checkpoint, without any I/O: how snapshot files are
/// named and how their bytes are checked.
///
/// A snapshot file holds a header (the checkpoint without the state machine's
/// bytes) and a body (those bytes) in CRC-framed chunks, so a state of many
/// GiB fits (issue 9); see `chunk_layout` for the format. Files written
/// before it hold one frame, [u32 length][u32 CRC32C of payload][payload],
/// the whole checkpoint in the payload and no body; they are still read. A
/// snapshot file is named after a key that
/// orders checkpoints (the last slot of the snapshot it holds), so the newest
/// checkpoint is the file with the highest name. It is written under a
/// temporary name, synced, and only then renamed: a file with its final name
/// was complete once, so damage to it is corruption, never a torn write.
namespace ballot::wal {

/// "snapshot-<16 lower-case hex digits>.snap": fixed width, so names sort in key order.
std::string snapshot_file_name(std::uint64_t key);

/// The key encoded in a snapshot file name, or nullopt if `name` is not one.
std::optional<std::uint64_t> parse_snapshot_file_name(std::string_view name);

/// A snapshot file is written under its name plus this suffix, then renamed.
/// A file still carrying it was never committed and recovery removes it.
constexpr std::string_view snapshot_temp_suffix = ".tmp";

/// A snapshot file that recovery found damaged but could do without (an older
/// checkpoint and the log still covered it) is kept under its name plus this
/// suffix, for the operator to inspect, and is never read again.
constexpr std::string_view snapshot_corrupt_suffix = ".corrupt";

/// Whether `name` is "<snapshot file name><snapshot_temp_suffix>".
bool is_snapshot_temp_file_name(std::string_view name);

/// The largest header a snapshot file can frame (its length field is a u32).
/// The body, where the state machine's bytes go, has no such limit.
constexpr std::uint64_t max_snapshot_size = 0xFFFFFFFFu;

/// The frame header of a single-frame snapshot file (the format before
/// chunks) holding `payload` (which follows it).
std::string snapshot_header(std::string_view payload);

// -- Chunked snapshot files ------------------------------------------------

/// The first 8 bytes of a chunked snapshot file. A single-frame file starts
/// with its length and CRC instead; that those equal the magic would take a
/// CRC that matches by chance as well as a length of exactly 1.3 GiB.
constexpr std::string_view chunked_snapshot_magic{"BSNAPv2\n", 8};

/// Magic, then [u64 body size][u32 chunk size][u32 CRC32C of the 20 bytes before it].
constexpr std::size_t chunked_prefix_size = 24;

/// The body's chunk size unless configured (`wal_options::snapshot_chunk_size`):
/// the most a read or write of the body holds in one piece beyond the body.
constexpr std::uint32_t default_snapshot_chunk_size = std::uint32_t{32} << 20;
constexpr std::uint32_t max_snapshot_chunk_size = std::uint32_t{1} << 30;

/// Where everything is in a chunked snapshot file, all integers little-endian:
///
///   0                 magic "BSNAPv2\n"
///   8                 u64 body size | u32 chunk size | u32 CRC32C of bytes 0..20
///   24                header frame: [u32 length][u32 CRC32C][header]
///   chunk_offset(i)   chunk i: [u32 length][u32 CRC32C of (u64 i, bytes)][bytes]
///   file_size()       the end: nothing follows the last chunk
///
/// Every chunk is `chunk_size` bytes but the last, which holds the rest; a
/// body of 0 bytes has no chunks. A chunk's CRC covers its index, so a chunk
/// in the wrong place is damage too. The layout is fixed by the three sizes,
/// so a missing or cut chunk shows in the file's size before any is read.
struct chunk_layout {
  std::uint64_t body_size = 0;
  std::uint32_t chunk_size = default_snapshot_chunk_size;
  std::uint64_t header_size = 0;

  std::uint64_t chunks() const { return body_size == 0 ? 0 : (body_size - 1) / chunk_size + 1; }
  std::uint64_t chunk_length(std::uint64_t i) const {
    return i + 1 < chunks() ? chunk_size : body_size - i * chunk_size;
  }
  /// Where the header's bytes (after its frame header) start.
  std::uint64_t header_offset() const { return chunked_prefix_size + 8; }
  std::uint64_t chunk_offset(std::uint64_t i) const {
    return header_offset() + header_size + i * (8 + std::uint64_t{chunk_size});
  }
  std::uint64_t file_size() const { return chunk_offset(0) + chunks() * 8 + body_size; }
};

/// Whether `bytes` (a file's first bytes) start like a chunked snapshot file.
bool is_chunked_snapshot(std::string_view bytes);

/// The magic, sizes and header frame of a chunked file whose body is
/// `body_size` bytes cut into `chunk_size` chunks: what comes before chunk 0.
std::string chunked_snapshot_start(std::string_view header, std::uint64_t body_size,
                                   std::uint32_t chunk_size);

/// The frame header of chunk `index` holding `bytes` (which follow it).
std::string chunk_frame_header(std::uint64_t index, std::string_view bytes);

/// Checks a chunked file's first `chunked_prefix_size` bytes; on success
/// sets `out.body_size` and `out.chunk_size` and returns "", else what is wrong.
std::string check_chunked_prefix(std::string_view prefix, chunk_layout& out);

/// Checks chunk `index` of `layout`: its frame header (8 bytes) and bytes;
/// "" if good, else what is wrong.
std::string check_chunk(const chunk_layout& layout, std::uint64_t index,
                        std::string_view frame_header, std::string_view bytes);

/// What a check of a snapshot file's bytes found.
struct snapshot_check {
  /// The payload when the file is one whole, valid frame; nullopt otherwise.
  std::optional<std::string_view> payload;
  /// Where the damage is, and what it is (when `payload` is nullopt).
  std::uint64_t offset = 0;
  std::string reason;
};

/// Checks that `bytes` are exactly one frame with a matching CRC32C.
snapshot_check check_snapshot_file(std::string_view bytes);

}  // namespace ballot::wal
