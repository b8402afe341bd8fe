#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

/// SHA-256 (OpenSSL's), for cluster ids and backup checksums: computation
/// only, no I/O.
namespace ballot::backup {

using digest = std::array<unsigned char, 32>;

/// Incremental hashing, so a large backup body is hashed as it is read.
class sha256 {
 public:
  sha256();
  ~sha256();
  sha256(const sha256&) = delete;
  sha256& operator=(const sha256&) = delete;

  void update(const void* data, std::size_t n);
  void update(std::string_view s) { update(s.data(), s.size()); }
  /// The digest of everything given so far; the object is spent afterwards.
  digest finish();

 private:
  void* ctx_;  ///< EVP_MD_CTX*, kept out of the header
};

digest sha256_of(std::string_view bytes);

/// Lower-case hex of any bytes ("" for none).
std::string to_hex(std::string_view bytes);
inline std::string to_hex(const digest& d) {
  return to_hex(std::string_view{reinterpret_cast<const char*>(d.data()), d.size()});
}
/// The bytes of a hex string (either case), or false when it is not hex.
bool from_hex(std::string_view hex, std::string& out);

}  // namespace ballot::backup
