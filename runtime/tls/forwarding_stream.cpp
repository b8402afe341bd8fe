#include "runtime/tls/forwarding_stream.hpp"

namespace ballot::tls {

kj::Promise<size_t> forwarding_stream::tryRead(void* buffer, size_t min_bytes, size_t max_bytes) {
  return inner_->tryRead(buffer, min_bytes, max_bytes);
}

kj::Promise<void> forwarding_stream::write(const void* buffer, size_t size) {
  return inner_->write(buffer, size);
}

kj::Promise<void> forwarding_stream::write(
  kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) {
  return inner_->write(pieces);
}

kj::Promise<void> forwarding_stream::whenWriteDisconnected() {
  return inner_->whenWriteDisconnected();
}

void forwarding_stream::shutdownWrite() {
  inner_->shutdownWrite();
}

void forwarding_stream::abortRead() {
  inner_->abortRead();
}

void forwarding_stream::getsockopt(int level, int option, void* value, kj::uint* length) {
  inner_->getsockopt(level, option, value, length);
}

void forwarding_stream::setsockopt(int level, int option, const void* value, kj::uint length) {
  inner_->setsockopt(level, option, value, length);
}

void forwarding_stream::getsockname(struct sockaddr* addr, kj::uint* length) {
  inner_->getsockname(addr, length);
}

void forwarding_stream::getpeername(struct sockaddr* addr, kj::uint* length) {
  inner_->getpeername(addr, length);
}

}  // namespace ballot::tls
