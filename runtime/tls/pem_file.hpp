#pragma once

#include <string>

/// Reading the PEM files of client TLS (certificates, private keys, CAs) and
/// checking them up front, so that a wrong file is a usage error that names
/// it instead of a handshake that fails later for every client.
namespace ballot::tls {

/// What a PEM file must hold.
enum class pem_kind {
  certificate,  ///< one certificate, or a chain (leaf first)
  private_key,  ///< an unencrypted private key (PKCS#8 or traditional RSA/EC)
};

/// Reads `path` and checks that OpenSSL takes its text as `kind`. Returns the
/// text. Throws std::invalid_argument with a message that names the path and
/// says what is wrong ("cannot read /x: No such file or directory", "/x holds
/// no PEM certificate: ...").
std::string read_pem_file(const std::string& path, pem_kind kind);

/// Empty when `key_pem` is the private key of `cert_pem`'s (first)
/// certificate; otherwise why not.
std::string keypair_problem(const std::string& cert_pem, const std::string& key_pem);

}  // namespace ballot::tls
