#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

/// The on-disk framing of the write-ahead log, without any I/O: how records
/// are framed into a segment file, how segment files are named, and how a
/// segment's bytes are scanned back into records.
///
/// Every record is [u32 length][u32 CRC32C of payload][payload], both
/// integers little-endian. A segment is a file of whole records named after
/// the index of its first record, so the log's records are numbered
/// 0, 1, 2, ... across all of its segments.
namespace ballot::wal {

constexpr std::size_t frame_header_size = 8;

/// The largest payload the log writes. A length above it in a header can only
/// be corruption, which keeps a damaged length field from passing as a torn
/// write ("the record runs past the end of the file").
constexpr std::size_t max_record_size = std::size_t{64} << 20;

/// "wal-<16 lower-case hex digits>.log": fixed width, so names sort in index order.
std::string segment_file_name(std::uint64_t first_index);

/// The first index encoded in a segment file name, or nullopt if `name` is not one.
std::optional<std::uint64_t> parse_segment_file_name(std::string_view name);

/// Appends the frame of `payload` (header and payload) to `out`.
void append_frame(std::string& out, std::string_view payload);

/// A sync mark is a frame that is not a record: its length field has this bit
/// set, and its 8-byte payload is the segment offset at which the batch it
/// closes began. The log writes one at the end of every batch it syncs, so
/// the last record of a synced batch is never the last bytes of the file: a
/// damaged record that the mark of its batch follows was written whole once
/// and is corruption, not the remains of an interrupted write. Marks are
/// skipped by replay and do not count as records.
constexpr std::uint32_t sync_mark_flag = 0x80000000u;
constexpr std::size_t sync_mark_payload_size = 8;
constexpr std::size_t sync_mark_size = frame_header_size + sync_mark_payload_size;

/// Appends a sync mark for a batch that began at segment offset `batch_start`.
void append_sync_mark(std::string& out, std::uint64_t batch_start);

/// How a scan of a segment's bytes ended.
enum class scan_end {
  clean,    ///< the bytes are whole, valid records
  torn,     ///< valid records, then the remains of an interrupted write
  corrupt,  ///< damage that is not an interrupted write at the end
};

struct scan_result {
  scan_end end = scan_end::clean;
  /// Bytes of whole valid records from the start: where a torn tail is cut,
  /// or the offset of the bad record when corrupt.
  std::uint64_t valid_size = 0;
  std::uint64_t records = 0;
  /// Bytes up to the end of the last valid sync mark: what was written whole
  /// before a sync (0: no mark).
  std::uint64_t marked_size = 0;
  /// What was wrong at `valid_size` (empty when clean).
  std::string reason;
};

/// Optional check of a payload against its own header: given the first bytes
/// of a payload, the size it says it has (nullopt: too few bytes to tell).
using payload_size_fn = std::function<std::optional<std::size_t>(std::string_view prefix)>;

/// Calls `on_record(offset, payload)` for each valid record of `bytes`, in
/// order, and classifies what follows the last one. An interrupted write can
/// only leave a prefix of a record, possibly padded with zeros, at the very
/// end, so the tail is `torn` when, at the first bad record:
///  - fewer than 8 bytes remain (a partial header);
///  - every remaining byte is zero (zero-filled blocks after a crash);
///  - the length runs past the end of the bytes, and `payload_size` (when
///    given) does not contradict it from the payload bytes present;
///  - the CRC fails and nothing but zero bytes follows the record.
/// Anything else is `corrupt` (so is any damage before a valid sync mark): the bad record had good
/// data after it, so it was once complete and acknowledged data would be lost by cutting there.
scan_result scan_frames(std::string_view bytes,
                        const std::function<void(std::uint64_t, std::string_view)>& on_record,
                        const payload_size_fn& payload_size = {});

}  // namespace ballot::wal
