// ballotd's flags and config file: every bad value is named in the error.
#include <cstdio>
#include <fstream>
#include <map>

#include <gtest/gtest.h>
#include <unistd.h>

#include "runtime/ballotd/options.hpp"

namespace {

using namespace ballot::ballotd;

parse_result parse(std::vector<std::string> args) {
  return parse_options(args);
}

TEST(BallotdOptionsTest, NoFlagsIsTheEmbeddedDefault) {
  auto r = parse({});
  ASSERT_TRUE(r.opts);
  EXPECT_TRUE(r.opts->embedded);
  EXPECT_EQ(r.opts->client.to_string(), "127.0.0.1:7400");
  EXPECT_EQ(r.opts->data_dir, "ballot-data");
}

TEST(BallotdOptionsTest, MetricsAreOnForTheEmbeddedDefaultOnlyUnlessAskedFor) {
  auto embedded = parse({});
  ASSERT_TRUE(embedded.opts && embedded.opts->metrics);
  EXPECT_EQ(embedded.opts->metrics->to_string(), "127.0.0.1:7480");
  EXPECT_FALSE(embedded.opts->metrics_required) << "a taken default port only warns";
  auto off = parse({"--metrics", "off"});
  ASSERT_TRUE(off.opts);
  EXPECT_FALSE(off.opts->metrics);
  std::vector<std::string> node = {"--id",          "1", "--peers", "1=127.0.0.1:7411", "--client",
                                   "127.0.0.1:7401"};
  auto cluster = parse(node);
  ASSERT_TRUE(cluster.opts) << cluster.error->message;
  EXPECT_FALSE(cluster.opts->metrics) << "off by default for a cluster node";
  node.insert(node.end(), {"--metrics", "0.0.0.0:9100"});
  auto asked = parse(node);
  ASSERT_TRUE(asked.opts) << asked.error->message;
  ASSERT_TRUE(asked.opts->metrics);
  EXPECT_EQ(asked.opts->metrics->to_string(), "0.0.0.0:9100");
  EXPECT_TRUE(asked.opts->metrics_required);
  auto bad = parse({"--metrics", "localhost"});
  ASSERT_TRUE(bad.error);
  EXPECT_NE(bad.error->message.find("'localhost' for --metrics"), std::string::npos)
    << bad.error->message;
}

TEST(BallotdOptionsTest, ClusterNode) {
  auto r = parse({"--id", "2", "--peers", "1=127.0.0.1:7411,2=10.0.0.2:7412,3=h3:7413", "--client",
                  "127.0.0.1:7402", "--insecure-peers"});
  ASSERT_TRUE(r.opts) << r.error->message;
  EXPECT_FALSE(r.opts->embedded);
  EXPECT_EQ(r.opts->id, 2u);
  ASSERT_EQ(r.opts->peers.size(), 3u);
  EXPECT_EQ(r.opts->peers.at(2).host, "10.0.0.2");
  EXPECT_EQ(r.opts->peers.at(3).port, 7413);
  EXPECT_EQ(r.opts->data_dir, "ballot-data/2");
  EXPECT_TRUE(r.opts->insecure_peers);
  EXPECT_FALSE(r.opts->peer_tls());
}

TEST(BallotdOptionsTest, PeerTlsTakesAllThreeFilesOrNone) {
  std::vector<std::string> node{
    "--id", "1", "--peers", "1=10.0.0.1:7411,2=10.0.0.2:7412", "--client", "127.0.0.1:7401"};
  auto with = [&](std::vector<std::string> extra) {
    auto args = node;
    args.insert(args.end(), extra.begin(), extra.end());
    return parse(args);
  };
  // Members on other hosts and no TLS: refused, naming TLS and the way out.
  auto r = with({});
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->message.find("TLS"), std::string::npos) << r.error->message;
  EXPECT_NE(r.error->message.find("--insecure-peers"), std::string::npos) << r.error->message;
  EXPECT_NE(r.error->message.find("10.0.0.1"), std::string::npos) << r.error->message;
  // Two of three files: the missing one is named.
  r = with({"--peer-cacert", "ca.pem", "--peer-cert", "m1.pem"});
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->message.find("missing --peer-key"), std::string::npos) << r.error->message;
  r = with({"--peer-cert", "m1.pem", "--peer-key", "m1.key"});
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->message.find("missing --peer-cacert"), std::string::npos);
  // All three: a TLS node (the files are read when it starts, not here).
  r = with({"--peer-cacert", "ca.pem", "--peer-cert", "m1.pem", "--peer-key", "m1.key"});
  ASSERT_TRUE(r.opts) << r.error->message;
  EXPECT_TRUE(r.opts->peer_tls());
  EXPECT_EQ(r.opts->peer_key, "m1.key");
  // --insecure-peers is a switch: the next flag is not its value.
  r = with({"--insecure-peers", "--tick-ms", "20"});
  ASSERT_TRUE(r.opts) << r.error->message;
  EXPECT_TRUE(r.opts->insecure_peers);
  EXPECT_EQ(r.opts->tick_ms, 20u);
  r = with({"--insecure-peers=maybe"});
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->message.find("--insecure-peers"), std::string::npos);
  // All members on loopback: no TLS needed.
  r = parse({"--id", "1", "--peers", "1=127.0.0.1:7411,2=localhost:7412,3=127.0.0.3:7413",
             "--client", "127.0.0.1:7401"});
  ASSERT_TRUE(r.opts) << r.error->message;
  EXPECT_FALSE(r.opts->peer_tls());
}

TEST(BallotdOptionsTest, ErrorsNameTheFlagAndTheValue) {
  auto cases = std::vector<std::pair<std::vector<std::string>, std::string>>{
    {{"--id", "x", "--peers", "1=a:1"}, "'x' for --id"},
    {{"--id", "1", "--peers", "1=a:99999", "--client", "a:1"}, "--peers"},
    {{"--id", "1", "--peers", "1=a:1,1=b:2", "--client", "a:1"}, "appears twice"},
    {{"--id", "4", "--peers", "1=a:1", "--client", "a:1"}, "not a member"},
    {{"--client", "nohost"}, "'nohost' for --client"},
    {{"--tick-ms", "0"}, "--tick-ms"},
    {{"--quota-bytes", "0"}, "'0' for --quota-bytes"},
    {{"--quota-bytes", "274877906945"}, "256 GiB"},
    {{"--snapshot-chunk-bytes", "1023"}, "'1023' for --snapshot-chunk-bytes"},
    {{"--snapshot-chunk-bytes", "1073741825"}, "1 GiB"},
    {{"--max-sessions", "0"}, "--max-sessions"},
    {{"--max-waiters-per-lock", "-1"}, "--max-waiters-per-lock"},
    {{"--max-connections-per-address", "x"}, "--max-connections-per-address"},
    {{"--bogus", "1"}, "unknown option --bogus"},
    {{"--id"}, "missing value for --id"},
    {{"--id", "1"}, "--id needs --peers"},
    {{"--id", "1", "--peers", "1=a:1"}, "needs --client"},
  };
  for (auto& [args, expected] : cases) {
    auto r = parse(args);
    ASSERT_TRUE(r.error) << args[0];
    EXPECT_NE(r.error->message.find(expected), std::string::npos)
      << "'" << r.error->message << "' lacks '" << expected << "'";
  }
}

TEST(BallotdOptionsTest, BudgetsHaveSafeDefaultsAndTakeFlags) {
  auto d = parse({});
  ASSERT_TRUE(d.opts);
  // etcd's default: snapshot files hold a state of any size in chunks.
  EXPECT_EQ(d.opts->quota_bytes, std::uint64_t{2} << 30);
  EXPECT_EQ(d.opts->snapshot_chunk_bytes, std::uint32_t{32} << 20);
  EXPECT_EQ(d.opts->max_connections_per_address, 256u);
  auto r = parse({"--quota-bytes", "1000000", "--max-sessions", "10", "--max-waiters-per-lock", "3",
                  "--max-connections", "50", "--max-connections-per-address", "5",
                  "--snapshot-chunk-bytes", "4096"});
  ASSERT_TRUE(r.opts) << r.error->message;
  EXPECT_EQ(r.opts->quota_bytes, 1'000'000u);
  EXPECT_EQ(r.opts->snapshot_chunk_bytes, 4096u);
  auto big = parse({"--quota-bytes", "274877906944"});
  ASSERT_TRUE(big.opts) << big.error->message;
  EXPECT_EQ(big.opts->quota_bytes, std::uint64_t{256} << 30);
  EXPECT_EQ(r.opts->max_sessions, 10u);
  EXPECT_EQ(r.opts->max_waiters_per_lock, 3u);
  EXPECT_EQ(r.opts->max_connections, 50u);
  EXPECT_EQ(r.opts->max_connections_per_address, 5u);
}

TEST(BallotdOptionsTest, ConfigFileWithFlagsWinning) {
  auto path = testing::TempDir() + "/ballotd_options_test.conf";
  {
    std::ofstream out(path);
    out << "# a node\nid = 3\npeers = 1=127.0.0.1:1,3=127.0.0.1:3\nclient = 127.0.0.1:9\n"
        << "data-dir = /tmp/x   # comment\n";
  }
  auto r = parse({"--config", path, "--data-dir", "/tmp/y"});
  ASSERT_TRUE(r.opts) << r.error->message;
  EXPECT_EQ(r.opts->id, 3u);
  EXPECT_EQ(r.opts->data_dir, "/tmp/y");
  EXPECT_EQ(r.opts->client.port, 9);
  {
    std::ofstream out(path);
    out << "id = 3\nnonsense\n";
  }
  auto bad = parse({"--config", path});
  ASSERT_TRUE(bad.error);
  EXPECT_NE(bad.error->message.find(path + ":2"), std::string::npos) << bad.error->message;
  std::remove(path.c_str());
  auto missing = parse({"--config", "/nonexistent/ballot.conf"});
  ASSERT_TRUE(missing.error);
  EXPECT_NE(missing.error->message.find("/nonexistent/ballot.conf"), std::string::npos);
}

TEST(BallotdOptionsTest, ClientTlsFlagsGoTogether) {
  auto r = parse({"--client-cert", "n.pem", "--client-key", "n.key", "--client-cacert", "ca.pem",
                  "--client-cert-auth"});
  ASSERT_TRUE(r.opts) << r.error->message;
  EXPECT_EQ(r.opts->client_cert, "n.pem");
  EXPECT_EQ(r.opts->client_key, "n.key");
  EXPECT_EQ(r.opts->client_cacert, "ca.pem");
  EXPECT_TRUE(r.opts->client_cert_auth);
  // A switch takes no value on the command line; the next flag is parsed as usual.
  r = parse({"--client-cert-auth", "--client-cacert", "ca.pem", "--client-cert", "n.pem",
             "--client-key", "n.key"});
  ASSERT_TRUE(r.opts) << r.error->message;
  EXPECT_TRUE(r.opts->client_cert_auth);
  auto cases = std::vector<std::pair<std::vector<std::string>, std::string>>{
    {{"--client-cert", "n.pem"}, "--client-key"},
    {{"--client-key", "n.key"}, "--client-cert"},
    {{"--client-cacert", "ca.pem"}, "--client-cacert needs --client-cert"},
    {{"--client-cert", "n.pem", "--client-key", "n.key", "--client-cert-auth"},
     "--client-cert-auth needs --client-cacert"},
    {{"--client-cert", ""}, "--client-cert"},
  };
  for (auto& [args, expected] : cases) {
    auto bad = parse(args);
    ASSERT_TRUE(bad.error) << args[0];
    EXPECT_NE(bad.error->message.find(expected), std::string::npos) << bad.error->message;
  }
}

}  // namespace

namespace {

TEST(BallotdOptionsTest, LogFlagsDefaultToInfoTextAndA100MsSlowFsync) {
  auto r = parse({});
  ASSERT_TRUE(r.opts);
  EXPECT_EQ(r.opts->log_level, ballot::logging::level::info);
  EXPECT_EQ(r.opts->log_format, ballot::logging::format::text);
  EXPECT_EQ(r.opts->slow_fsync_ms, 100u);
  EXPECT_EQ(r.opts->snapshot_interval, 10000u);
  EXPECT_EQ(r.opts->request_timeout_ms, 5000u);
  auto set = parse({"--log-level", "debug", "--log-format", "json", "--slow-fsync-ms", "0",
                    "--snapshot-interval", "50", "--request-timeout-ms", "250"});
  ASSERT_TRUE(set.opts) << set.error->message;
  EXPECT_EQ(set.opts->log_level, ballot::logging::level::debug);
  EXPECT_EQ(set.opts->log_format, ballot::logging::format::json);
  EXPECT_EQ(set.opts->slow_fsync_ms, 0u);
  EXPECT_EQ(set.opts->snapshot_interval, 50u);
  EXPECT_EQ(set.opts->request_timeout_ms, 250u);
  for (auto args : {std::vector<std::string>{"--log-level", "verbose"},
                    std::vector<std::string>{"--request-timeout-ms", "99"},
                    std::vector<std::string>{"--request-timeout-ms", "600001"},
                    std::vector<std::string>{"--log-format", "yaml"},
                    std::vector<std::string>{"--slow-fsync-ms", "soon"},
                    std::vector<std::string>{"--snapshot-interval", "3"}}) {
    auto bad = parse(args);
    ASSERT_TRUE(bad.error) << args[0];
    EXPECT_NE(bad.error->message.find(args[0]), std::string::npos) << bad.error->message;
    EXPECT_NE(bad.error->message.find(args[1]), std::string::npos) << bad.error->message;
  }
}

TEST(BallotdOptionsTest, StartupLineDescribesTheConfigurationWithoutSecrets) {
  auto r = parse({"--id", "2", "--peers", "1=127.0.0.1:1,2=127.0.0.1:2", "--client", "127.0.0.1:9",
                  "--client-cert", "n.pem", "--client-key", "n.key"});
  ASSERT_TRUE(r.opts) << r.error->message;
  std::map<std::string, std::string> f;
  for (auto& fl : describe(*r.opts))
    f[fl.key] = fl.value;
  EXPECT_EQ(f["event"], "startup");
  EXPECT_EQ(f["mode"], "member");
  EXPECT_EQ(f["id"], "2");
  EXPECT_EQ(f["peers"], "1=127.0.0.1:1,2=127.0.0.1:2");
  EXPECT_EQ(f["client"], "127.0.0.1:9");
  EXPECT_EQ(f["client_tls"], "on");
  EXPECT_EQ(f["log_level"], "info");
  EXPECT_EQ(f.count("client_key"), 0u);
}

}  // namespace

namespace {

std::string write_config(const std::string& text) {
  // One file per test and process: ctest -j runs these tests at once, and a
  // shared name let one test read another's file.
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  auto path = testing::TempDir() + "/ballotd_config_test." + info->name() + "." +
              std::to_string(::getpid()) + ".conf";
  std::ofstream(path) << text;
  return path;
}

TEST(BallotdOptionsTest, ConfigUnknownKeyNamesTheFileTheLineAndTheKey) {
  auto path = write_config("id = 1\npeers = 1=127.0.0.1:1\n# fine\nclinet = 127.0.0.1:9\n");
  auto r = parse({"--config", path});
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->message.find(path + ":4"), std::string::npos) << r.error->message;
  EXPECT_NE(r.error->message.find("clinet"), std::string::npos) << r.error->message;
}

TEST(BallotdOptionsTest, ConfigBadValueNamesTheFileTheLineTheKeyAndTheValue) {
  auto path = write_config("log-level = loud\n");
  auto r = parse({"--config", path});
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->message.find(path + ":1"), std::string::npos) << r.error->message;
  EXPECT_NE(r.error->message.find("log-level"), std::string::npos) << r.error->message;
  EXPECT_NE(r.error->message.find("loud"), std::string::npos) << r.error->message;
}

TEST(BallotdOptionsTest, FlagsOverrideEveryKindOfConfigKey) {
  auto path = write_config(
    "log-level = debug\nlog-format = json\ntick-ms = 20\n"
    "metrics = 127.0.0.1:7490\n");
  auto r = parse({"--config", path, "--log-level", "warn", "--tick-ms", "5", "--metrics", "off"});
  ASSERT_TRUE(r.opts) << r.error->message;
  EXPECT_EQ(r.opts->log_level, ballot::logging::level::warn);
  EXPECT_EQ(r.opts->log_format, ballot::logging::format::json);
  EXPECT_EQ(r.opts->tick_ms, 5u);
  EXPECT_FALSE(r.opts->metrics);
}

TEST(BallotdOptionsTest, TheSampleConfigInDeployParses) {
  auto r = parse({"--config", std::string{SOURCE_DIR} + "/deploy/ballotd.conf"});
  ASSERT_TRUE(r.opts) << r.error->message;
  EXPECT_FALSE(r.opts->embedded);
  EXPECT_EQ(r.opts->id, 1u);
  EXPECT_EQ(r.opts->peers.size(), 3u);
  EXPECT_TRUE(r.opts->peer_tls());
  EXPECT_EQ(r.opts->data_dir, "/var/lib/ballot/data");
}

}  // namespace

namespace {

TEST(BallotdOptionsTest, JoinNeedsItsAddressesAndExcludesBootstrapFlags) {
  std::vector<std::string> join = {"--join",   "127.0.0.1:7401", "--peer-address", "127.0.0.1:7414",
                                   "--client", "127.0.0.1:7404", "--data-dir",     "d4"};
  auto ok = parse(join);
  ASSERT_TRUE(ok.opts) << ok.error->message;
  EXPECT_FALSE(ok.opts->embedded);
  EXPECT_EQ(ok.opts->id, 0u) << "the node adds itself";
  EXPECT_EQ(ok.opts->peer_address->to_string(), "127.0.0.1:7414");
  auto with_id = join;
  with_id.insert(with_id.end(), {"--id", "4"});
  ASSERT_TRUE(parse(with_id).opts);
  EXPECT_EQ(parse(with_id).opts->id, 4u);
  auto with_peers = join;
  with_peers.insert(with_peers.end(), {"--peers", "1=127.0.0.1:7411"});
  ASSERT_TRUE(parse(with_peers).error);
  EXPECT_NE(parse(with_peers).error->message.find("--join and --peers"), std::string::npos);
  auto no_address = std::vector<std::string>(join.begin(), join.begin() + 2);
  no_address.insert(no_address.end(), {"--client", "127.0.0.1:7404", "--data-dir", "d"});
  ASSERT_TRUE(parse(no_address).error);
  EXPECT_NE(parse(no_address).error->message.find("--peer-address"), std::string::npos);
  auto remote = join;
  remote[3] = "10.1.2.3:7414";
  ASSERT_TRUE(parse(remote).error) << "a remote peer port needs TLS or --insecure-peers";
  auto stray = std::vector<std::string>{"--peer-address", "127.0.0.1:1"};
  ASSERT_TRUE(parse(stray).error);
  EXPECT_NE(parse(stray).error->message.find("applies to --join"), std::string::npos);
}

}  // namespace
