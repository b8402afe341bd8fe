#pragma once

#include "runtime/tls/forwarding_stream.hpp"

namespace ballot::tls {

/// Hands each multi-piece write of a small message to the wrapped TLS stream
/// as one buffer. KJ's TLS stream makes one SSL_write per piece, so a Cap'n
/// Proto message (its segment table, then its segments) would go out as
/// several TLS records, each with its own framing, encryption call and
/// possibly socket write, and the reader would wake for each. Copying a small
/// message once is cheaper; large ones (past 64 KiB) are passed on in pieces.
class coalescing_stream final : public forwarding_stream {
 public:
  using forwarding_stream::forwarding_stream;
  using forwarding_stream::write;

  kj::Promise<void> write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) override;
};

}  // namespace ballot::tls
