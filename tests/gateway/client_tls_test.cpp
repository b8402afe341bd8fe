// TLS on the client port: the gateway with a certificate from a CA made at
// run time (tests/support/test_certs.hpp), clients that trust that CA or
// another, client certificates required or not, and sockets that never finish
// their handshake. Every refusal is one connection's: the gateway goes on
// serving everyone else.
#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>

#include "runtime/tls/tls_context.hpp"
#include "schemas/client.capnp.h"
#include "tests/gateway/cluster_fixture.hpp"
#include "tests/gateway/raw_socket.hpp"
#include "tests/support/test_certs.hpp"

namespace {

using namespace ballot;
using namespace std::chrono_literals;
using kv::result_code;
namespace certs = ballot::testing;

std::string slurp(const std::string& path) {
  std::ifstream in{path};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

class ClientTlsTest : public test_support::ClusterFixture {
 protected:
  void SetUp() override {
    if (!certs::test_certs::openssl_available())
      GTEST_SKIP() << "the openssl command is not installed";
    pki.emplace();
    other.emplace("Another CA");
    // The name clients check is "localhost" (see client::options::tls): KJ's
    // TLS matches DNS names only, so the IP entry is for other tools.
    server = pki->issue("server", "ballot-node", {"DNS:localhost", "IP:127.0.0.1"});
    alice = pki->issue("alice", "alice");
    mallory = other->issue("mallory", "mallory");
  }

  /// Gateways 1..3 with TLS; `client_cert_auth` requires client certificates.
  void start_tls_gateways(bool client_cert_auth = false,
                          std::chrono::milliseconds handshake_timeout = 10s,
                          std::size_t max_connections = 4096) {
    for (paxos::node_id id : {1, 2, 3}) {
      auto opts = gateway_options(id);
      opts.tls.cert_pem = slurp(server.cert);
      opts.tls.key_pem = slurp(server.key);
      opts.tls.client_ca_pem = slurp(pki->ca_cert());
      opts.tls.client_cert_auth = client_cert_auth;
      opts.handshake_timeout = handshake_timeout;
      opts.max_connections = max_connections;
      opts.on_connect = [this](const gateway::connection_context& who) {
        std::lock_guard<std::mutex> guard{seen_mutex};
        seen.push_back(who);
      };
      gateways[id] = gateway::start(sys, opts, gateway::find_in(group));
    }
  }

  /// A client of every gateway over TLS, trusting `ca` (default: the CA).
  std::unique_ptr<client::client> tls_client(std::optional<certs::cert_files> cert = {},
                                             std::string ca = {},
                                             std::chrono::milliseconds timeout = 5s,
                                             std::string server_name = "localhost") {
    client::options o;
    o.endpoints = {endpoint_of(1), endpoint_of(2), endpoint_of(3)};
    o.timeout = timeout;
    o.attempt_timeout = std::min<std::chrono::milliseconds>(timeout, 1s);
    o.tls.ca_file = ca.empty() ? pki->ca_cert() : ca;
    o.tls.server_name = std::move(server_name);
    if (cert) {
      o.tls.cert_file = cert->cert;
      o.tls.key_file = cert->key;
    }
    return std::make_unique<client::client>(o);
  }

  std::vector<gateway::connection_context> connections() {
    std::lock_guard<std::mutex> guard{seen_mutex};
    return seen;
  }

  std::optional<certs::test_certs> pki;
  std::optional<certs::test_certs> other;
  certs::cert_files server, alice, mallory;
  std::mutex seen_mutex;
  std::vector<gateway::connection_context> seen;
};

TEST_F(ClientTlsTest, PutGetLockAndWatchOverTls) {
  start_tls_gateways();
  auto c = tls_client();
  std::atomic<int> events{0};
  auto w = c->watch("tls/", true, std::nullopt,
                    [&](std::vector<kv::event> evs, std::uint64_t) { events += evs.size(); });
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!w->started() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(w->started());

  auto put = c->put("tls/a", "secret");
  ASSERT_TRUE(put.ok()) << put.message;
  auto got = c->get("tls/a");
  ASSERT_TRUE(got.ok()) << got.message;
  EXPECT_EQ(got.value, "secret");

  auto s = c->open_session(5s);
  ASSERT_TRUE(s.ok()) << s.message;
  auto held = c->acquire(s.session, "tls-lock");
  ASSERT_TRUE(held.ok()) << held.message;
  EXPECT_TRUE(c->check_token("tls-lock", held.token).ok());
  EXPECT_TRUE(c->release(s.session, "tls-lock").ok());
  EXPECT_TRUE(c->close_session(s.session).ok());

  // A value past 64 KiB goes to the TLS stream in pieces (see coalescing_stream).
  std::string big(300u << 10, 'x');
  ASSERT_TRUE(c->put("tls/big", big).ok());
  auto big_back = c->get("tls/big");
  ASSERT_TRUE(big_back.ok()) << big_back.message;
  EXPECT_EQ(big_back.value, big);
  ASSERT_TRUE(c->put("tls/b", "2").ok());
  while (events < 3 && std::chrono::steady_clock::now() < deadline + 5s)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(events, 3);
  // Without client-cert-auth no certificate is asked for: no common name.
  for (auto& who : connections()) {
    EXPECT_EQ(who.address, "127.0.0.1");
    EXPECT_EQ(who.cert_common_name, "");
    EXPECT_EQ(who.user, "");
  }
}

TEST_F(ClientTlsTest, ANodeDialledByItsDnsNameVerifiesWithoutAServerNameOption) {
  start_tls_gateways();
  client::options o;
  o.endpoints = {"localhost:" + std::to_string(gateways.at(1)->port())};
  o.timeout = 5s;
  o.tls.ca_file = pki->ca_cert();
  client::client c{o};
  auto r = c.put("by-name", "v");
  EXPECT_TRUE(r.ok()) << r.message;
}

TEST_F(ClientTlsTest, AnIpAddressIsNotMatchedAgainstTheCertificatesIpEntry) {
  // Documents KJ's host check: with no server name given, the client checks
  // the endpoint's host, "127.0.0.1", as a DNS name; the certificate's
  // IP:127.0.0.1 entry does not match it.
  start_tls_gateways();
  auto c = tls_client({}, {}, 1500ms, "");
  auto r = c->put("k", "v");
  EXPECT_EQ(r.code, result_code::unavailable);
  EXPECT_NE(r.message.find("TLS handshake failed"), std::string::npos) << r.message;
}

TEST_F(ClientTlsTest, APlaintextClientFailsCleanlyAndOthersAreServed) {
  start_tls_gateways();
  auto plain = make_client({endpoint_of(1)}, 1500ms);
  auto started = std::chrono::steady_clock::now();
  auto r = plain->put("k", "v");
  EXPECT_EQ(r.code, result_code::unavailable) << r.message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  auto c = tls_client();
  auto ok = c->put("k", "v");
  EXPECT_TRUE(ok.ok()) << ok.message;
}

TEST_F(ClientTlsTest, AClientThatTrustsAnotherCaRefusesTheServer) {
  start_tls_gateways();
  auto c = tls_client({}, other->ca_cert(), 1500ms);
  auto r = c->put("k", "v");
  EXPECT_EQ(r.code, result_code::unavailable);
  EXPECT_NE(r.message.find("TLS handshake failed"), std::string::npos) << r.message;
  EXPECT_TRUE(tls_client()->put("k", "v").ok());
}

TEST_F(ClientTlsTest, ACaFileWithSeveralCasTrustsEachOfThem) {
  // What a move from one CA to another looks like: the bundle holds both.
  start_tls_gateways();
  auto bundle = pki->dir() + "/bundle.pem";
  {
    std::ofstream out{bundle};
    out << slurp(other->ca_cert()) << slurp(pki->ca_cert());
  }
  auto r = tls_client({}, bundle)->put("k", "v");
  EXPECT_TRUE(r.ok()) << r.message;
}

TEST_F(ClientTlsTest, ClientCertAuthRefusesAClientWithoutACertificate) {
  start_tls_gateways(true);
  auto r = tls_client({}, {}, 1500ms)->put("k", "v");
  // With TLS 1.3 the client's side of the handshake is done before the
  // server checks its certificate: the refusal arrives on the first call
  // (OpenSSL's "certificate required" alert, or the connection ending).
  EXPECT_EQ(r.code, result_code::unavailable);
  auto lower = r.message;
  for (auto& ch : lower)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  EXPECT_NE(lower.find("ssl"), std::string::npos) << r.message;
  EXPECT_TRUE(connections().empty());
}

TEST_F(ClientTlsTest, ClientCertAuthRefusesACertificateFromAnotherCa) {
  start_tls_gateways(true);
  auto r = tls_client(mallory, {}, 1500ms)->put("k", "v");
  EXPECT_EQ(r.code, result_code::unavailable);
  EXPECT_TRUE(connections().empty());
  // And the gateway serves the next client with a good certificate.
  EXPECT_TRUE(tls_client(alice)->put("k", "v").ok());
}

TEST_F(ClientTlsTest, ClientCertAuthHandsTheCommonNameToTheConnectionContext) {
  start_tls_gateways(true);
  auto c = tls_client(alice);
  auto r = c->put("k", "v");
  ASSERT_TRUE(r.ok()) << r.message;
  auto all = connections();
  ASSERT_FALSE(all.empty());
  for (auto& who : all) {
    EXPECT_EQ(who.cert_common_name, "alice");
    EXPECT_EQ(who.address, "127.0.0.1");
    EXPECT_EQ(who.user, "");  // authentication (users) sets it, not TLS
  }
}

TEST_F(ClientTlsTest, WhoAmIAnswersTheVerifiedCertificatesCommonName) {
  // End to end through the service: a raw Cap'n Proto client over KJ's TLS.
  start_tls_gateways(true);
  auto io = kj::setupAsyncIo();
  auto& ws = io.waitScope;
  auto ctx = tls::context::client(slurp(pki->ca_cert()), slurp(alice.cert), slurp(alice.key));
  auto addr = io.provider->getNetwork().parseAddress("127.0.0.1", gateways.at(1)->port()).wait(ws);
  auto stream = ctx->kj().wrapClient(addr->connect().wait(ws), "localhost").wait(ws);
  capnp::TwoPartyClient rpc{*stream};
  auto cap = rpc.bootstrap().castAs<schemas::client::Ballot>();
  auto answer = cap.whoAmIRequest().send().wait(ws);
  EXPECT_EQ(std::string{answer.getUser().cStr()}, "alice");
}

TEST_F(ClientTlsTest, ASocketThatNeverFinishesItsHandshakeIsClosedAfterTheTimeout) {
  start_tls_gateways(false, 400ms);
  auto port = gateways.at(1)->port();
  // One says nothing; the other starts a TLS record and stops.
  int silent = test_support::silent_socket(port);
  int partial = test_support::silent_socket(port);
  ASSERT_GE(silent, 0);
  ASSERT_GE(partial, 0);
  const char hello_start[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};
  ASSERT_EQ(::send(partial, hello_start, sizeof(hello_start), 0),
            static_cast<ssize_t>(sizeof(hello_start)));
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(test_support::closed_within(silent, 5s));
  EXPECT_TRUE(test_support::closed_within(partial, 5s));
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_GE(took, 300ms);  // not at once: it had its time
  EXPECT_LT(took, 4s);
  ::close(silent);
  ::close(partial);
  EXPECT_TRUE(tls_client()->put("k", "v").ok());
}

TEST_F(ClientTlsTest, HandshakingSocketsCountAgainstTheConnectionLimit) {
  start_tls_gateways(false, 10s, 2);
  auto port = gateways.at(1)->port();
  int a = test_support::silent_socket(port);
  int b = test_support::silent_socket(port);
  int c = test_support::silent_socket(port);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  ASSERT_GE(c, 0);
  // The third is over the limit while the first two still handshake.
  EXPECT_TRUE(test_support::closed_within(c, 2s));
  EXPECT_FALSE(test_support::closed_within(a, 200ms));
  ::close(a);
  ::close(b);
  ::close(c);
  std::this_thread::sleep_for(200ms);  // the gateway sees them go
  client::options o;
  o.endpoints = {endpoint_of(1)};
  o.timeout = 5s;
  o.tls.ca_file = pki->ca_cert();
  o.tls.server_name = "localhost";
  EXPECT_TRUE(client::client{o}.put("k", "v").ok());
}

TEST_F(ClientTlsTest, UnusableTlsFilesAreRefusedNamingTheFile) {
  client::options o;
  o.tls.ca_file = pki->dir() + "/missing.pem";
  try {
    client::client c{o};
    FAIL() << "a missing CA file was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string{e.what()}.find("missing.pem"), std::string::npos) << e.what();
  }
  o.tls.ca_file = pki->ca_cert();
  o.tls.cert_file = alice.cert;
  o.tls.key_file = mallory.key;  // another certificate's key
  try {
    client::client c{o};
    FAIL() << "a key of another certificate was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string{e.what()}.find("does not belong"), std::string::npos) << e.what();
  }
  auto opts = gateway_options(1);
  opts.tls.cert_pem = slurp(server.cert);
  opts.tls.key_pem = "not a key";
  EXPECT_THROW(gateway::start(sys, opts, gateway::find_in(group)), std::invalid_argument);
}

}  // namespace
