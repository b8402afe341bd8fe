#pragma once

// A throwaway certificate authority for TLS tests, made at run time with the
// `openssl` command in a temporary directory (no key is ever committed), and
// removed with it. Header-only, so any test target can use it.
//
//     ballot::testing::test_certs pki;                        // a CA
//     auto srv = pki.issue("server", "node-1", {"DNS:localhost", "IP:127.0.0.1"});
//     auto cli = pki.issue("alice", "alice");                 // a client certificate, CN alice
//     ballot::testing::test_certs other{"Other CA"};          // an unrelated CA
//     auto stranger = other.issue("mallory", "mallory");
//     // pki.ca_cert(), srv.cert, srv.key: PEM file paths
//
// Every certificate may serve as a TLS server and as a TLS client
// (extendedKeyUsage serverAuth, clientAuth), so the same helper fits client
// TLS and mutual TLS between members. Keys are EC P-256 (fast to make),
// unencrypted, in PKCS#8 PEM.

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace ballot::testing {

/// A certificate and its private key, as PEM file paths.
struct cert_files {
  std::string cert;
  std::string key;
};

class test_certs {
 public:
  /// Makes a temporary directory and a self-signed CA named `ca_name` in it.
  /// Throws std::runtime_error (with openssl's output) if that fails.
  explicit test_certs(const std::string& ca_name = "Ballot Test CA") {
    std::string pattern = (std::filesystem::temp_directory_path() / "ballot-certs-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("test_certs: mkdtemp failed");
    dir_ = pattern;
    ca_cert_ = dir_ + "/ca.pem";
    ca_key_ = dir_ + "/ca.key";
    run(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
      " -subj " +
      quote("/CN=" + ca_name) + " -keyout " + quote(ca_key_) + " -out " + quote(ca_cert_) +
      " -addext basicConstraints=critical,CA:TRUE" +
      " -addext keyUsage=critical,keyCertSign,cRLSign");
  }

  ~test_certs() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  test_certs(const test_certs&) = delete;
  test_certs& operator=(const test_certs&) = delete;

  /// The temporary directory everything lives in.
  const std::string& dir() const { return dir_; }
  /// The CA's certificate (PEM): what clients and servers are told to trust.
  const std::string& ca_cert() const { return ca_cert_; }
  /// The CA's private key (PEM).
  const std::string& ca_key() const { return ca_key_; }

  /// Issues a certificate signed by this CA with subject CN `common_name`
  /// and the given subjectAltName entries ("DNS:localhost", "IP:127.0.0.1",
  /// "URI:..."), into `<dir>/<file_name>.pem` and `.key`.
  cert_files issue(const std::string& file_name, const std::string& common_name,
                   const std::vector<std::string>& subject_alt_names = {}) {
    cert_files out{dir_ + "/" + file_name + ".pem", dir_ + "/" + file_name + ".key"};
    auto csr = dir_ + "/" + file_name + ".csr";
    auto ext = dir_ + "/" + file_name + ".ext";
    {
      std::ofstream f{ext};
      f << "basicConstraints=CA:FALSE\n"
        << "keyUsage=critical,digitalSignature,keyEncipherment\n"
        << "extendedKeyUsage=serverAuth,clientAuth\n";
      if (!subject_alt_names.empty()) {
        f << "subjectAltName=";
        for (std::size_t i = 0; i < subject_alt_names.size(); ++i)
          f << (i ? "," : "") << subject_alt_names[i];
        f << "\n";
      }
    }
    run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj " +
        quote("/CN=" + common_name) + " -keyout " + quote(out.key) + " -out " + quote(csr));
    run("openssl x509 -req -days 2 -in " + quote(csr) + " -CA " + quote(ca_cert_) + " -CAkey " +
        quote(ca_key_) + " -CAserial " + quote(dir_ + "/ca.srl") + " -CAcreateserial -extfile " +
        quote(ext) + " -out " + quote(out.cert));
    return out;
  }

  /// Whether the `openssl` command can be run (tests skip without it).
  static bool openssl_available() { return std::system("openssl version >/dev/null 2>&1") == 0; }

 private:
  static std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s)
      out += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
    return out + "'";
  }

  void run(const std::string& command) const {
    auto log = dir_ + "/openssl.log";
    if (std::system((command + " >" + quote(log) + " 2>&1").c_str()) != 0) {
      std::ifstream f{log};
      std::string output{std::istreambuf_iterator<char>{f}, std::istreambuf_iterator<char>{}};
      throw std::runtime_error("test_certs: `" + command + "` failed: " + output);
    }
  }

  std::string dir_;
  std::string ca_cert_;
  std::string ca_key_;
};

}  // namespace ballot::testing
