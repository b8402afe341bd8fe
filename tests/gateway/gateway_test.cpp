// End to end in one process: three replicas, a gateway per replica, and the
// Cap'n Proto client library. Followers forward, the client fails over, a
// retried write applies once, and refusals come back as explicit results.

#include <gtest/gtest.h>

#include <capnp/ez-rpc.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <vector>

#include "actors/lock/wait_limit.hpp"
#include "schemas/client.capnp.h"
#include "tests/gateway/cluster_fixture.hpp"

namespace {

using namespace ballot;
using namespace std::chrono_literals;
using kv::result_code;

class GatewayTest : public test_support::ClusterFixture {};

paxos::node_id some_follower(paxos::node_id leader) {
  return leader == 1 ? 2 : 1;
}

TEST_F(GatewayTest, FollowerForwardsWritesAndReads) {
  start_all_gateways();
  auto leader = await_leader();
  ASSERT_NE(leader, 0u);
  auto c = make_client({endpoint_of(some_follower(leader))});
  auto put = c->put("app/a", "1");
  ASSERT_TRUE(put.ok()) << put.message;
  auto get = c->get("app/a");
  ASSERT_TRUE(get.ok()) << get.message;
  EXPECT_EQ(get.value, "1");
  EXPECT_EQ(get.version, put.version);
  ASSERT_TRUE(c->put("app/b", std::string("bin\0ary", 7)).ok());
  EXPECT_EQ(c->get("app/b").value, std::string("bin\0ary", 7));
  ASSERT_TRUE(c->put("zzz", "z").ok());
  auto list = c->list("app/");
  ASSERT_TRUE(list.ok()) << list.message;
  ASSERT_EQ(list.entries.size(), 2u);
  EXPECT_EQ(list.entries[0].key, "app/a");
  EXPECT_EQ(list.entries[1].key, "app/b");
  EXPECT_TRUE(c->del("app/a").ok());
  EXPECT_EQ(c->get("app/a").code, result_code::not_found);
  EXPECT_EQ(c->del("app/a").code, result_code::not_found);
}

TEST_F(GatewayTest, ConditionalWritesReportTheCurrentVersion) {
  start_all_gateways();
  auto c = make_client({endpoint_of(1), endpoint_of(2), endpoint_of(3)});
  auto v1 = c->put("k", "a", 0);
  ASSERT_TRUE(v1.ok()) << v1.message;
  auto again = c->put("k", "b", 0);
  EXPECT_EQ(again.code, result_code::version_mismatch);
  EXPECT_EQ(again.version, v1.version);
  auto v2 = c->put("k", "b", v1.version);
  ASSERT_TRUE(v2.ok());
  EXPECT_GT(v2.version, v1.version);
  EXPECT_EQ(c->del("k", v1.version).code, result_code::version_mismatch);
  EXPECT_TRUE(c->del("k", v2.version).ok());
}

TEST_F(GatewayTest, LimitsAreBadRequests) {
  auto opts = gateway_options(1);
  opts.max_key_bytes = 16;
  opts.max_value_bytes = 64;
  gateways[1] = gateway::start(sys, opts, gateway::find_in(group));
  auto c = make_client({endpoint_of(1)});
  auto long_key = c->put(std::string(17, 'k'), "v");
  EXPECT_EQ(long_key.code, result_code::bad_request);
  EXPECT_NE(long_key.message.find("17 bytes, over the limit of 16"), std::string::npos)
    << long_key.message;
  auto big_value = c->put("k", std::string(65, 'v'));
  EXPECT_EQ(big_value.code, result_code::bad_request);
  EXPECT_NE(big_value.message.find("65 bytes"), std::string::npos) << big_value.message;
  EXPECT_EQ(c->get("").code, result_code::bad_request);
  EXPECT_TRUE(c->put("k", "v").ok());
}

TEST_F(GatewayTest, LargeValuesWithinTheLimitsWork) {
  start_all_gateways();
  auto c = make_client({endpoint_of(2)});
  std::string big(900 * 1024, 'x');
  big[12345] = '\0';
  auto put = c->put("big", big);
  ASSERT_TRUE(put.ok()) << put.message;
  auto get = c->get("big");
  ASSERT_TRUE(get.ok()) << get.message;
  EXPECT_EQ(get.value, big);
}

TEST_F(GatewayTest, RetriedWriteAppliesOnce) {
  start_all_gateways();
  auto leader = await_leader();
  ASSERT_NE(leader, 0u);
  // A raw Cap'n Proto client: send the same (clientId, seq) twice, as a client
  // would after a timeout, once to a follower and once to the leader.
  auto put_with = [&](paxos::node_id at, std::uint64_t seq, const char* value) {
    capnp::EzRpcClient rpc{endpoint_of(at)};
    auto cap = rpc.getMain<schemas::client::Ballot>();
    auto req = cap.putRequest();
    req.initId().setClientId(4242);
    req.getId().setSeq(seq);
    req.setKey("once");
    req.setValue(capnp::Data::Reader(reinterpret_cast<const kj::byte*>(value), 1));
    auto res = req.send().wait(rpc.getWaitScope()).getResult();
    EXPECT_TRUE(res.isVersion());
    return res.isVersion() ? res.getVersion() : 0;
  };
  auto first = put_with(some_follower(leader), 1, "a");
  auto retry = put_with(leader, 1, "a");
  EXPECT_EQ(first, retry);  // the first attempt's answer, not a second write
  auto c = make_client({endpoint_of(leader)});
  auto next = c->put("other", "x");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next.version, first + 1);  // the retry did not take a revision
}

TEST_F(GatewayTest, ARequestIdReusedForAnotherWriteIsRefused) {
  start_all_gateways();
  ASSERT_NE(await_leader(), 0u);
  capnp::EzRpcClient rpc{endpoint_of(1)};
  auto cap = rpc.getMain<schemas::client::Ballot>();
  auto put = [&](const char* key) {
    auto req = cap.putRequest();
    req.initId().setClientId(4343);
    req.getId().setSeq(1);
    req.setKey(key);
    req.setValue(capnp::Data::Reader(reinterpret_cast<const kj::byte*>("v"), 1));
    return req.send().wait(rpc.getWaitScope());
  };
  auto first = put("first");
  ASSERT_TRUE(first.getResult().isVersion());
  auto other = put("other");  // the same (clientId, seq), another command
  ASSERT_TRUE(other.getResult().isError());
  EXPECT_TRUE(other.getResult().getError().isRequestIdReused());
  auto c = make_client({endpoint_of(1)});
  EXPECT_EQ(c->get("other").code, result_code::not_found);  // nothing was done
}

TEST_F(GatewayTest, StatusListsMembersLeaderAndCommitIndex) {
  start_all_gateways();
  auto leader = await_leader();
  ASSERT_NE(leader, 0u);
  auto c = make_client({endpoint_of(some_follower(leader))});
  ASSERT_TRUE(c->put("k", "v").ok());
  auto st = c->status();
  ASSERT_TRUE(st.ok()) << st.message;
  EXPECT_EQ(st.node_id, some_follower(leader));
  EXPECT_EQ(st.leader_id, leader);
  EXPECT_GE(st.commit_index, 1u);
  ASSERT_EQ(st.members.size(), 3u);
  for (auto& m : st.members) {
    EXPECT_TRUE(m.up) << "member " << m.id;
    EXPECT_EQ(m.is_leader, m.id == leader);
  }
  // A member that is gone is reported down, honestly.
  auto down = 6 - leader - some_follower(leader);  // the third member
  caf::anon_send_exit(group[down], caf::exit_reason::kill);
  auto later = c->status();
  ASSERT_TRUE(later.ok());
  for (auto& m : later.members)
    EXPECT_EQ(m.up, m.id != down) << "member " << m.id;
}

TEST_F(GatewayTest, ClientFailsOverToALiveEndpoint) {
  start_all_gateways();
  // The first endpoint refuses connections: nothing listens there any more.
  auto dead = gateway::start(sys, gateway_options(1), gateway::find_in(group));
  auto dead_endpoint = dead->endpoint();
  dead.reset();
  auto c = make_client({dead_endpoint, endpoint_of(2), endpoint_of(3)});
  ASSERT_TRUE(c->put("k", "1").ok());
  // Then the endpoint it used goes away too.
  gateways.erase(2);
  auto r = c->put("k", "2");
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(c->get("k").value, "2");
}

TEST_F(GatewayTest, SurvivesTheLeaderReplicaCrashing) {
  start_all_gateways();
  auto leader = await_leader();
  ASSERT_NE(leader, 0u);
  std::vector<std::string> endpoints;
  for (paxos::node_id id : {1, 2, 3})
    if (id != leader)
      endpoints.push_back(endpoint_of(id));
  auto c = make_client(endpoints);
  ASSERT_TRUE(c->put("k", "before").ok());
  caf::anon_send_exit(group[leader], caf::exit_reason::kill);
  auto r = c->put("k", "after");
  ASSERT_TRUE(r.ok()) << r.message;
  auto get = c->get("k");
  ASSERT_TRUE(get.ok()) << get.message;
  EXPECT_EQ(get.value, "after");
}

TEST_F(GatewayTest, NoQuorumMeansUnavailableWithinTheTimeout) {
  start_gateway(1);
  ASSERT_NE(await_leader(), 0u);
  caf::anon_send_exit(group[2], caf::exit_reason::kill);
  caf::anon_send_exit(group[3], caf::exit_reason::kill);
  auto c = make_client({endpoint_of(1)}, 1500ms);
  auto start = std::chrono::steady_clock::now();
  auto r = c->put("k", "v");
  EXPECT_EQ(r.code, result_code::unavailable);
  EXPECT_FALSE(r.message.empty());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
}

TEST_F(GatewayTest, WithoutForwardingAFollowerNamesTheLeader) {
  auto leader = await_leader();
  ASSERT_NE(leader, 0u);
  auto follower = some_follower(leader);
  auto opts = gateway_options(follower);
  opts.forward = false;
  opts.client_endpoints[leader] = "127.0.0.1:1";  // any text: it is passed on verbatim
  gateways[follower] = gateway::start(sys, opts, gateway::find_in(group));
  capnp::EzRpcClient rpc{endpoint_of(follower)};
  auto req = rpc.getMain<schemas::client::Ballot>().getRequest();
  req.setKey("k");
  auto res = req.send().wait(rpc.getWaitScope()).getResult();
  ASSERT_TRUE(res.isError());
  ASSERT_TRUE(res.getError().isNotLeader());
  EXPECT_EQ(res.getError().getNotLeader().getLeaderId(), leader);
  EXPECT_EQ(std::string(res.getError().getNotLeader().getEndpoint().cStr()), "127.0.0.1:1");
}

TEST_F(GatewayTest, StartFailsClearlyWhenThePortIsTaken) {
  auto& first = start_gateway(1);
  auto opts = gateway_options(2);
  opts.port = first.port();
  try {
    gateway::start(sys, opts, gateway::find_in(group));
    FAIL() << "a second gateway bound the same port";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(first.port())),
              std::string::npos)
      << e.what();
  }
}

TEST_F(GatewayTest, ManyRequestsInFlightFromOneClient) {
  start_all_gateways();
  ASSERT_NE(await_leader(), 0u);
  auto c = make_client({endpoint_of(1), endpoint_of(2), endpoint_of(3)});
  ASSERT_TRUE(c->put("warm", "up").ok());
  constexpr int total = 2000;
  constexpr int in_flight = 32;
  // Keeps `in_flight` calls running: each callback (on the client's I/O
  // thread) starts the next one.
  auto run = [&](bool writes) {
    std::mutex mtx;
    std::condition_variable cv;
    std::atomic<int> started{0};
    int done = 0;
    int ok = 0;
    std::function<void()> next = [&] {
      auto i = started++;
      if (i >= total)
        return;
      // Never call into the client while holding `mtx`: a blocking hand-off
      // to the I/O thread would wait for a callback that waits for `mtx`.
      auto on_done = [&](const kv::result& r) {
        next();
        // Last touch of this test's locals: once `done` reaches the total,
        // the test thread may leave (so notify under the lock).
        std::lock_guard<std::mutex> guard{mtx};
        ++done;
        ok += r.ok() ? 1 : 0;
        cv.notify_one();
      };
      if (writes)
        c->async_put("k" + std::to_string(i % 50), std::string(100, 'v'), std::nullopt, on_done);
      else
        c->async_get("k" + std::to_string(i % 50), on_done);
    };
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < in_flight; ++i)
      next();
    std::unique_lock<std::mutex> lock{mtx};
    EXPECT_TRUE(cv.wait_for(lock, 30s, [&] { return done == total; }));
    auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start);
    EXPECT_EQ(ok, total);
    std::cout << "[ measured ] " << total << (writes ? " puts" : " gets") << ", " << in_flight
              << " in flight: " << static_cast<int>(total / elapsed.count()) << " ops/s\n";
  };
  run(true);
  run(false);
  auto list = c->list("k");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list.entries.size(), 50u);
}

/// Puts `n` keys `<prefix><i, 5 digits>` = value_of(i), 32 at a time.
void put_many(client::client& c, const std::string& prefix, int n,
              const std::function<std::string(int)>& value_of) {
  std::mutex mtx;
  std::condition_variable cv;
  std::atomic<int> started{0};
  int done = 0;
  int ok = 0;
  std::function<void()> next = [&] {
    auto i = started++;
    if (i >= n)
      return;
    char key[32];
    std::snprintf(key, sizeof(key), "%05d", i);
    c.async_put(prefix + key, value_of(i), std::nullopt, [&](const kv::result& r) {
      next();
      std::lock_guard<std::mutex> guard{mtx};
      ++done;
      ok += r.ok() ? 1 : 0;
      cv.notify_one();
    });
  };
  for (int i = 0; i < 32; ++i)
    next();
  std::unique_lock<std::mutex> lock{mtx};
  ASSERT_TRUE(cv.wait_for(lock, 60s, [&] { return done == n; }));
  ASSERT_EQ(ok, n);
}

/// Every page of a listing, paged by start_after; the pages' sizes in `pages`.
std::vector<kv::key_version> list_all(client::client& c, const std::string& prefix,
                                      bool with_values, std::vector<std::size_t>& pages) {
  std::vector<kv::key_version> all;
  std::string after;
  for (int guard = 0; guard < 10000; ++guard) {
    auto page = c.list(prefix, 0, after, with_values);
    EXPECT_TRUE(page.ok()) << page.message;
    if (!page.ok())
      break;
    pages.push_back(page.entries.size());
    all.insert(all.end(), page.entries.begin(), page.entries.end());
    if (!page.truncated)
      break;
    EXPECT_FALSE(page.entries.empty());
    after = page.entries.back().key;
  }
  return all;
}

TEST_F(GatewayTest, ListPagesThroughManyKeysByCountAndByBytes) {
  auto opts = gateway_options(1);
  opts.max_list_entries = 100;  // small pages: 2,500 keys take 25
  opts.max_list_bytes = 4096;
  gateways[1] = gateway::start(sys, opts, gateway::find_in(group));
  auto c = make_client({endpoint_of(1)}, 10s);
  auto value_of = [](int i) { return "v" + std::to_string(i); };
  put_many(*c, "page/", 2500, value_of);
  ASSERT_TRUE(c->put("page0", "outside the prefix").ok());
  ASSERT_TRUE(c->put("pagd", "before the prefix").ok());
  std::vector<std::size_t> pages;
  auto keys = list_all(*c, "page/", false, pages);
  ASSERT_EQ(keys.size(), 2500u);
  EXPECT_EQ(pages.size(), 25u);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    char key[32];
    std::snprintf(key, sizeof(key), "page/%05zu", i);
    ASSERT_EQ(keys[i].key, key);  // every key once, in key order
    EXPECT_GT(keys[i].version, 0u);
    EXPECT_TRUE(keys[i].value.empty());  // values only when asked
  }
  pages.clear();
  auto valued = list_all(*c, "page/", true, pages);
  ASSERT_EQ(valued.size(), 2500u);
  for (std::size_t i = 0; i < valued.size(); ++i)
    ASSERT_EQ(valued[i].value, value_of(static_cast<int>(i)));
  // The old call still answers one capped page.
  auto first = c->list("page/");
  EXPECT_EQ(first.entries.size(), 100u);
  EXPECT_TRUE(first.truncated);

  // Pages of large values end at the byte bound (never empty): 9-byte keys,
  // 1,000-byte values and 4 KiB pages make pages of 4 (4 x 1,009 bytes).
  put_many(*c, "big/", 30,
           [](int i) { return std::string(1000, static_cast<char>('a' + i % 26)); });
  put_many(*c, "huge/", 3, [](int) { return std::string(10000, 'h'); });
  pages.clear();
  auto big = list_all(*c, "big/", true, pages);
  ASSERT_EQ(big.size(), 30u);
  EXPECT_EQ(pages.front(), 4u);
  EXPECT_EQ(pages.size(), 8u);
  EXPECT_EQ(big[29].value, std::string(1000, static_cast<char>('a' + 29 % 26)));
  pages.clear();
  EXPECT_EQ(list_all(*c, "huge/", true, pages).size(), 3u);
  EXPECT_EQ(pages, (std::vector<std::size_t>{1, 1, 1}));
  // Without values the same keys fit one page.
  pages.clear();
  list_all(*c, "big/", false, pages);
  EXPECT_EQ(pages.size(), 1u);
}

TEST_F(GatewayTest, WatchFromARevisionPastTheCurrentOneIsRefused) {
  start_all_gateways();
  auto c = make_client({endpoint_of(1), endpoint_of(2), endpoint_of(3)});
  auto put = c->put("w", "1");
  ASSERT_TRUE(put.ok()) << put.message;
  std::mutex m;
  std::condition_variable cv;
  std::optional<lock::result> ended;
  std::vector<kv::event> seen;
  auto on_end = [&](lock::result r) {
    std::lock_guard<std::mutex> guard{m};
    ended = std::move(r);
    cv.notify_all();
  };
  auto on_events = [&](std::vector<kv::event> evs, std::uint64_t) {
    std::lock_guard<std::mutex> guard{m};
    seen.insert(seen.end(), evs.begin(), evs.end());
    cv.notify_all();
  };
  auto past = put.version + 1000;
  auto w = c->watch("w", false, past, on_events, on_end);
  {
    std::unique_lock<std::mutex> guard{m};
    ASSERT_TRUE(cv.wait_for(guard, 5s, [&] { return ended.has_value(); }));
    EXPECT_EQ(ended->code, lock::result_code::bad_request);
    EXPECT_EQ(ended->message, "fromRevision " + std::to_string(past) +
                                " is past the current revision " + std::to_string(put.version));
  }
  // A start at exactly the current revision (as a resume is) is fine, and
  // gets the next change.
  {
    std::lock_guard<std::mutex> guard{m};
    ended.reset();
  }
  auto at_current = c->watch("w", false, put.version, on_events, on_end);
  auto next = c->put("w", "2");
  ASSERT_TRUE(next.ok());
  std::unique_lock<std::mutex> guard{m};
  ASSERT_TRUE(cv.wait_for(guard, 5s, [&] { return !seen.empty() || ended.has_value(); }));
  EXPECT_FALSE(ended.has_value());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].revision, next.version);
}

TEST_F(GatewayTest, AWaitOverTheMaximumIsABadRequest) {
  start_gateway(1);
  capnp::EzRpcClient rpc{endpoint_of(1)};
  auto req = rpc.getMain<schemas::client::Ballot>().acquireRequest();
  req.initId().setClientId(7);
  req.getId().setSeq(1);
  req.setSession(1);
  req.setName("L");
  req.setWaitMs(lock::max_acquire_wait_ms + 1);
  auto res = req.send().wait(rpc.getWaitScope()).getResult();
  ASSERT_TRUE(res.isError());
  ASSERT_TRUE(res.getError().isBadRequest());
  EXPECT_EQ(std::string(res.getError().getBadRequest().cStr()),
            "waitMs 3600001 is over the maximum of 3600000 (1 hour)");
}

TEST_F(GatewayTest, SequentialRoundTrips) {
  start_all_gateways();
  auto leader = await_leader();
  ASSERT_NE(leader, 0u);
  for (auto at : {leader, some_follower(leader)}) {
    auto c = make_client({endpoint_of(at)});
    for (int i = 0; i < 20; ++i)  // warm up: connect, find the leader
      ASSERT_TRUE(c->put("warm", "up").ok());
    constexpr int n = 200;
    auto time = [&](auto op) {
      auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < n; ++i)
        EXPECT_TRUE(op(i).ok());
      return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now() - start)
               .count() /
             n;
    };
    auto put_us = time([&](int i) { return c->put("k" + std::to_string(i), "v"); });
    auto get_us = time([&](int i) { return c->get("k" + std::to_string(i)); });
    std::cout << "[ measured ] one at a time through the " << (at == leader ? "leader" : "follower")
              << "'s gateway: put " << put_us << " us, get " << get_us << " us\n";
  }
}

}  // namespace
