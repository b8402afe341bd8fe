// Mutual TLS between ballotd members (issue 11, part 1): a TLS cluster serves
// put, get and lock; a fourth process without a certificate, with one from
// another CA, or with member 2's certificate while claiming id 3 is refused
// (its frames dropped and counted), and the cluster keeps agreeing.
#include <fstream>
#include <thread>

#include "tests/process/peer_security.hpp"
#include "tests/support/test_certs.hpp"

namespace {

using namespace ballot::testing;
using namespace std::chrono_literals;

class PeerTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test_certs::openssl_available())
      GTEST_SKIP() << "no openssl command to make the certificates";
    pki = std::make_unique<test_certs>();
    cluster.use_peer_tls(*pki);
  }

  std::unique_ptr<test_certs> pki;
  cluster_processes cluster;
};

TEST_F(PeerTlsTest, ThreeTlsMembersServePutGetAndLock) {
  cluster.start_all();
  ASSERT_NE(cluster.leader(), 0u) << "no leader elected over TLS";
  write_keys(cluster, 20, "tls");
  check_keys(cluster, 20, "tls");
  // A lock through ballotctl, with its fencing token in CMD's environment.
  auto r =
    run_program({BALLOTCTL_BIN, "--endpoints", joined_endpoints(cluster), "--timeout", "10", "lock",
                 "tls-lock", "--wait", "5", "--", "sh", "-c", "echo token=$BALLOT_FENCING_TOKEN"});
  ASSERT_EQ(r.code, std::optional<int>{0}) << r.out << r.err;
  EXPECT_NE(r.out.find("token="), std::string::npos);
  EXPECT_EQ(r.out.find("token=\n"), std::string::npos) << r.out;
  // Every member authenticated the others: the links came up over TLS.
  for (std::size_t id = 1; id <= 3; ++id) {
    auto& err = cluster.node(id).err();
    for (std::size_t other = 1; other <= 3; ++other)
      if (other != id) {
        EXPECT_NE(err.find("peer link to member " + std::to_string(other)), std::string::npos)
          << "node " << id << ":\n"
          << err;
      }
  }
  check_elects_after_killing_the_leader(cluster, 20, "tls");
}

TEST_F(PeerTlsTest, StrangersAreRefusedAndTheClusterKeepsAgreeing) {
  cluster.start_all();
  ASSERT_NE(cluster.leader(), 0u);
  write_keys(cluster, 10, "before");
  auto other_ca = std::make_unique<test_certs>("Another CA");
  auto foreign = other_ca->issue("member-3-foreign", "member-3", {"DNS:member-3"});
  auto member2 = pki->issue("member-2-copy", "member-2", {"DNS:member-2"});

  // A fourth ballotd that calls itself member 3, with a peer port of its own
  // (the real member 3 holds 3's), dialing members 1 and 2. It carries the
  // cluster's id (its --peers would derive another, refused as
  // foreign_cluster before the checks this test is about).
  std::string cluster_id;
  std::getline(std::ifstream{cluster.data_dir(1) / "cluster-id"}, cluster_id);
  auto fourth = [&](std::vector<std::string> tls_flags, const std::string& name) {
    auto dir = cluster.dir() / ("fourth-" + name);
    std::string peers = "1=127.0.0.1:" + std::to_string(cluster.peer_port(1)) +
                        ",2=127.0.0.1:" + std::to_string(cluster.peer_port(2)) +
                        ",3=127.0.0.1:" + std::to_string(free_port());
    std::vector<std::string> argv{BALLOTD_BIN,
                                  "--id",
                                  "3",
                                  "--peers",
                                  peers,
                                  "--client",
                                  "127.0.0.1:" + std::to_string(free_port()),
                                  "--data-dir",
                                  dir.string(),
                                  "--cluster-id",
                                  cluster_id};
    argv.insert(argv.end(), tls_flags.begin(), tls_flags.end());
    return std::make_unique<process>(argv);
  };
  std::vector<std::unique_ptr<process>> intruders;
  intruders.push_back(fourth({}, "plain"));
  intruders.push_back(fourth(
    {"--peer-cacert", pki->ca_cert(), "--peer-cert", foreign.cert, "--peer-key", foreign.key},
    "foreign"));
  intruders.push_back(fourth(
    {"--peer-cacert", pki->ca_cert(), "--peer-cert", member2.cert, "--peer-key", member2.key},
    "member2"));
  // While they try, the cluster keeps serving.
  ballot::client::client c{cluster.client_options()};
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(c.put("during-" + std::to_string(i), "v").ok()) << i;
    std::this_thread::sleep_for(100ms);
  }
  // Members 1 and 2 refused the handshakes and dropped the frames in member 3's
  // name that came with member 2's certificate; they said so on stderr.
  std::string logs;
  for (std::size_t id = 1; id <= 2; ++id)
    logs += cluster.node(id).err();
  EXPECT_NE(logs.find("tls_handshake"), std::string::npos) << logs;
  EXPECT_NE(logs.find("from_mismatch"), std::string::npos) << logs;
  // The intruders never joined: none of them got past its empty-directory
  // check (no member answered it).
  for (auto& p : intruders) {
    EXPECT_EQ(p->err().find("joining a new cluster"), std::string::npos) << p->err();
    p->kill(SIGKILL);
    p->wait_exit(5s);
  }
  check_keys(cluster, 10, "before");
  auto st = c.status();
  EXPECT_NE(st.leader_id, 0u);
  check_elects_after_killing_the_leader(cluster, 10, "before");
}

TEST(PeerTlsStartTest, MissingFilesAndNonLoopbackPeersWithoutTlsExitTwo) {
  if (!test_certs::openssl_available())
    GTEST_SKIP() << "no openssl command";
  test_certs pki;
  auto m1 = pki.issue("member-1", "member-1", {"DNS:member-1"});
  auto base = [&](std::string peers) {
    return std::vector<std::string>{BALLOTD_BIN,
                                    "--id",
                                    "1",
                                    "--peers",
                                    peers,
                                    "--client",
                                    "127.0.0.1:" + std::to_string(free_port()),
                                    "--data-dir",
                                    pki.dir() + "/d"};
  };
  auto lo = "1=127.0.0.1:" + std::to_string(free_port()) + ",2=127.0.0.1:1";
  auto args = base(lo);
  for (auto s : {"--peer-cacert", pki.ca_cert().c_str(), "--peer-cert", m1.cert.c_str(),
                 "--peer-key", "/nonexistent/member-1.key"})
    args.push_back(s);
  auto r = run_program(args, 15s);
  EXPECT_EQ(r.code, std::optional<int>{2});
  EXPECT_NE(r.err.find("--peer-key /nonexistent/member-1.key"), std::string::npos) << r.err;
  // A file that is not PEM: exit 2, naming peer TLS.
  args = base(lo);
  for (auto s : {"--peer-cacert", m1.key.c_str(), "--peer-cert", m1.key.c_str(), "--peer-key",
                 m1.key.c_str()})
    args.push_back(s);
  r = run_program(args, 15s);
  EXPECT_EQ(r.code, std::optional<int>{2}) << r.err;
  EXPECT_NE(r.err.find("TLS"), std::string::npos) << r.err;
  // Members elsewhere, no TLS and no --insecure-peers: exit 2, naming TLS.
  r = run_program(base("1=127.0.0.1:" + std::to_string(free_port()) + ",2=198.18.0.2:7412"), 15s);
  EXPECT_EQ(r.code, std::optional<int>{2});
  EXPECT_NE(r.err.find("TLS"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--insecure-peers"), std::string::npos) << r.err;
}

}  // namespace
