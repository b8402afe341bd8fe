// Service discovery with real processes on 127.0.0.1: one `ballotd` (the
// embedded three-replica cluster), `balance-worker` processes that register
// their workers under svc/echo/ with 1 s sessions, and a balancer in this
// process that follows the prefix. Workers join by themselves; a worker
// killed with SIGKILL stops getting requests at once (CAF's down message) and
// leaves the prefix and the balancer when its session expires; a new worker
// joins by itself; a worker stopped with SIGTERM leaves at once.

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "caf/all.hpp"
#include "caf/io/all.hpp"

#include "actors/balance/balancer_actor.hpp"
#include "actors/balance/type_ids.hpp"
#include "runtime/client/client.hpp"
#include "runtime/client/session.hpp"
#include "runtime/discovery/discovery.hpp"
#include "runtime/discovery/registration.hpp"
#include "tests/support/process.hpp"

namespace {

using namespace std::chrono_literals;
using namespace ballot;
using clock_type = std::chrono::steady_clock;

constexpr auto ttl = 1000ms;
const std::string prefix = "svc/echo/";

long ms_since(clock_type::time_point t) {
  return static_cast<long>(
    std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t).count());
}

/// Polls `pred` every 10 ms until it holds (true) or `limit` passes (false).
template <class Pred>
bool eventually(std::chrono::milliseconds limit, Pred pred) {
  auto deadline = clock_type::now() + limit;
  while (!pred()) {
    if (clock_type::now() > deadline)
      return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

class DiscoveryProcessTest : public ::testing::Test {
 protected:
  static caf::actor_system_config& configure_system(caf::actor_system_config& cfg) {
    cfg.load<caf::io::middleman>();
    cfg.set("logger.file-verbosity", caf::atom("quiet"));
    balance::configure(cfg);
    return cfg;
  }

  DiscoveryProcessTest() : sys(configure_system(cfg)) {
    dir = std::filesystem::temp_directory_path() /
          ("ballot-discovery-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(dir);
  }

  ~DiscoveryProcessTest() override {
    follower.reset();
    registrations.clear();
    workers.clear();
    c.reset();
    ballotd.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  void SetUp() override {
    endpoint = "127.0.0.1:" + std::to_string(ballot::testing::free_port());
    ballotd = std::make_unique<ballot::testing::process>(std::vector<std::string>{
      BALLOTD_BIN, "--client", endpoint, "--data-dir", (dir / "data").string()});
    ASSERT_TRUE(ballotd->wait_for_output("ballotd ready", 15s)) << "ballotd did not start:\n"
                                                                << ballotd->err();
    client::options o;
    o.endpoints = {endpoint};
    o.timeout = 3s;
    o.attempt_timeout = 1s;
    c = std::make_unique<client::client>(o);
  }

  /// Starts a balance-worker with one worker registered as svc/echo/<name>/0.
  ballot::testing::process& start_worker(const std::string& name) {
    auto p = std::make_unique<ballot::testing::process>(std::vector<std::string>{
      BALANCE_WORKER_BIN, "--workers", "1", "--name", name, "--register", endpoint, "--prefix",
      prefix, "--ttl", std::to_string(ttl.count() / 1000.0)});
    EXPECT_TRUE(p->wait_for_output("balance-worker ready", 10s))
      << "balance-worker " << name << " did not start:\n"
      << p->err();
    EXPECT_NE(p->out().find("registered key=" + prefix + name + "/0"), std::string::npos)
      << p->out() << p->err();
    auto& ref = *p;
    workers[name] = std::move(p);
    return ref;
  }

  void follow() {
    balance::balancer_config bc;
    bc.policy = balance::policy_kind::round_robin;
    bc.limits.request_timeout = 2s;
    bc.limits.attempt_timeout = 500ms;
    bc.limits.slow_start_window = 0ms;
    discovery::discovery_options opts;
    opts.log = [](const std::string& what) { std::printf("[discovery] %s\n", what.c_str()); };
    follower = discovery::spawn_discovering_balancer(sys, *c, prefix, bc, opts);
  }

  /// Which workers served `n` requests ("a/0" -> count); errors under "error".
  std::map<std::string, int> serve(int n) {
    std::map<std::string, int> by;
    caf::scoped_actor self{sys};
    for (int i = 0; i < n; ++i) {
      auto job = "job-" + std::to_string(i);
      self->request(follower->balancer(), 5s, balance::make_balance_request(job, true, job))
        .receive([&](std::string& reply) { by[reply.substr(0, reply.find(' '))]++; },
                 [&](caf::error& err) {
                   by["error"]++;
                   std::printf("request error: %s\n", sys.render(err).c_str());
                 });
    }
    return by;
  }

  balance::core_stats stats() {
    balance::core_stats out;
    caf::scoped_actor self{sys};
    self->request(follower->balancer(), 5s, balance::balance_stats_atom_v)
      .receive([&](balance::core_stats& s) { out = std::move(s); },
               [&](caf::error& err) { ADD_FAILURE() << "stats: " << sys.render(err); });
    return out;
  }

  /// The backend named `key` in the balancer: nullopt if absent, else up or not.
  std::optional<bool> backend_up(const std::string& key) {
    for (auto& b : stats().backends)
      if (b.name == key)
        return b.up;
    return std::nullopt;
  }

  bool listed(const std::string& key) {
    auto r = c->list(prefix);
    if (!r.ok())
      return true;  // unknown: not gone yet
    return std::any_of(r.entries.begin(), r.entries.end(),
                       [&](const kv::key_version& e) { return e.key == key; });
  }

  bool member(const std::string& key, bool connected) {
    for (auto& m : follower->members())
      if (m.key == key)
        return m.connected == connected;
    return false;
  }

  static inline int counter = 0;
  caf::actor_system_config cfg;
  caf::actor_system sys;
  std::filesystem::path dir;
  std::string endpoint;
  std::unique_ptr<ballot::testing::process> ballotd;
  std::unique_ptr<client::client> c;
  std::map<std::string, std::unique_ptr<ballot::testing::process>> workers;
  std::vector<std::unique_ptr<discovery::registration>> registrations;
  std::unique_ptr<discovery::discovery> follower;
};

TEST_F(DiscoveryProcessTest, WorkersJoinAndAKilledWorkerLeavesWhenItsSessionExpires) {
  auto began = clock_type::now();
  // One worker before the balancer (found by the listing), one after (by the watch).
  start_worker("a");
  follow();
  start_worker("b");
  ASSERT_TRUE(follower->wait_connected(2, 10s)) << follower->members().size() << " members";
  auto by = serve(20);
  EXPECT_EQ(by["a/0"], 10);
  EXPECT_EQ(by["b/0"], 10);
  EXPECT_EQ(by["error"], 0);

  // kill -9: the balancer takes it down at once; the key outlives it by the TTL.
  auto killed = clock_type::now();
  workers.at("a")->kill(SIGKILL);
  ASSERT_TRUE(workers.at("a")->wait_exit(5s));
  ASSERT_TRUE(eventually(1s, [&] { return backend_up(prefix + "a/0") == false; }))
    << "the balancer still routes to the killed worker";
  auto down_ms = ms_since(killed);
  by = serve(10);
  EXPECT_EQ(by["b/0"], 10) << "a/0=" << by["a/0"] << " error=" << by["error"];

  // The session expires: the key goes, and the worker leaves the balancer.
  ASSERT_TRUE(eventually(ttl + 3s, [&] { return !listed(prefix + "a/0"); }))
    << "the killed worker's key is still listed";
  auto gone_ms = ms_since(killed);
  ASSERT_TRUE(eventually(1s, [&] { return !backend_up(prefix + "a/0").has_value(); }))
    << "the balancer still has the killed worker";
  auto removed_ms = ms_since(killed);
  EXPECT_FALSE(member(prefix + "a/0", false) || member(prefix + "a/0", true));
  std::printf(
    "killed worker: down in the balancer after %ld ms, key gone after %ld ms, "
    "removed from the balancer after %ld ms (TTL %ld ms)\n",
    down_ms, gone_ms, removed_ms, static_cast<long>(ttl.count()));
  EXPECT_GE(gone_ms, 300) << "the key vanished before its session could expire";

  // A new worker joins by itself and gets its share.
  auto started = clock_type::now();
  start_worker("c");
  ASSERT_TRUE(eventually(5s, [&] { return backend_up(prefix + "c/0") == true; }))
    << "the new worker did not join";
  std::printf("new worker: serving %ld ms after its process started\n", ms_since(started));
  by = serve(20);
  EXPECT_EQ(by["b/0"], 10);
  EXPECT_EQ(by["c/0"], 10);

  // SIGTERM: the worker closes its session, so the key goes at once.
  auto stopped = clock_type::now();
  workers.at("b")->kill(SIGTERM);
  ASSERT_EQ(workers.at("b")->exit_code(5s), 0) << workers.at("b")->err();
  ASSERT_TRUE(eventually(2s, [&] { return !backend_up(prefix + "b/0").has_value(); }))
    << "the stopped worker is still in the balancer";
  std::printf("stopped worker: removed after %ld ms\n", ms_since(stopped));
  EXPECT_FALSE(listed(prefix + "b/0"));
  by = serve(6);
  EXPECT_EQ(by["c/0"], 6);
  EXPECT_EQ(follower->listings(), 1u);
  EXPECT_LT(ms_since(began), 20000);
}

TEST_F(DiscoveryProcessTest, NewWeightsReweightMovesReconnectAndBadValuesAreIgnored) {
  start_worker("w");
  start_worker("x");
  follow();
  ASSERT_TRUE(follower->wait_connected(2, 10s));
  auto w_value = c->get(prefix + "w/0");
  auto x_value = c->get(prefix + "x/0");
  ASSERT_TRUE(w_value.ok() && x_value.ok());
  auto w = discovery::decode(w_value.value);
  ASSERT_TRUE(w);
  auto weight_of = [&](const std::string& key) -> std::uint32_t {
    for (auto& b : stats().backends)
      if (b.name == key)
        return b.weight;
    return 0;
  };
  EXPECT_EQ(weight_of(prefix + "w/0"), 1u);

  // The same place with another weight: a reweight, the worker stays.
  w->weight = 4;
  ASSERT_TRUE(c->put(prefix + "w/0", discovery::encode(*w)).ok());
  EXPECT_TRUE(eventually(2s, [&] { return weight_of(prefix + "w/0") == 4; }));

  // A value that does not decode is no member.
  ASSERT_TRUE(c->put(prefix + "bad", "not-an-address").ok());
  ASSERT_TRUE(c->put(prefix + "zz", "127.0.0.1:1").ok());  // a later change, to know it was seen
  EXPECT_TRUE(eventually(2s, [&] { return member(prefix + "zz", false); }));
  EXPECT_FALSE(backend_up(prefix + "bad").has_value());
  ASSERT_TRUE(c->del(prefix + "zz").ok());

  // Another address under the same key: the balancer's w/0 now reaches x's worker.
  ASSERT_TRUE(c->put(prefix + "w/0", x_value.value).ok());
  ASSERT_TRUE(eventually(3s,
                         [&] {
                           auto by = serve(4);
                           return by["x/0"] == 4;
                         }))
    << "w/0 still reaches w's worker";
  EXPECT_EQ(weight_of(prefix + "w/0"), 1u);

  // Deleted: gone from the balancer.
  ASSERT_TRUE(c->del(prefix + "w/0").ok());
  EXPECT_TRUE(eventually(2s, [&] { return !backend_up(prefix + "w/0").has_value(); }));
  EXPECT_EQ(backend_up(prefix + "x/0"), std::optional<bool>{true});
}

TEST_F(DiscoveryProcessTest, ARegistrationWhoseSessionIsLostRegistersAgain) {
  discovery::member_address a;
  a.host = "127.0.0.1";
  a.port = 9;  // nobody connects: no follower here
  discovery::registration_options ro;
  ro.ttl = ttl;
  ro.retry = 100ms;
  registrations.push_back(std::make_unique<discovery::registration>(*c, prefix, "r", a, ro));
  auto& r = *registrations.back();
  ASSERT_TRUE(r.wait_registered(5s));
  auto first = r.session();
  ASSERT_NE(first, 0u);
  auto got = c->get(prefix + "r");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got.value, "127.0.0.1:9");

  // Somebody ends the session (as an expiry would): the key goes with it,
  // and the registration notices at its next keep-alive and puts it back.
  ASSERT_TRUE(c->close_session(first).ok());
  EXPECT_EQ(c->get(prefix + "r").code, kv::result_code::not_found);
  ASSERT_TRUE(eventually(ttl + 2s, [&] { return r.session() != first && r.registered(); }));
  EXPECT_EQ(r.puts(), 2u);
  got = c->get(prefix + "r");
  ASSERT_TRUE(got.ok());

  // A new weight is put under the same session.
  a.weight = 5;
  r.update(encode(a));
  ASSERT_TRUE(eventually(2s, [&] { return c->get(prefix + "r").value == "127.0.0.1:9;weight=5"; }));

  // Destroying it closes the session: the key is deleted at once.
  registrations.clear();
  EXPECT_EQ(c->get(prefix + "r").code, kv::result_code::not_found);
}

}  // namespace
