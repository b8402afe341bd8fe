#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

/// The on-disk form of a checkpoint, without any I/O: how snapshot files are
/// named and how their bytes are checked.
///
/// A snapshot file holds one frame, [u32 length][u32 CRC32C of payload]
/// [payload], like a record, and nothing else. It is named after a key that
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

/// The largest payload a snapshot file can frame (its length field is a u32).
constexpr std::uint64_t max_snapshot_size = 0xFFFFFFFFu;

/// The frame header of a snapshot file holding `payload` (which follows it).
std::string snapshot_header(std::string_view payload);

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
