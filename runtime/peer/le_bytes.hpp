#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

/// Little-endian integers of `n` bytes in peer frames (the frame header, the
/// snapshot chunks' header): byte by byte, so the wire format does not depend
/// on the host's byte order.
namespace ballot::peer::le {

inline void put(char* out, std::uint64_t v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

inline void append(std::vector<char>& out, std::uint64_t v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

inline std::uint64_t get(const char* in, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i)
    v |= std::uint64_t{static_cast<unsigned char>(in[i])} << (8 * i);
  return v;
}

}  // namespace ballot::peer::le
