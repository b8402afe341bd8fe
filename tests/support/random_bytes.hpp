#pragma once

#include <cstddef>
#include <random>
#include <string>

namespace ballot::test_support {

/// `n` bytes from a seeded generator: the same bytes for the same seed, so a
/// failing test shows the same data again.
inline std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 gen{seed};
  std::string out(n, '\0');
  for (auto& c : out)
    c = static_cast<char>(gen());
  return out;
}

}  // namespace ballot::test_support
