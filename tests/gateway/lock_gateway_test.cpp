// The lock service end to end in one process: three service-machine
// replicas, a gateway per replica (each with the change feed of its
// replica), and the client library's session, lock and watch calls.

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "runtime/client/session.hpp"
#include "runtime/gateway/gateway_metrics.hpp"
#include "runtime/metrics/registry.hpp"
#include "tests/gateway/cluster_fixture.hpp"

namespace {

using namespace ballot;
using namespace std::chrono_literals;
using lock::lock_mode;
using lock::result_code;

/// Opens `n` sessions of 30 s through `c`.
std::vector<lock::session_id> open_sessions(client::client& c, int n) {
  std::vector<lock::session_id> out;
  for (int i = 0; i < n; ++i) {
    auto s = c.open_session(30s);
    EXPECT_TRUE(s.ok()) << s.message;
    out.push_back(s.session);
  }
  return out;
}

/// Sends a keep-alive for each of `sessions` at once (pipelined on one
/// connection) and returns the answers in the same order.
std::vector<lock::result> keep_all_alive(client::client& c,
                                         const std::vector<lock::session_id>& sessions) {
  std::vector<std::promise<lock::result>> answers(sessions.size());
  for (std::size_t i = 0; i < sessions.size(); ++i)
    c.async_keep_alive(sessions[i], [&answers, i](lock::result r) { answers[i].set_value(r); });
  std::vector<lock::result> out;
  for (auto& a : answers)
    out.push_back(a.get_future().get());
  return out;
}

class LockGatewayTest : public test_support::ClusterFixture {
 protected:
  std::unique_ptr<client::client> client_all() {
    return make_client({endpoint_of(1), endpoint_of(2), endpoint_of(3)});
  }

  /// Starts node `id`'s gateway with `opts`, counting into a new `reg`.
  std::shared_ptr<gateway::gateway_metrics> start_metered(paxos::node_id id, gateway::options opts,
                                                          metrics::registry& reg) {
    opts.metrics = std::make_shared<gateway::gateway_metrics>(reg);
    gateways[id] = gateway::start(sys, opts, gateway::find_in(group));
    return opts.metrics;
  }

  /// Runs `work` (on a thread of its own) while the leader's replica is held
  /// for 300 ms in the apply of a put `c` makes: the commands asked
  /// meanwhile wait, as in a busy cluster. Returns what `work` returned.
  template <class Work>
  auto while_leader_held(paxos::node_id leader, client::client& c, Work work) {
    struct hold_state {
      std::promise<void> release;
      std::shared_future<void> released = release.get_future().share();
      std::atomic<bool> held{false};
    };
    auto hold = std::make_shared<hold_state>();
    auto feed = feeds.at(leader);
    relays.at(leader)->listen([feed, hold](const service::change& ch) {
      if (!hold->held.exchange(true))
        hold->released.wait();
      feed->publish(ch);
    });
    auto put = std::async(std::launch::async, [&] { return c.put("hold", "x"); });
    for (int i = 0; i < 500 && !hold->held; ++i)
      std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(hold->held);
    auto done = std::async(std::launch::async, work);
    std::this_thread::sleep_for(300ms);
    hold->release.set_value();
    auto out = done.get();
    EXPECT_TRUE(put.get().ok());
    relays.at(leader)->listen([feed](const service::change& ch) { feed->publish(ch); });
    return out;
  }

  /// Keeps `sessions` alive through `c` while the leader is held (above);
  /// every keep-alive must be answered ok.
  void keep_alive_while_held(paxos::node_id leader, client::client& c,
                             const std::vector<lock::session_id>& sessions) {
    auto answers = while_leader_held(leader, c, [&] { return keep_all_alive(c, sessions); });
    for (auto& r : answers)
      EXPECT_TRUE(r.ok()) << lock::to_string(r.code) << ": " << r.message;
  }
};

/// Collects watch events across threads.
struct event_log {
  std::mutex m;
  std::condition_variable cv;
  std::vector<kv::event> events;

  void add(std::vector<kv::event> evs) {
    std::lock_guard<std::mutex> guard{m};
    for (auto& e : evs)
      events.push_back(std::move(e));
    cv.notify_all();
  }

  bool await(std::size_t n, std::chrono::milliseconds within = 5s) {
    std::unique_lock<std::mutex> guard{m};
    return cv.wait_for(guard, within, [&] { return events.size() >= n; });
  }

  std::vector<kv::event> snapshot() {
    std::lock_guard<std::mutex> guard{m};
    return events;
  }
};

TEST_F(LockGatewayTest, TryLockTokensAndCheckToken) {
  start_all_gateways();
  auto c = client_all();
  auto a = c->open_session(5s);
  auto b = c->open_session(5s);
  ASSERT_TRUE(a.ok()) << a.message;
  ASSERT_TRUE(b.ok()) << b.message;
  ASSERT_NE(a.session, b.session);
  auto first = c->acquire(a.session, "L");
  ASSERT_TRUE(first.ok()) << first.message;
  EXPECT_GT(first.token, 0u);
  EXPECT_EQ(c->acquire(b.session, "L").code, result_code::busy);
  // Shared mode conflicts with the exclusive holder too.
  EXPECT_EQ(c->acquire(b.session, "L", lock_mode::shared).code, result_code::busy);
  EXPECT_TRUE(c->check_token("L", first.token).ok());
  ASSERT_TRUE(c->release(a.session, "L").ok());
  EXPECT_EQ(c->release(a.session, "L").code, result_code::not_held);
  EXPECT_EQ(c->check_token("L", first.token).code, result_code::stale);
  auto second = c->acquire(b.session, "L");
  ASSERT_TRUE(second.ok()) << second.message;
  EXPECT_GT(second.token, first.token);
  auto info = c->lock_info("L");
  ASSERT_TRUE(info.ok());
  ASSERT_EQ(info.holders.size(), 1u);
  EXPECT_EQ(info.holders[0].session, b.session);
  EXPECT_EQ(c->keep_alive(999'999).code, result_code::no_session);
  ASSERT_TRUE(c->close_session(b.session).ok());
  EXPECT_EQ(c->check_token("L", second.token).code, result_code::stale);
}

TEST_F(LockGatewayTest, WaitingAcquireIsGrantedByTheRelease) {
  start_all_gateways();
  auto holder_client = make_client({endpoint_of(1)});
  auto waiter_client = make_client({endpoint_of(2)});
  auto a = holder_client->open_session(5s);
  auto b = waiter_client->open_session(5s);
  auto held = holder_client->acquire(a.session, "job");
  ASSERT_TRUE(held.ok()) << held.message;
  auto waiting = std::async(std::launch::async, [&] {
    return waiter_client->acquire(b.session, "job", lock_mode::exclusive, 5s);
  });
  // The waiter is queued before the holder lets go.
  auto deadline = std::chrono::steady_clock::now() + 3s;
  while (holder_client->lock_info("job").waiters.empty() &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  ASSERT_EQ(holder_client->lock_info("job").waiters.size(), 1u);
  auto released_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(holder_client->release(a.session, "job").ok());
  auto granted = waiting.get();
  ASSERT_TRUE(granted.ok()) << granted.message;
  EXPECT_GT(granted.token, held.token);
  // Pushed by the feed, not found by polling at the end of the wait.
  EXPECT_LT(std::chrono::steady_clock::now() - released_at, 2s);
}

TEST_F(LockGatewayTest, WaitTimesOutAndLeavesNoWaiter) {
  start_all_gateways();
  auto c = client_all();
  auto a = c->open_session(5s);
  auto b = c->open_session(5s);
  ASSERT_TRUE(c->acquire(a.session, "t").ok());
  auto start = std::chrono::steady_clock::now();
  auto r = c->acquire(b.session, "t", lock_mode::exclusive, 300ms);
  EXPECT_EQ(r.code, result_code::timeout) << r.message;
  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms);
  EXPECT_TRUE(c->lock_info("t").waiters.empty());
  // The holder's release now grants nobody.
  ASSERT_TRUE(c->release(a.session, "t").ok());
  EXPECT_TRUE(c->lock_info("t").holders.empty());
}

TEST_F(LockGatewayTest, ExpiredHolderLosesTheLockToTheWaiter) {
  start_all_gateways();
  auto c = client_all();
  // Never kept alive: expires after its TTL on the leader's clock.
  auto doomed = c->open_session(400ms);
  ASSERT_TRUE(doomed.ok());
  auto old = c->acquire(doomed.session, "x");
  ASSERT_TRUE(old.ok());
  auto keeper = client::session::open(*c, 2s);
  ASSERT_NE(keeper, nullptr);
  auto next = keeper->acquire("x", lock_mode::exclusive, 5s);
  ASSERT_TRUE(next.ok()) << next.message;
  EXPECT_GT(next.token, old.token);
  EXPECT_EQ(c->check_token("x", old.token).code, result_code::stale);
  EXPECT_EQ(c->keep_alive(doomed.session).code, result_code::no_session);
}

TEST_F(LockGatewayTest, LockDelayHoldsAnExpiredHoldersLock) {
  start_all_gateways();
  auto c = client_all();
  auto doomed = c->open_session(300ms);  // never kept alive
  ASSERT_TRUE(doomed.ok());
  auto held = c->acquire(doomed.session, "d", lock_mode::exclusive, 0ms, 1500ms);
  ASSERT_TRUE(held.ok()) << held.message;
  auto other = c->open_session(10s);
  // Wait until the holder's session has expired (its token goes stale; a
  // keep-alive would extend it).
  auto deadline = std::chrono::steady_clock::now() + 3s;
  while (c->check_token("d", held.token).ok() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  auto expired_at = std::chrono::steady_clock::now();
  EXPECT_EQ(c->check_token("d", held.token).code, result_code::stale);
  EXPECT_EQ(c->keep_alive(doomed.session).code, result_code::no_session);
  // Expired, not released: nobody gets the lock during the delay...
  EXPECT_EQ(c->acquire(other.session, "d").code, result_code::busy);
  EXPECT_GT(c->lock_info("d").deadline, 0u);
  // ...and a waiter gets it once the delay is over.
  auto got = c->acquire(other.session, "d", lock_mode::exclusive, 5s);
  ASSERT_TRUE(got.ok()) << got.message;
  EXPECT_GT(got.token, held.token);
  EXPECT_GE(std::chrono::steady_clock::now() - expired_at, 800ms);
}

TEST_F(LockGatewayTest, SessionHelperKeepsTheSessionAlive) {
  start_all_gateways();
  auto c = client_all();
  std::atomic<bool> lost{false};
  auto s = client::session::open(*c, 300ms, [&](const std::string&) { lost = true; });
  ASSERT_NE(s, nullptr);
  auto got = s->acquire("keep");
  ASSERT_TRUE(got.ok()) << got.message;
  std::this_thread::sleep_for(1500ms);  // five TTLs
  EXPECT_FALSE(lost);
  EXPECT_FALSE(s->lost());
  EXPECT_TRUE(c->check_token("keep", got.token).ok());
  ASSERT_TRUE(s->put("svc/me", "here").ok());
  ASSERT_TRUE(c->get("svc/me").ok());
  ASSERT_TRUE(s->close().ok());
  EXPECT_EQ(c->get("svc/me").code, kv::result_code::not_found);
  EXPECT_EQ(c->check_token("keep", got.token).code, result_code::stale);
}

TEST_F(LockGatewayTest, WatchDeliversEveryChangeInOrderAndResumes) {
  start_all_gateways();
  auto c = client_all();
  event_log log;
  auto w = c->watch("w/", true, std::nullopt,
                    [&](std::vector<kv::event> evs, std::uint64_t) { log.add(std::move(evs)); });
  // The watch starts from the revision it learnt; give it that moment.
  auto deadline = std::chrono::steady_clock::now() + 3s;
  while (!w->started() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(c->put("w/a", "1").ok());
  ASSERT_TRUE(c->put("other", "x").ok());
  auto s = c->open_session(5s);
  ASSERT_TRUE(c->put_ephemeral(s.session, "w/b", "2").ok());
  ASSERT_TRUE(c->close_session(s.session).ok());  // deletes w/b
  ASSERT_TRUE(c->del("w/a").ok());
  ASSERT_TRUE(log.await(4)) << log.snapshot().size();
  auto evs = log.snapshot();
  ASSERT_EQ(evs.size(), 4u);
  EXPECT_EQ(evs[0].key, "w/a");
  EXPECT_EQ(evs[1].key, "w/b");
  EXPECT_EQ(evs[2].type, kv::event_type::del);
  EXPECT_EQ(evs[2].key, "w/b");
  EXPECT_EQ(evs[3].key, "w/a");
  for (std::size_t i = 1; i < evs.size(); ++i)
    EXPECT_GT(evs[i].revision, evs[i - 1].revision);
  // Resuming from a revision replays exactly what came after it.
  event_log again;
  auto w2 = c->watch("w/a", false, evs[0].revision,
                     [&](std::vector<kv::event> e, std::uint64_t) { again.add(std::move(e)); });
  ASSERT_TRUE(again.await(1));
  std::this_thread::sleep_for(100ms);
  auto replay = again.snapshot();
  ASSERT_EQ(replay.size(), 1u);
  EXPECT_EQ(replay[0], evs[3]);
}

TEST_F(LockGatewayTest, SessionsLocksAndWatchesSurviveTheLeadersDeath) {
  start_all_gateways();
  auto leader = await_leader();
  ASSERT_NE(leader, 0u);
  std::vector<std::string> others;
  for (paxos::node_id id : {1, 2, 3})
    if (id != leader)
      others.push_back(endpoint_of(id));
  auto c = make_client(others);
  std::atomic<bool> lost{false};
  auto s = client::session::open(*c, 600ms, [&](const std::string&) { lost = true; });
  ASSERT_NE(s, nullptr);
  auto got = s->acquire("survive");
  ASSERT_TRUE(got.ok()) << got.message;
  event_log log;
  auto w = c->watch("f/", true, std::nullopt,
                    [&](std::vector<kv::event> evs, std::uint64_t) { log.add(std::move(evs)); });
  auto deadline = std::chrono::steady_clock::now() + 3s;
  while (!w->started() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(c->put("f/1", "before").ok());
  ASSERT_TRUE(log.await(1));
  caf::anon_send_exit(group.at(leader), caf::exit_reason::kill);
  // A new leader serves; the session was kept alive through the election.
  auto put = c->put("f/2", "after");
  ASSERT_TRUE(put.ok()) << put.message;
  std::this_thread::sleep_for(1500ms);  // more than two TTLs after the failover
  EXPECT_FALSE(lost);
  EXPECT_TRUE(c->check_token("survive", got.token).ok());
  ASSERT_TRUE(log.await(2));
  auto evs = log.snapshot();
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[1].key, "f/2");
  // The next grant's token is higher than every earlier one.
  ASSERT_TRUE(s->release("survive").ok());
  auto again = s->acquire("survive");
  ASSERT_TRUE(again.ok());
  EXPECT_GT(again.token, got.token);
}

// The keepAlive calls a gateway reads while its batches are out reach the
// log as one command: many sessions cost a few commands, each still
// answered as its own (a gone session among them hears no_session, another
// client's a permission_denied). With coalescing off, every keep-alive is a
// command of its own.
TEST_F(LockGatewayTest, KeepAlivesReadTogetherGoToTheLogAsOneCommand) {
  auto leader = await_leader();
  ASSERT_NE(leader, 0u);
  metrics::registry reg_on, reg_off;
  // The gateways count into these registries: they stop before those go.
  std::shared_ptr<void> stop_gateways(nullptr, [this](void*) { gateways.clear(); });
  auto m_on_ptr = start_metered(leader, gateway_options(leader), reg_on);
  paxos::node_id other = leader == 1 ? 2 : 1;
  auto off = gateway_options(other);
  off.coalesce_keep_alives = false;
  auto m_off = start_metered(other, off, reg_off);

  // Eight clients of 25 sessions each: all their calls fit their windows.
  std::vector<std::unique_ptr<client::client>> clients;
  std::vector<std::vector<lock::session_id>> sessions(8);
  std::map<lock::session_id, lock::time_ms> opened;
  for (std::size_t k = 0; k < sessions.size(); ++k) {
    clients.push_back(make_client({endpoint_of(leader)}));
    for (int i = 0; i < 25; ++i) {
      auto s = clients[k]->open_session(30s);
      ASSERT_TRUE(s.ok()) << s.message;
      sessions[k].push_back(s.session);
      opened[s.session] = s.deadline;
    }
  }
  auto gone = opened.rbegin()->first + 1000;  // never opened
  sessions[3].insert(sessions[3].begin() + 10, gone);

  auto all = while_leader_held(leader, *clients[0], [&] {
    std::vector<std::future<std::vector<lock::result>>> kept;
    for (std::size_t k = 0; k < sessions.size(); ++k)
      kept.push_back(std::async(std::launch::async,
                                [&, k] { return keep_all_alive(*clients[k], sessions[k]); }));
    std::vector<std::vector<lock::result>> out;
    for (auto& f : kept)
      out.push_back(f.get());
    return out;
  });
  std::size_t calls = 0;
  for (std::size_t k = 0; k < sessions.size(); ++k) {
    auto& answers = all[k];
    ASSERT_EQ(answers.size(), sessions[k].size());
    for (std::size_t i = 0; i < answers.size(); ++i, ++calls) {
      if (sessions[k][i] == gone) {
        EXPECT_EQ(answers[i].code, result_code::no_session) << answers[i].message;
        continue;
      }
      ASSERT_TRUE(answers[i].ok()) << k << "/" << i << ": " << answers[i].message;
      EXPECT_EQ(answers[i].session, sessions[k][i]);
      EXPECT_GE(answers[i].deadline, opened.at(sessions[k][i]));
    }
  }
  auto& m_on = *m_on_ptr;
  EXPECT_EQ(m_on.keep_alive_sessions.value(), calls);
  // Two batches at most were out while the leader was held; the 199 calls
  // that came meanwhile went as one (give or take a call read late).
  EXPECT_LE(m_on.keep_alive_commands.value(), 5u) << m_on.keep_alive_commands.value();

  // Another client: the sessions are not its own (their secrets are the
  // first clients'), and each batched keep-alive says so for itself.
  auto stranger = make_client({endpoint_of(leader)});
  for (auto& r : keep_all_alive(*stranger, sessions[0]))
    EXPECT_EQ(r.code, result_code::permission_denied) << r.message;

  // With coalescing off, each keep-alive is a command.
  auto c_off = make_client({endpoint_of(other)});
  auto own = open_sessions(*c_off, 50);
  for (auto& r : keep_all_alive(*c_off, own))
    EXPECT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(m_off->keep_alive_commands.value(), 50u);
  EXPECT_EQ(m_off->keep_alive_sessions.value(), 50u);
}

// The C++ client sends keep-alives outside its window of 64 writes in
// flight (the gateway's command carries the request id): one client's 200
// keep-alives are all out while the leader is held, and go as one batch.
TEST_F(LockGatewayTest, OneClientsKeepAlivesAreAllInFlightAtOnce) {
  auto leader = await_leader();
  ASSERT_NE(leader, 0u);
  metrics::registry reg;
  std::shared_ptr<void> stop_gateways(nullptr, [this](void*) { gateways.clear(); });
  auto m = start_metered(leader, gateway_options(leader), reg);
  auto c = make_client({endpoint_of(leader)});
  keep_alive_while_held(leader, *c, open_sessions(*c, 200));
  EXPECT_EQ(m->keep_alive_sessions.value(), 200u);
  // Within a window of 64 the 136 behind would have trickled out after the
  // hold, a few a command.
  EXPECT_LE(m->keep_alive_commands.value(), 5u) << m->keep_alive_commands.value();
}

// A follower forwards a write only up to max_forward_bytes without care (a
// larger one is a large write: redirected with notLeader when the client can
// be, else forwarded within a small budget): its batches are cut to fit, and
// every keep-alive is answered ok, through the leader.
TEST_F(LockGatewayTest, AFollowersKeepAliveBatchesFitWhatItForwards) {
  auto leader = await_leader();
  ASSERT_NE(leader, 0u);
  paxos::node_id follower = leader == 1 ? 2 : 1;
  metrics::registry reg;
  std::shared_ptr<void> stop_gateways(nullptr, [this](void*) { gateways.clear(); });
  start_gateway(leader);
  auto opts = gateway_options(follower);
  // Less than two sessions' keep-alives (13 + 21 bytes each): every batch
  // carries one.
  opts.max_forward_bytes = 48;
  // A redirect would name an endpoint where nobody listens: a batch too
  // large to forward would fail its keep-alives instead of passing quietly.
  opts.client_endpoints[leader] = "127.0.0.1:9";
  auto m = start_metered(follower, opts, reg);
  auto c = make_client({endpoint_of(follower)});
  // While the leader is held, the calls pile up into batches.
  keep_alive_while_held(leader, *c, open_sessions(*c, 60));
  // Answered ok the first time: no keepAlive call heard anything else.
  auto text = reg.render();
  EXPECT_NE(text.find("ballot_client_requests_total{op=\"keepAlive\",result=\"ok\"} 60"),
            std::string::npos)
    << text;
  EXPECT_EQ(text.find("op=\"keepAlive\",result=\"notLeader\""), std::string::npos);
  // Uncut, the calls that piled up would have gone in one or two commands.
  EXPECT_EQ(m->keep_alive_commands.value(), 60u);
  EXPECT_EQ(m->keep_alive_sessions.value(), 60u);
}

}  // namespace
