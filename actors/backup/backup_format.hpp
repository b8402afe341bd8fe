#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "actors/paxos/types.hpp"

/// The backup file of `ballotctl snapshot save` (README "Backup and
/// restore"), as pure code: encoding, and a checker that validates a file's
/// bytes without any I/O.
///
///   header (fixed, 128 bytes, little-endian):
///     magic "BALLOTBK" | u32 version (1) | u32 header bytes (128)
///     cluster id (32 bytes)
///     u64 applied index | u64 revision | u64 key count | u64 session count
///     u32 member count | u32 client records
///     u64 machine bytes | u64 clients bytes | u64 members bytes
///     u64 body bytes (the sum of the three) | zero padding to 128
///   body: the state machine's snapshot | the dedup table | the membership
///   trailer: SHA-256 of header and body (32 bytes)
///
/// The body is one `paxos::snapshot` taken at one applied index: everything
/// a replica's checkpoint holds, so a restore starts from exactly it.
namespace ballot::backup {

constexpr std::string_view backup_magic = "BALLOTBK";
constexpr std::uint32_t backup_version = 1;
constexpr std::size_t backup_header_bytes = 128;
constexpr std::size_t backup_trailer_bytes = 32;

/// What the state machine says of itself at the backup's point (read from
/// it, not from the bytes, so status needs no decoder of the machine).
struct state_summary {
  std::uint64_t revision = 0;
  std::uint64_t keys = 0;
  std::uint64_t sessions = 0;
  std::uint32_t members = 0;
};

/// The header's fields.
struct backup_header {
  std::uint32_t version = backup_version;
  std::string cluster_id;  ///< 32 raw bytes
  std::uint64_t applied_index = 0;
  state_summary summary;
  std::uint32_t client_records = 0;
  std::uint64_t machine_bytes = 0;
  std::uint64_t clients_bytes = 0;
  std::uint64_t members_bytes = 0;
  std::uint64_t body_bytes() const { return machine_bytes + clients_bytes + members_bytes; }
};

/// The replica's part (no cluster id yet): the snapshot and its summary,
/// encoded so it can travel as a read's answer. The gateway adds the header
/// and trailer (`make_backup_file`).
std::string encode_backup_state(const paxos::snapshot& snap, const state_summary& summary);

/// The query a replica answers with `encode_backup_state` at a
/// linearizable read point instead of asking its state machine.
std::string backup_query();
bool is_backup_query(std::string_view query);

/// The whole file from a replica's `encode_backup_state`; nullopt (with
/// `why`) if those bytes are malformed.
std::optional<std::string> make_backup_file(std::string_view cluster_id, std::string_view state,
                                            std::string& why);

/// What a check of a file's bytes found.
struct backup_check {
  bool ok = false;
  std::string error;         ///< what is wrong, when not ok
  std::uint64_t offset = 0;  ///< where (bytes from the start), when not ok
  backup_header header;      ///< valid when ok (and as far as it was read otherwise)
  std::string checksum;      ///< the trailer (32 raw bytes), when ok
};

/// Validates magic, version, sizes and the SHA-256 trailer.
backup_check check_backup(std::string_view file);

/// The header alone (magic, version and sizes checked, no hashing): what a
/// node that just made the file says of it.
backup_check read_header(std::string_view file);

/// Decodes a file that `check_backup` passed into the snapshot it holds;
/// nullopt (with `why`) if the dedup table does not decode.
std::optional<paxos::snapshot> snapshot_of(std::string_view file, const backup_header& h,
                                           std::string& why);

}  // namespace ballot::backup
