#pragma once

#include <cstdint>
#include <optional>
#include <string>

/// Password hashes for users: argon2id through libsodium's `crypto_pwhash_str`,
/// with OWASP's minimum for argon2id (19 MiB of memory, 2 passes), so one
/// guess costs an attacker who stole a data directory tens of milliseconds
/// and 19 MiB, while a node verifies a login in about that time too. The
/// string holds the algorithm, its parameters and a random salt.
namespace ballot::gateway {

/// The hash of `password`; nullopt if libsodium cannot work (out of memory).
std::optional<std::string> hash_password(const std::string& password);

/// Whether `password` matches `hash` (false for an empty or foreign hash).
bool verify_password(const std::string& hash, const std::string& password);

/// A random, non-zero 64-bit secret from the operating system's generator.
std::uint64_t random_secret();

}  // namespace ballot::gateway
