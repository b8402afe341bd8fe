#pragma once

#include <kj/async-io.h>
#include <kj/compat/tls.h>
#include <kj/memory.h>
#include <kj/time.h>

#include "runtime/peer/transport.hpp"

/// The TLS context of the peer port: mutual TLS in which the cluster's CA is
/// the only issuer trusted, for the connections a member dials and accepts.
namespace ballot::peer {

class peer_tls {
 public:
  /// Throws std::runtime_error naming what is wrong with the material.
  peer_tls(const tls_material& material, kj::Timer& timer, kj::Duration handshake_timeout);

  kj::TlsContext& context() { return *context_; }

 private:
  // The context refers to these: declared first, destroyed after it.
  kj::Maybe<kj::TlsCertificate> ca_;
  kj::Maybe<kj::TlsKeypair> keypair_;
  kj::Own<kj::TlsContext> context_;
};

}  // namespace ballot::peer
