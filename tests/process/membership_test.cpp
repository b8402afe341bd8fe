// Changing the membership of a running cluster of real ballotd processes
// (README "Changing the membership"): a dead follower replaced under load,
// 3 -> 5 -> 3 under load, refusals of unsafe joins. Every run ends with the
// workload's checks: acknowledged writes are all there, and the history of
// the shared keys is linearizable.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "tests/process/kv_workload.hpp"
#include "tests/support/test_certs.hpp"

namespace {

using namespace ballot::testing;
using namespace std::chrono_literals;
using ballot::client::client;

/// The members as the leader lists them: id -> learner?
std::map<std::uint32_t, bool> roles(client& c) {
  auto l = c.member_list();
  EXPECT_TRUE(l.ok()) << l.message;
  std::map<std::uint32_t, bool> out;
  for (auto& m : l.members)
    out[m.id] = m.learner;
  return out;
}

/// Promotes `id`, retrying while the leader says it is still behind.
void promote(client& c, std::uint32_t id) {
  auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    auto r = c.member_promote(id);
    if (r.ok()) {
      EXPECT_EQ(r.id, id);
      return;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline)
      << "member " << id << " was never promoted: " << r.message;
    std::this_thread::sleep_for(200ms);
  }
}

std::vector<std::string> endpoints_of(cluster_processes& cluster,
                                      std::initializer_list<std::size_t> ids) {
  std::vector<std::string> out;
  for (auto id : ids)
    out.push_back(cluster.client_endpoint(id));
  return out;
}

TEST(MembershipProcessTest, ADeadFollowerIsReplacedUnderLoadAndTheNewMemberVotes) {
  cluster_processes cluster;
  cluster.reserve(4);
  cluster.start_all();
  auto leader = cluster.leader();
  ASSERT_NE(leader, 0u);
  std::size_t dead = leader % 3 + 1;
  std::size_t other = 6 - leader - dead;
  workload load(cluster, 4);
  std::this_thread::sleep_for(1s);

  // The follower dies with its disk.
  cluster.kill9(dead);
  std::filesystem::remove_all(cluster.data_dir(dead));

  auto opts = cluster.client_options();
  opts.timeout = 10s;
  client c{opts};
  // The replacement: a learner first (its id is the next one: 4).
  auto added = c.member_add(cluster.peer_address(4), cluster.client_endpoint(4));
  ASSERT_TRUE(added.ok()) << added.message;
  ASSERT_EQ(added.id, 4u);
  cluster.start_join(4, {static_cast<std::size_t>(leader), other});
  promote(c, 4);
  auto removed = c.member_remove(static_cast<std::uint32_t>(dead));
  ASSERT_TRUE(removed.ok()) << removed.message;
  std::this_thread::sleep_for(1s);
  auto now = roles(c);
  EXPECT_EQ(now.size(), 3u);
  EXPECT_EQ(now.count(static_cast<std::uint32_t>(dead)), 0u);
  ASSERT_EQ(now.count(4), 1u);
  EXPECT_FALSE(now.at(4)) << "member 4 is still a learner";

  // Member 4 counts: with the other original gone too, the leader and 4
  // are a majority of {leader, other, 4} and writes still commit.
  cluster.kill9(other);
  auto r = c.put("after-replacement", "yes");
  EXPECT_TRUE(r.ok()) << "no quorum with member 4: " << ballot::kv::to_string(r.code) << " "
                      << r.message;
  load.stop();
  check_workload(cluster, load, "membership-replace", endpoints_of(cluster, {leader, 4}));
}

TEST(MembershipProcessTest, GrowsToFiveAndShrinksToThreeUnderLoad) {
  cluster_processes cluster;
  cluster.reserve(4);
  cluster.reserve(5);
  cluster.start_all();
  ASSERT_NE(cluster.leader(), 0u);
  workload load(cluster, 4);
  auto opts = cluster.client_options();
  opts.timeout = 10s;
  client c{opts};
  // Each joins by itself (no --id): it adds itself as a learner.
  cluster.start_join(4, {1, 2, 3}, true);
  cluster.start_join(5, {1, 2, 3}, true);
  EXPECT_NE(cluster.node(4).err().find("joined the cluster as learner 4"), std::string::npos)
    << cluster.node(4).err();
  promote(c, 4);
  promote(c, 5);
  auto five = roles(c);
  ASSERT_EQ(five.size(), 5u);
  for (auto& [id, learner] : five)
    EXPECT_FALSE(learner) << "member " << id;
  auto st = c.status();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st.members.size(), 5u);

  // A joined node restarts from its data directory alone (DIR/join).
  cluster.kill9(4);
  cluster.start_join(4, {1});
  std::this_thread::sleep_for(500ms);

  // Back to three: two of the original members leave, the leader perhaps
  // among them. Each removed node says so and stops by itself (exit 0).
  for (std::uint32_t gone : {1u, 2u}) {
    auto r = c.member_remove(gone);
    ASSERT_TRUE(r.ok()) << "remove " << gone << ": " << r.message;
  }
  for (std::size_t gone : {1, 2}) {
    auto code = cluster.node(gone).exit_code(20s);
    ASSERT_TRUE(code) << "removed member " << gone << " did not stop:\n"
                      << cluster.node(gone).err();
    EXPECT_EQ(*code, 0);
    EXPECT_NE(cluster.node(gone).err().find("removed from the cluster"), std::string::npos)
      << cluster.node(gone).err();
  }
  auto three = roles(c);
  EXPECT_EQ(three, (std::map<std::uint32_t, bool>{{3, false}, {4, false}, {5, false}}));
  std::this_thread::sleep_for(1s);
  load.stop();
  check_workload(cluster, load, "membership-grow-shrink", endpoints_of(cluster, {3, 4, 5}));
}

TEST(MembershipProcessTest, AnEmptyNodeCannotTakeAVoterOrAnUnknownId) {
  cluster_processes cluster;
  cluster.reserve(4);
  cluster.start_all();
  ASSERT_NE(cluster.leader(), 0u);
  auto base = std::vector<std::string>{BALLOTD_BIN,
                                       "--join",
                                       cluster.client_endpoint(1),
                                       "--peer-address",
                                       cluster.peer_address(4),
                                       "--client",
                                       cluster.client_endpoint(4)};
  for (auto [id, why] :
       {std::pair{"2", "is a voter"}, std::pair{"9", "not in the cluster's membership"}}) {
    auto argv = base;
    argv.insert(argv.end(),
                {"--data-dir", (cluster.dir() / ("try" + std::string{id})).string(), "--id", id});
    process p{argv};
    auto code = p.exit_code(15s);
    ASSERT_TRUE(code) << "ballotd --join --id " << id << " kept running";
    EXPECT_EQ(*code, 2);
    EXPECT_NE(p.err().find(why), std::string::npos) << p.err();
  }
  // A data directory that holds anything (here: node 1's) cannot join, and
  // one that joined cannot be started as a bootstrap member.
  auto used = base;
  used.insert(used.end(), {"--data-dir", cluster.data_dir(1).string()});
  process into_used{used};
  EXPECT_EQ(into_used.exit_code(15s), 2);
  EXPECT_NE(into_used.err().find("is not empty"), std::string::npos) << into_used.err();
  auto fake_joined = cluster.dir() / "joined";
  std::filesystem::create_directories(fake_joined);
  std::ofstream{fake_joined / "join"} << "ballot-join 1\n";
  process as_bootstrap{{BALLOTD_BIN, "--id", "1", "--peers", cluster.peers(1), "--client",
                        cluster.client_endpoint(4), "--data-dir", fake_joined.string()}};
  EXPECT_EQ(as_bootstrap.exit_code(15s), 2);
  EXPECT_NE(as_bootstrap.err().find("start it with --join"), std::string::npos)
    << as_bootstrap.err();
}

TEST(MembershipProcessTest, WithPeerTlsAJoinerNeedsItsOwnMemberCertificate) {
  if (!test_certs::openssl_available())
    GTEST_SKIP() << "no openssl command to make the certificates";
  test_certs pki;
  cluster_processes cluster;
  cluster.reserve(4);
  cluster.reserve(5);
  cluster.use_peer_tls(pki);
  auto tls_of = [&](const std::string& cn) {
    auto files = pki.issue(cn, cn, {"DNS:" + cn});
    return std::vector<std::string>{"--peer-cacert", pki.ca_cert(), "--peer-cert",
                                    files.cert,      "--peer-key",  files.key};
  };
  cluster.node_flags[4] = tls_of("member-4");
  // Learner 5 presents member 9's certificate: the members refuse it.
  cluster.node_flags[5] = tls_of("member-9");
  cluster.start_all();
  ASSERT_NE(cluster.leader(), 0u);
  auto opts = cluster.client_options();
  opts.timeout = 10s;
  client c{opts};
  ASSERT_TRUE(c.put("before", "1").ok());
  for (std::size_t id : {4, 5}) {
    auto added = c.member_add(cluster.peer_address(id), cluster.client_endpoint(id));
    ASSERT_TRUE(added.ok()) << added.message;
    ASSERT_EQ(added.id, id);
    cluster.start_join(id, {1, 2, 3});
  }
  promote(c, 4);
  // Learner 5 never hears from the cluster over TLS, so the leader never
  // learns how far behind it is: promote stays refused.
  auto short_opts = opts;
  short_opts.timeout = 3s;
  short_opts.endpoints = endpoints_of(cluster, {1, 2, 3});
  client impatient{short_opts};
  auto refused = impatient.member_promote(5);
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.code, ballot::kv::result_code::unavailable) << refused.message;
  EXPECT_NE(refused.message.find("behind"), std::string::npos) << refused.message;
  // Member 4 votes: with two originals gone, {leader-or-survivor, 4} is no
  // majority of four voters, so remove one first, then lose another.
  auto leader = cluster.leader();
  std::size_t gone = leader % 3 + 1;
  ASSERT_TRUE(c.member_remove(static_cast<std::uint32_t>(gone)).ok());
  ASSERT_TRUE(c.member_remove(5).ok());
  ASSERT_TRUE(cluster.node(gone).exit_code(20s)) << "removed member " << gone << " runs on";
  std::size_t other = 6 - leader - gone;
  cluster.kill9(other);
  auto r = c.put("after", "2");
  EXPECT_TRUE(r.ok()) << "no quorum of {" << leader << ", 4}: " << r.message;
}

/// Runs ballotctl against `endpoints`; its exit code and stdout and stderr.
struct ctl_run {
  int code = -1;
  std::string out, err;
};
ctl_run ballotctl(const std::vector<std::string>& endpoints, std::vector<std::string> args) {
  std::string list;
  for (auto& e : endpoints)
    list += (list.empty() ? "" : ",") + e;
  std::vector<std::string> argv{BALLOTCTL_BIN, "--endpoints", list, "--timeout", "10"};
  argv.insert(argv.end(), args.begin(), args.end());
  process p{argv};
  ctl_run r;
  r.code = p.exit_code(30s).value_or(-1);
  r.out = p.out();
  r.err = p.err();
  return r;
}

TEST(MembershipProcessTest, BallotctlChangesMembersAndRefusesBadAddresses) {
  cluster_processes cluster;
  cluster.reserve(4);
  cluster.start_all();
  ASSERT_NE(cluster.leader(), 0u);
  auto eps = endpoints_of(cluster, {1, 2, 3});
  // Hostile addresses are refused before anything is proposed.
  for (auto bad : {std::string(300, 'h') + ":1", std::string{"a b:1"}, std::string{"x|y:1"}}) {
    auto r = ballotctl(eps, {"member", "add", "--peer", bad, "--client", "127.0.0.1:1"});
    EXPECT_EQ(r.code, 1) << bad.substr(0, 20) << ": " << r.err;
    EXPECT_NE(r.err.find("bad_request"), std::string::npos) << r.err;
  }
  auto added = ballotctl(eps, {"member", "add", "--peer", cluster.peer_address(4), "--client",
                               cluster.client_endpoint(4)});
  ASSERT_EQ(added.code, 0) << added.err;
  EXPECT_NE(added.out.find("added learner 4"), std::string::npos) << added.out;
  cluster.start_join(4, {1});
  auto list = ballotctl(eps, {"--json", "member", "list"});
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_NE(list.out.find(R"({"id":4,"role":"learner")"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find(cluster.peer_address(4)), std::string::npos) << list.out;
  auto status = ballotctl(eps, {"--json", "status"});
  ASSERT_EQ(status.code, 0) << status.err;
  EXPECT_NE(status.out.find(R"("learner":true)"), std::string::npos) << status.out;
  // The same add again is refused: the address is in use.
  auto twice = ballotctl(eps, {"member", "add", "--peer", cluster.peer_address(4), "--client",
                               cluster.client_endpoint(4)});
  EXPECT_EQ(twice.code, 1);
  EXPECT_NE(twice.err.find("has that address already"), std::string::npos) << twice.err;
  // Promote (retried by ballotctl while it catches up), then remove: it stops.
  auto promoted = ballotctl(eps, {"member", "promote", "4"});
  ASSERT_EQ(promoted.code, 0) << promoted.err;
  EXPECT_NE(promoted.out.find("promoted member 4"), std::string::npos);
  auto removed = ballotctl(eps, {"--json", "member", "remove", "4"});
  ASSERT_EQ(removed.code, 0) << removed.err;
  EXPECT_NE(removed.out.find(R"("ok":true,"id":4)"), std::string::npos) << removed.out;
  EXPECT_EQ(cluster.node(4).exit_code(20s), 0);
  auto unknown = ballotctl(eps, {"member", "remove", "4"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.err.find("no member 4"), std::string::npos) << unknown.err;
}

}  // namespace
