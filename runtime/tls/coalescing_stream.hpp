#pragma once

#include <kj/async-io.h>

namespace ballot::tls {

/// Hands each multi-piece write of a small message to the wrapped TLS stream
/// as one buffer. KJ's TLS stream makes one SSL_write per piece, so a Cap'n
/// Proto message (its segment table, then its segments) would go out as
/// several TLS records, each with its own framing, encryption call and
/// possibly socket write, and the reader would wake for each. Copying a small
/// message once is cheaper; large ones (past 64 KiB) are passed on in pieces.
class coalescing_stream final : public kj::AsyncIoStream {
 public:
  explicit coalescing_stream(kj::Own<kj::AsyncIoStream> inner) : inner_(kj::mv(inner)) {}

  kj::Promise<size_t> tryRead(void* buffer, size_t min_bytes, size_t max_bytes) override;
  kj::Promise<void> write(const void* buffer, size_t size) override;
  kj::Promise<void> write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) override;
  kj::Promise<void> whenWriteDisconnected() override;
  void shutdownWrite() override;
  void abortRead() override;
  void getsockopt(int level, int option, void* value, kj::uint* length) override;
  void setsockopt(int level, int option, const void* value, kj::uint length) override;
  void getsockname(struct sockaddr* addr, kj::uint* length) override;
  void getpeername(struct sockaddr* addr, kj::uint* length) override;

 private:
  kj::Own<kj::AsyncIoStream> inner_;
};

}  // namespace ballot::tls
