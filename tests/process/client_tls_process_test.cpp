// Client TLS with real processes: three `ballotd` nodes serving their client
// endpoints over TLS with client certificates required, and `ballotctl` with
// and without the right certificate. The CA and certificates are made at run
// time (tests/support/test_certs.hpp).
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "tests/process/cluster_fixture.hpp"
#include "tests/support/test_certs.hpp"

namespace {

using namespace ballot;
using namespace std::chrono_literals;
namespace certs = ballot::testing;

struct ctl_result {
  int code = -1;
  std::string out;
  std::string err;
};

ctl_result run(std::vector<std::string> argv, std::chrono::milliseconds wait = 30s) {
  certs::process p{std::move(argv)};
  ctl_result r;
  r.code = p.exit_code(wait).value_or(-1);
  r.out = p.out();
  r.err = p.err();
  return r;
}

class ClientTlsProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!certs::test_certs::openssl_available())
      GTEST_SKIP() << "the openssl command is not installed";
    pki.emplace();
    other.emplace("Another CA");
    // One certificate for every node: the name clients check is localhost.
    node = pki->issue("node", "ballot-node", {"DNS:localhost", "IP:127.0.0.1"});
    alice = pki->issue("alice", "alice");
    mallory = other->issue("mallory", "mallory");
  }

  /// Three nodes with TLS on their client endpoints, client certificates required.
  void start_cluster() {
    cluster.emplace();
    cluster->extra_flags = {"--client-cert",   node.cert,      "--client-key",      node.key,
                            "--client-cacert", pki->ca_cert(), "--client-cert-auth"};
    cluster->start_all();
  }

  /// ballotctl against the cluster with `tls_flags`, then `command`.
  ctl_result ctl(std::vector<std::string> tls_flags, std::vector<std::string> command,
                 std::string timeout = "5") {
    std::vector<std::string> argv{BALLOTCTL_BIN, "--endpoints", endpoints(), "--timeout", timeout};
    argv.insert(argv.end(), tls_flags.begin(), tls_flags.end());
    argv.insert(argv.end(), command.begin(), command.end());
    return run(argv);
  }

  std::string endpoints() const {
    std::string out;
    for (auto& e : cluster->endpoints())
      out += (out.empty() ? "" : ",") + e;
    return out;
  }

  std::vector<std::string> as_alice() const {
    return {"--cacert", pki->ca_cert(),      "--cert",   alice.cert, "--key",
            alice.key,  "--tls-server-name", "localhost"};
  }

  std::optional<certs::test_certs> pki;
  std::optional<certs::test_certs> other;
  certs::cert_files node, alice, mallory;
  std::optional<certs::cluster_processes> cluster;
};

TEST_F(ClientTlsProcessTest, ACertAuthClusterServesPutGetAndLockToACertifiedClient) {
  start_cluster();
  auto put = ctl(as_alice(), {"put", "color", "blue"});
  ASSERT_EQ(put.code, 0) << put.err;
  auto get = ctl(as_alice(), {"get", "color"});
  ASSERT_EQ(get.code, 0) << get.err;
  EXPECT_NE(get.out.find("blue"), std::string::npos) << get.out;
  auto lock = ctl(as_alice(), {"lock", "tls-lock", "--wait", "5", "--", "/bin/sh", "-c",
                               "echo token=$BALLOT_FENCING_TOKEN"});
  ASSERT_EQ(lock.code, 0) << lock.err;
  EXPECT_NE(lock.out.find("token="), std::string::npos) << lock.out;
  auto status = ctl(as_alice(), {"status"});
  EXPECT_EQ(status.code, 0) << status.err;
  // Dialled by the name in the certificate, no --tls-server-name is needed.
  std::vector<std::string> by_name{
    BALLOTCTL_BIN,  "--endpoints", "localhost:" + std::to_string(cluster->client_port(1)),
    "--timeout",    "5",           "--cacert",
    pki->ca_cert(), "--cert",      alice.cert,
    "--key",        alice.key,     "get",
    "color"};
  auto named = run(by_name);
  EXPECT_EQ(named.code, 0) << named.err;
}

TEST_F(ClientTlsProcessTest, ClientsWithoutTheRightCertificateAreRefusedAndOthersServed) {
  start_cluster();
  // No certificate: the nodes refuse the handshake; ballotctl reports the
  // cluster unavailable (exit 3) within its timeout.
  auto none =
    ctl({"--cacert", pki->ca_cert(), "--tls-server-name", "localhost"}, {"get", "color"}, "2");
  EXPECT_EQ(none.code, 3) << none.err;
  // A certificate from another CA.
  auto stranger = ctl({"--cacert", pki->ca_cert(), "--cert", mallory.cert, "--key", mallory.key,
                       "--tls-server-name", "localhost"},
                      {"put", "k", "v"}, "2");
  EXPECT_EQ(stranger.code, 3) << stranger.err;
  // Plaintext against a TLS endpoint.
  auto plain = ctl({}, {"put", "k", "v"}, "2");
  EXPECT_EQ(plain.code, 3) << plain.err;
  // A client that trusts another CA refuses the nodes.
  auto distrust = ctl({"--cacert", other->ca_cert(), "--cert", mallory.cert, "--key", mallory.key,
                       "--tls-server-name", "localhost"},
                      {"put", "k", "v"}, "2");
  EXPECT_EQ(distrust.code, 3) << distrust.err;
  EXPECT_NE(distrust.err.find("TLS handshake failed"), std::string::npos) << distrust.err;
  // The nodes go on serving a good client.
  auto put = ctl(as_alice(), {"put", "k", "v"});
  EXPECT_EQ(put.code, 0) << put.err;
}

TEST_F(ClientTlsProcessTest, UnusableTlsFlagsExitTwoNamingTheFlagAndThePath) {
  auto dir = pki->dir();
  auto ballotd = [&](std::vector<std::string> flags) {
    std::vector<std::string> argv{BALLOTD_BIN, "--client",
                                  "127.0.0.1:" + std::to_string(certs::free_port()), "--data-dir",
                                  dir + "/data"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    return run(argv, 15s);
  };
  auto missing = ballotd({"--client-cert", node.cert, "--client-key", dir + "/absent.key"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("--client-key"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find(dir + "/absent.key"), std::string::npos) << missing.err;

  auto not_a_cert = ballotd({"--client-cert", node.key, "--client-key", node.key});
  EXPECT_EQ(not_a_cert.code, 2);
  EXPECT_NE(not_a_cert.err.find("--client-cert"), std::string::npos) << not_a_cert.err;

  auto wrong_key = ballotd({"--client-cert", node.cert, "--client-key", alice.key});
  EXPECT_EQ(wrong_key.code, 2);
  EXPECT_NE(wrong_key.err.find("does not belong"), std::string::npos) << wrong_key.err;

  auto no_ca =
    ballotd({"--client-cert", node.cert, "--client-key", node.key, "--client-cert-auth"});
  EXPECT_EQ(no_ca.code, 2);
  EXPECT_NE(no_ca.err.find("--client-cacert"), std::string::npos) << no_ca.err;

  auto alone = ballotd({"--client-cert", node.cert});
  EXPECT_EQ(alone.code, 2);
  EXPECT_NE(alone.err.find("--client-key"), std::string::npos) << alone.err;

  std::vector<std::string> ctl_missing{BALLOTCTL_BIN, "--cacert", dir + "/absent.pem", "get", "k"};
  auto bad_ctl = run(ctl_missing);
  EXPECT_EQ(bad_ctl.code, 2);
  EXPECT_NE(bad_ctl.err.find(dir + "/absent.pem"), std::string::npos) << bad_ctl.err;
}

}  // namespace
