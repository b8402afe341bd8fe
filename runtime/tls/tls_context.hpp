#pragma once

#include <memory>
#include <string>

#include <kj/compat/tls.h>

/// KJ TLS contexts for the client port, built from PEM text (see pem_file.hpp
/// for reading and checking files). Both sides trust only the CA they are
/// given, never the system's store: a Ballot cluster has its own CA.
namespace ballot::tls {

/// A KJ TLS context together with the certificates and keys it was made
/// from (KJ refers to them). Thread-compatible: wrap streams on one thread.
class context {
 public:
  /// The server side: presents `cert_pem` (a chain, leaf first) with
  /// `key_pem`. With `require_client_cert`, the handshake fails unless the
  /// client presents a certificate signed by `client_ca_pem`.
  /// Throws std::invalid_argument saying what is wrong with the material.
  static std::unique_ptr<context> server(const std::string& cert_pem, const std::string& key_pem,
                                         const std::string& client_ca_pem,
                                         bool require_client_cert);

  /// The client side: accepts only servers whose certificate `ca_pem`
  /// signed and that name the host it dials (see `wrapClient`); presents
  /// `cert_pem` with `key_pem` when both are given.
  static std::unique_ptr<context> client(const std::string& ca_pem, const std::string& cert_pem,
                                         const std::string& key_pem);

  kj::TlsContext& kj() { return *context_; }

 private:
  context() = default;

  kj::Maybe<kj::TlsKeypair> keypair_;
  kj::Array<kj::TlsCertificate> trusted_;
  kj::Own<kj::TlsContext> context_;
};

}  // namespace ballot::tls
