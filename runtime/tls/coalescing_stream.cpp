#include "runtime/tls/coalescing_stream.hpp"

#include <cstring>

namespace ballot::tls {

namespace {

/// Past this, a message is written in its pieces: the copy would cost more
/// than the records it saves (TLS cuts records at 16 KiB anyway).
constexpr size_t max_coalesced_bytes = 64u << 10;

}  // namespace

kj::Promise<void> coalescing_stream::write(
  kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) {
  size_t total = 0;
  for (auto& piece : pieces)
    total += piece.size();
  if (pieces.size() <= 1 || total > max_coalesced_bytes)
    return inner().write(pieces);
  auto buffer = kj::heapArray<kj::byte>(total);
  size_t at = 0;
  for (auto& piece : pieces) {
    if (piece.size() > 0)
      std::memcpy(buffer.begin() + at, piece.begin(), piece.size());
    at += piece.size();
  }
  auto written = inner().write(buffer.begin(), buffer.size());
  return written.attach(kj::mv(buffer));
}

}  // namespace ballot::tls
