#include "runtime/tls/pem_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <kj/compat/tls.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace ballot::tls {

namespace {

/// KJ's OpenSSL errors carry a source location and a stack; the reason is the
/// last line of the description.
std::string reason(const kj::Exception& e) {
  std::string text = e.getDescription().cStr();
  auto nl = text.find_last_of('\n');
  return nl == std::string::npos ? text : text.substr(nl + 1);
}

}  // namespace

std::string read_pem_file(const std::string& path, pem_kind kind) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    throw std::invalid_argument("cannot read " + path + ": " + std::strerror(errno));
  std::string text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  if (in.bad())
    throw std::invalid_argument("cannot read " + path + ": " + std::strerror(errno));
  auto what = kind == pem_kind::certificate ? "a PEM certificate" : "a PEM private key";
  if (text.find("-----BEGIN ") == std::string::npos)
    throw std::invalid_argument(path + " holds no " + std::string{what} + " (no -----BEGIN line)");
  KJ_IF_MAYBE (e, kj::runCatchingExceptions([&] {
                 if (kind == pem_kind::certificate)
                   kj::TlsCertificate{kj::StringPtr{text.c_str(), text.size()}};
                 else
                   kj::TlsPrivateKey{kj::StringPtr{text.c_str(), text.size()}};
               })) {
    throw std::invalid_argument(path + " is not " + std::string{what} +
                                " OpenSSL can use: " + reason(*e));
  }
  return text;
}

std::string keypair_problem(const std::string& cert_pem, const std::string& key_pem) {
  // Asked of OpenSSL itself: KJ's context takes a key that does not match
  // its certificate without a word (OpenSSL drops the key), and every
  // handshake would fail later.
  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio{
    BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())), &BIO_free};
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio{
    BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())), &BIO_free};
  if (!cert_bio || !key_bio)
    return "out of memory";
  std::unique_ptr<X509, decltype(&X509_free)> cert{
    PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr), &X509_free};
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{
    PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free};
  ERR_clear_error();
  if (!cert)
    return "the certificate cannot be read";
  if (!key)
    return "the private key cannot be read";
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return "the key does not belong to the certificate";
  }
  return {};
}

}  // namespace ballot::tls
