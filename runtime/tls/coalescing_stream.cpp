#include "runtime/tls/coalescing_stream.hpp"

#include <cstring>

namespace ballot::tls {

namespace {

/// Past this, a message is written in its pieces: the copy would cost more
/// than the records it saves (TLS cuts records at 16 KiB anyway).
constexpr size_t max_coalesced_bytes = 64u << 10;

}  // namespace

kj::Promise<size_t> coalescing_stream::tryRead(void* buffer, size_t min_bytes, size_t max_bytes) {
  return inner_->tryRead(buffer, min_bytes, max_bytes);
}

kj::Promise<void> coalescing_stream::write(const void* buffer, size_t size) {
  return inner_->write(buffer, size);
}

kj::Promise<void> coalescing_stream::write(
  kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) {
  size_t total = 0;
  for (auto& piece : pieces)
    total += piece.size();
  if (pieces.size() <= 1 || total > max_coalesced_bytes)
    return inner_->write(pieces);
  auto buffer = kj::heapArray<kj::byte>(total);
  size_t at = 0;
  for (auto& piece : pieces) {
    if (piece.size() > 0)
      std::memcpy(buffer.begin() + at, piece.begin(), piece.size());
    at += piece.size();
  }
  auto written = inner_->write(buffer.begin(), buffer.size());
  return written.attach(kj::mv(buffer));
}

kj::Promise<void> coalescing_stream::whenWriteDisconnected() {
  return inner_->whenWriteDisconnected();
}

void coalescing_stream::shutdownWrite() {
  inner_->shutdownWrite();
}

void coalescing_stream::abortRead() {
  inner_->abortRead();
}

void coalescing_stream::getsockopt(int level, int option, void* value, kj::uint* length) {
  inner_->getsockopt(level, option, value, length);
}

void coalescing_stream::setsockopt(int level, int option, const void* value, kj::uint length) {
  inner_->setsockopt(level, option, value, length);
}

void coalescing_stream::getsockname(struct sockaddr* addr, kj::uint* length) {
  inner_->getsockname(addr, length);
}

void coalescing_stream::getpeername(struct sockaddr* addr, kj::uint* length) {
  inner_->getpeername(addr, length);
}

}  // namespace ballot::tls
