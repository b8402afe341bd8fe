// The client library's and ballotctl's side of the refusals overloaded,
// quotaExceeded, requestIdReused and limitReached, against a fake node: a
// Cap'n Proto `Ballot` server in this process that answers each call as the
// test scripts it (the real cluster produces some of them only under load or
// with a quota).

#include <gtest/gtest.h>

#include <capnp/ez-rpc.h>
#include <kj/async.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include <utility>
#include <vector>
#include "tests/gateway/run_ballotctl.hpp"

#include "runtime/client/client.hpp"
#include "schemas/client.capnp.h"

namespace {

using namespace ballot;
using namespace std::chrono_literals;
using schemas::client::Ballot;

/// What the fake node saw and how it answers.
struct script {
  std::mutex m;
  /// Overloaded answers to give before a put of "then-ok" succeeds.
  int overloads_left = 3;
  /// (clientId, seq) of every put, in order.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> put_ids;
};

class fake_ballot final : public Ballot::Server {
 public:
  explicit fake_ballot(script& s) : s_(s) {}

  kj::Promise<void> put(PutContext context) override {
    auto p = context.getParams();
    std::string key = p.getKey();
    auto out = context.getResults().initResult();
    std::lock_guard<std::mutex> guard{s_.m};
    s_.put_ids.emplace_back(p.getId().getClientId(), p.getId().getSeq());
    if (key == "then-ok" && s_.overloads_left-- <= 0)
      out.setVersion(42);
    else if (key == "then-ok" || key == "always-overloaded")
      out.initError().setOverloaded("proposals waiting at the leader");
    else if (key == "quota")
      out.initError().setQuotaExceeded(1000);
    else if (key == "reused")
      out.initError().setRequestIdReused();
    else if (key == "expired")
      out.initError().setExpired("the write expired: new writes need a fresh client id");
    else
      out.setVersion(1);
    return kj::READY_NOW;
  }

  kj::Promise<void> openSession(OpenSessionContext context) override {
    context.getResults().initResult().initError().setLimitReached("sessions: 5 in the cluster");
    return kj::READY_NOW;
  }

  kj::Promise<void> putEphemeral(PutEphemeralContext context) override {
    context.getResults().initResult().initError().setQuotaExceeded(2048);
    return kj::READY_NOW;
  }

  kj::Promise<void> acquire(AcquireContext context) override {
    context.getResults().initResult().initError().setOverloaded("waiters on one lock");
    return kj::READY_NOW;
  }

 private:
  script& s_;
};

/// The fake node on an ephemeral 127.0.0.1 port, on its own thread.
class fake_node {
 public:
  fake_node() {
    std::promise<unsigned> ready;
    auto port = ready.get_future();
    thread_ = std::thread{[this, &ready] {
      capnp::EzRpcServer server{kj::heap<fake_ballot>(script_), "127.0.0.1", 0};
      auto& ws = server.getWaitScope();
      auto bound = server.getPort().wait(ws);
      auto stop = kj::newPromiseAndCrossThreadFulfiller<void>();
      stop_ = kj::mv(stop.fulfiller);
      ready.set_value(bound);
      stop.promise.wait(ws);
    }};
    endpoint_ = "127.0.0.1:" + std::to_string(port.get());
  }

  ~fake_node() {
    stop_->fulfill();
    thread_.join();
  }

  const std::string& endpoint() const { return endpoint_; }
  script& seen() { return script_; }

 private:
  script script_;
  std::thread thread_;
  kj::Own<kj::CrossThreadPromiseFulfiller<void>> stop_;
  std::string endpoint_;
};

std::unique_ptr<client::client> client_of(const fake_node& node,
                                          std::chrono::milliseconds timeout) {
  client::options opts;
  opts.endpoints = {node.endpoint()};
  opts.timeout = timeout;
  opts.attempt_timeout = 1s;
  return std::make_unique<client::client>(opts);
}

TEST(ClientErrorsTest, OverloadedIsRetriedWithTheSameRequestIdAfterGrowingPauses) {
  fake_node node;
  auto c = client_of(node, 5s);
  auto start = std::chrono::steady_clock::now();
  auto r = c->put("then-ok", "v");
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.ok()) << kv::to_string(r.code) << ": " << r.message;
  EXPECT_EQ(r.version, 42u);
  std::lock_guard<std::mutex> guard{node.seen().m};
  ASSERT_EQ(node.seen().put_ids.size(), 4u);  // three overloaded answers, then ok
  for (auto& id : node.seen().put_ids)
    EXPECT_EQ(id, node.seen().put_ids.front());  // one request id throughout
  // Pauses of at least 10, 20 and 40 ms (20, 40, 80 ms halved by jitter).
  EXPECT_GE(took, 70ms);
  EXPECT_LT(took, 2s);
}

TEST(ClientErrorsTest, StillOverloadedAtTheTimeoutReturnsOverloaded) {
  fake_node node;
  auto c = client_of(node, 600ms);
  auto start = std::chrono::steady_clock::now();
  auto r = c->put("always-overloaded", "v");
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.code, kv::result_code::overloaded);
  EXPECT_EQ(r.message, "proposals waiting at the leader");
  EXPECT_GE(took, 300ms);  // it kept trying
  EXPECT_LT(took, 1500ms);
  std::lock_guard<std::mutex> guard{node.seen().m};
  EXPECT_GE(node.seen().put_ids.size(), 4u);
  EXPECT_LE(node.seen().put_ids.size(), 30u);  // with pauses, not in a busy loop
}

TEST(ClientErrorsTest, QuotaRequestIdAndLimitRefusalsMapToTheirCodes) {
  fake_node node;
  auto c = client_of(node, 2s);
  auto quota = c->put("quota", "v");
  EXPECT_EQ(quota.code, kv::result_code::quota_exceeded);
  EXPECT_EQ(quota.version, 1000u);
  EXPECT_EQ(quota.message, "the state is over the quota of 1000 bytes");
  auto reused = c->put("reused", "v");
  EXPECT_EQ(reused.code, kv::result_code::request_id_reused);
  EXPECT_FALSE(reused.message.empty());
  auto session = c->open_session(10s);
  EXPECT_EQ(session.code, lock::result_code::limit_reached);
  EXPECT_NE(session.message.find("sessions: 5 in the cluster"), std::string::npos)
    << session.message;
  auto ephemeral = c->put_ephemeral(7, "k", "v");
  EXPECT_EQ(ephemeral.code, lock::result_code::quota_exceeded);
  EXPECT_EQ(ephemeral.message, "the state is over the quota of 2048 bytes");
  auto start = std::chrono::steady_clock::now();
  auto acquire = c->acquire(7, "L");
  EXPECT_EQ(acquire.code, lock::result_code::overloaded);
  EXPECT_EQ(acquire.message, "waiters on one lock");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 1s);  // retried until the timeout
}

TEST(ClientErrorsTest, ExpiredIsReportedAtOnceAndTheNextWriteTakesAFreshId) {
  fake_node node;
  auto c = client_of(node, 2s);
  ASSERT_TRUE(c->put("before", "v").ok());
  auto first_id = c->client_id();
  auto start = std::chrono::steady_clock::now();
  auto r = c->put("expired", "v");
  EXPECT_EQ(r.code, kv::result_code::expired);
  EXPECT_NE(r.message.find("fresh client id"), std::string::npos) << r.message;
  // Not retried: the same request id would only be refused again.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
  ASSERT_TRUE(c->put("after", "v").ok());
  std::lock_guard<std::mutex> guard{node.seen().m};
  ASSERT_EQ(node.seen().put_ids.size(), 3u);
  EXPECT_EQ(node.seen().put_ids[0], std::make_pair(first_id, std::uint64_t{1}));
  EXPECT_EQ(node.seen().put_ids[1], std::make_pair(first_id, std::uint64_t{2}));
  EXPECT_NE(node.seen().put_ids[2].first, first_id);
  EXPECT_EQ(node.seen().put_ids[2].second, 1u);
}

using test_support::ballotctl;
using test_support::run_result;

TEST(ClientErrorsTest, BallotctlPrintsEachRefusalWithItsExitCode) {
  fake_node node;
  auto at = "--timeout 0.5 --endpoints " + node.endpoint();
  auto quota = ballotctl(at + " put quota v 2>&1");
  EXPECT_EQ(quota.exit_code, 1);
  EXPECT_NE(quota.out.find("quota_exceeded"), std::string::npos) << quota.out;
  EXPECT_NE(quota.out.find("over the quota of 1000 bytes"), std::string::npos) << quota.out;
  auto json = ballotctl(at + " --json put quota v 2>/dev/null");
  EXPECT_EQ(json.exit_code, 1);
  EXPECT_EQ(json.out,
            "{\"ok\":false,\"error\":\"quota_exceeded\",\"key\":\"quota\",\"quota_bytes\":1000,"
            "\"message\":\"the state is over the quota of 1000 bytes\"}\n");
  auto expired = ballotctl(at + " put expired v 2>&1");
  EXPECT_EQ(expired.exit_code, 3);
  EXPECT_NE(expired.out.find("whether it applied is unknown"), std::string::npos) << expired.out;
  auto reused = ballotctl(at + " --json put reused v 2>/dev/null");
  EXPECT_EQ(reused.exit_code, 1);
  EXPECT_NE(reused.out.find("\"error\":\"request_id_reused\""), std::string::npos) << reused.out;
  auto overloaded = ballotctl(at + " put always-overloaded v 2>&1");
  EXPECT_EQ(overloaded.exit_code, 3);
  EXPECT_NE(overloaded.out.find("overloaded"), std::string::npos) << overloaded.out;
  EXPECT_NE(overloaded.out.find("proposals waiting at the leader"), std::string::npos)
    << overloaded.out;
  auto limit = ballotctl(at + " --json lock L -- true 2>/dev/null");
  EXPECT_EQ(limit.exit_code, 1);
  EXPECT_NE(limit.out.find("\"error\":\"limit_reached\""), std::string::npos) << limit.out;
  EXPECT_NE(limit.out.find("sessions: 5 in the cluster"), std::string::npos) << limit.out;
}

}  // namespace
