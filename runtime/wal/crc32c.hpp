#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of
/// every record in the write-ahead log. Chosen over zlib's CRC-32 for its
/// better error detection on the record sizes a log sees (and it is the one
/// iSCSI, ext4 and most logs use).
namespace ballot::wal {

/// Extends `crc` (the CRC32C of some preceding bytes, 0 for none) over
/// `size` more bytes: crc32c(crc32c(0, a), b) == crc32c(0, a + b).
/// Uses the CPU's CRC32 instruction where it has one (x86-64 with SSE4.2),
/// else `crc32c_portable`: same results.
std::uint32_t crc32c(std::uint32_t crc, const void* data, std::size_t size);

/// The table-driven version, on any CPU (and the reference the tests hold
/// the instruction to).
std::uint32_t crc32c_portable(std::uint32_t crc, const void* data, std::size_t size);

/// The CRC32C of `data`.
inline std::uint32_t crc32c(std::string_view data) {
  return crc32c(0, data.data(), data.size());
}

}  // namespace ballot::wal
