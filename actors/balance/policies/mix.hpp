#pragma once

#include <cstdint>

namespace ballot::balance {

/// A 64-bit bijective finalizer (the splitmix64 / Stafford "variant 13" mix):
/// every input bit flips about half of the output bits. Hashing policies place
/// backends with it, so it must never change: balancers in different
/// processes rely on placing the same backend at the same points.
constexpr std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// Hashes two 64-bit values into one (e.g. a backend id and a replica index).
/// Mixing `a` before adding `b` keeps (a, b) and (b, a) apart.
constexpr std::uint64_t mix64(std::uint64_t a, std::uint64_t b) {
  return mix64(mix64(a ^ 0x6A09E667F3BCC909ULL) + b);
}

}  // namespace ballot::balance
