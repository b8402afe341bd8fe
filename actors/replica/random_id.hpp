#pragma once

#include <cstdint>
#include <random>

namespace ballot::actors {

/// A random client id for the replicas' dedup tables, never 0 (no id): 64
/// random bits, so that two live clients never share one.
inline std::uint64_t random_client_id() {
  std::random_device rd;
  std::uint64_t id = 0;
  while (id == 0)
    id = (std::uint64_t{rd()} << 32) ^ rd();
  return id;
}

}  // namespace ballot::actors
