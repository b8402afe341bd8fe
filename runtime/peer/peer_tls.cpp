#include "runtime/peer/peer_tls.hpp"

#include <stdexcept>
#include <string>

#include <kj/debug.h>

namespace ballot::peer {

peer_tls::peer_tls(const tls_material& material, kj::Timer& timer, kj::Duration handshake_timeout) {
  auto loaded = kj::runCatchingExceptions([&] {
    ca_ = kj::TlsCertificate(material.ca_pem.c_str());
    keypair_ = kj::TlsKeypair{kj::TlsPrivateKey(material.key_pem.c_str()),
                              kj::TlsCertificate(material.cert_pem.c_str())};
  });
  KJ_IF_MAYBE (e, loaded)
    throw std::runtime_error(std::string{"cannot load the peer TLS material: "} +
                             e->getDescription().cStr());
  kj::TlsContext::Options o;
  o.useSystemTrustStore = false;
  // KJ 0.9 would otherwise accept TLS 1.0.
  o.minVersion = kj::TlsVersion::TLS_1_2;
  o.verifyClients = true;
  o.trustedCertificates = kj::arrayPtr(&KJ_ASSERT_NONNULL(ca_), 1);
  o.defaultKeypair = KJ_ASSERT_NONNULL(keypair_);
  o.timer = timer;
  o.acceptTimeout = handshake_timeout;
  auto made = kj::runCatchingExceptions([&] { context_ = kj::heap<kj::TlsContext>(o); });
  KJ_IF_MAYBE (e, made)
    throw std::runtime_error(std::string{"cannot use the peer TLS material: "} +
                             e->getDescription().cStr());
}

}  // namespace ballot::peer
