#include "runtime/gateway/password.hpp"

#include <sodium.h>

#include <stdexcept>

namespace ballot::gateway {

namespace {

constexpr unsigned long long ops_limit = 2;
constexpr std::size_t mem_limit = 19u << 20;

void ready() {
  // Idempotent and thread-safe; -1 only if the system has no random source.
  if (sodium_init() < 0)
    throw std::runtime_error("libsodium could not initialise (no random source?)");
}

}  // namespace

std::optional<std::string> hash_password(const std::string& password) {
  ready();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), ops_limit, mem_limit) != 0)
    return std::nullopt;
  return std::string{out};
}

bool verify_password(const std::string& hash, const std::string& password) {
  ready();
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES)
    return false;
  // crypto_pwhash_str_verify wants a NUL-terminated string.
  char buf[crypto_pwhash_STRBYTES] = {};
  hash.copy(buf, hash.size());
  return crypto_pwhash_str_verify(buf, password.data(), password.size()) == 0;
}

std::uint64_t random_secret() {
  ready();
  std::uint64_t x = 0;
  while (x == 0)
    randombytes_buf(&x, sizeof(x));
  return x;
}

}  // namespace ballot::gateway
