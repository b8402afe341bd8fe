#pragma once

#include <cstdint>
#include <string>

/// Little-endian u32 encoding, shared by the record frames of segment files
/// and the header of snapshot files (both [u32 length][u32 CRC32C]). Done byte
/// by byte rather than with memcpy so that the on-disk format does not depend
/// on the host's byte order.
namespace ballot::wal {

/// Appends `x` to `out` as 4 bytes, least significant first.
inline void put_u32(std::string& out, std::uint32_t x) {
  char b[4] = {static_cast<char>(x & 0xFFu), static_cast<char>((x >> 8) & 0xFFu),
               static_cast<char>((x >> 16) & 0xFFu), static_cast<char>(x >> 24)};
  out.append(b, 4);
}

/// The u32 stored little-endian in the 4 bytes at `p`.
inline std::uint32_t get_u32(const char* p) {
  auto u = reinterpret_cast<const unsigned char*>(p);
  return std::uint32_t{u[0]} | std::uint32_t{u[1]} << 8 | std::uint32_t{u[2]} << 16 |
         std::uint32_t{u[3]} << 24;
}

}  // namespace ballot::wal
