#include "runtime/tls/tls_context.hpp"

#include <stdexcept>

#include <kj/debug.h>
#include <kj/vector.h>

namespace ballot::tls {

namespace {

/// Every certificate of a CA file on its own: a bundle (two CAs while one
/// replaces the other) trusts each of them, not only the first.
kj::Array<kj::TlsCertificate> trust(const std::string& pem) {
  const std::string begin = "-----BEGIN CERTIFICATE-----";
  const std::string end = "-----END CERTIFICATE-----";
  kj::Vector<kj::TlsCertificate> out;
  for (auto at = pem.find(begin); at != std::string::npos; at = pem.find(begin, at)) {
    auto stop = pem.find(end, at);
    if (stop == std::string::npos)
      break;
    stop += end.size();
    auto one = pem.substr(at, stop - at) + "\n";
    out.add(kj::TlsCertificate{one.c_str()});
    at = stop;
  }
  if (out.empty())
    out.add(kj::TlsCertificate{pem.c_str()});  // throws, saying why
  return out.releaseAsArray();
}

}  // namespace

std::unique_ptr<context> context::server(const std::string& cert_pem, const std::string& key_pem,
                                         const std::string& client_ca_pem,
                                         bool require_client_cert) {
  if (cert_pem.empty() || key_pem.empty())
    throw std::invalid_argument("a TLS server needs a certificate and its private key");
  if (require_client_cert && client_ca_pem.empty())
    throw std::invalid_argument("requiring client certificates needs the CA that signs them");
  auto out = std::unique_ptr<context>{new context};
  KJ_IF_MAYBE (e, kj::runCatchingExceptions([&] {
                 out->keypair_ = kj::TlsKeypair{kj::TlsPrivateKey{key_pem.c_str()},
                                                kj::TlsCertificate{cert_pem.c_str()}};
                 if (!client_ca_pem.empty())
                   out->trusted_ = trust(client_ca_pem);
                 kj::TlsContext::Options o;
                 // Trust is the cluster's CA alone: a certificate some public
                 // CA issued to anyone must not pass as a client.
                 o.useSystemTrustStore = false;
                 // KJ 0.9 would still accept TLS 1.0 and 1.1.
                 o.minVersion = kj::TlsVersion::TLS_1_2;
                 o.verifyClients = require_client_cert;
                 o.trustedCertificates = out->trusted_;
                 o.defaultKeypair = KJ_ASSERT_NONNULL(out->keypair_);
                 out->context_ = kj::heap<kj::TlsContext>(o);
               })) {
    throw std::invalid_argument(std::string{"cannot set up TLS: "} + e->getDescription().cStr());
  }
  return out;
}

std::unique_ptr<context> context::client(const std::string& ca_pem, const std::string& cert_pem,
                                         const std::string& key_pem) {
  if (ca_pem.empty())
    throw std::invalid_argument("a TLS client needs the CA that signed the servers' certificates");
  if (cert_pem.empty() != key_pem.empty())
    throw std::invalid_argument("a client certificate needs its private key, and the other way");
  auto out = std::unique_ptr<context>{new context};
  KJ_IF_MAYBE (e, kj::runCatchingExceptions([&] {
                 if (!cert_pem.empty())
                   out->keypair_ = kj::TlsKeypair{kj::TlsPrivateKey{key_pem.c_str()},
                                                  kj::TlsCertificate{cert_pem.c_str()}};
                 out->trusted_ = trust(ca_pem);
                 kj::TlsContext::Options o;
                 o.useSystemTrustStore = false;
                 // KJ 0.9 would still accept TLS 1.0 and 1.1.
                 o.minVersion = kj::TlsVersion::TLS_1_2;
                 o.trustedCertificates = out->trusted_;
                 KJ_IF_MAYBE (pair, out->keypair_)
                   o.defaultKeypair = *pair;
                 out->context_ = kj::heap<kj::TlsContext>(o);
               })) {
    throw std::invalid_argument(std::string{"cannot set up TLS: "} + e->getDescription().cStr());
  }
  return out;
}

}  // namespace ballot::tls
