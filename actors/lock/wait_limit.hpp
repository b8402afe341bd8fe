#pragma once

#include <cstdint>
#include <string>

/// The longest wait of one acquire call, shared by the gateway (which refuses
/// longer waits) and ballotctl (which refuses them before asking), so both
/// say the same thing.
namespace ballot::lock {

/// Longer waits are the client's to repeat: a call must end while its
/// connection is still worth trusting.
constexpr std::uint64_t max_acquire_wait_ms = 3'600'000;

/// The refusal of a longer wait, one wording wherever it is checked.
inline std::string wait_over_maximum(std::uint64_t wait_ms) {
  return "waitMs " + std::to_string(wait_ms) + " is over the maximum of " +
         std::to_string(max_acquire_wait_ms) + " (1 hour)";
}

}  // namespace ballot::lock
