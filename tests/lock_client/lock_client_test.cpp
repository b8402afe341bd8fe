// The embedded lock client and the election recipe against three service
// machine replicas on CAF's real scheduler (5 ms ticks): sessions, keep-alive,
// try/blocking locks with fencing tokens, expiry hand-off, shared/exclusive
// modes, watches, elections and a leader replica killed mid-way. Every wait
// is bounded; each test takes well under a few seconds.

#include "actors/lock/lock_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "caf/all.hpp"

#include "actors/lock/election.hpp"
#include "actors/lock/lock_codec.hpp"
#include "actors/replica/replica_actor.hpp"
#include "tests/support/replica_cluster_fixture.hpp"

namespace {

using namespace ballot;
using namespace std::chrono_literals;
using lock::call_status;
using lock::lock_mode;
using clock_type = std::chrono::steady_clock;

/// Polls `pred` every few milliseconds until it holds or `limit` passes.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 3s) {
  auto until = clock_type::now() + limit;
  while (clock_type::now() < until) {
    if (pred())
      return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

/// Collects a watch's events from its thread.
struct event_log {
  void add(const lock::event& e) {
    std::lock_guard<std::mutex> guard{mtx};
    events.push_back(e);
  }
  std::vector<lock::event> snapshot() {
    std::lock_guard<std::mutex> guard{mtx};
    return events;
  }
  std::size_t size() {
    std::lock_guard<std::mutex> guard{mtx};
    return events.size();
  }
  std::mutex mtx;
  std::vector<lock::event> events;
};

class LockClientTest : public test_support::ReplicaClusterFixture {
 protected:
  /// A client with its own id and short polls.
  std::unique_ptr<lock::lock_client> client(std::uint64_t id) {
    lock::client_options opts;
    opts.timeout = 3s;
    opts.poll_interval = 20ms;
    return std::make_unique<lock::lock_client>(sys, group, id, opts);
  }

  std::unique_ptr<lock::session> open(lock::lock_client& c, std::chrono::milliseconds ttl,
                                      lock::session_options opts = {}) {
    auto [opened, s] = c.open_session(ttl, std::move(opts));
    EXPECT_TRUE(opened.ok()) << opened.message;
    return std::move(s);
  }

  /// The replica that leads now (0 if none answers as leader).
  paxos::node_id leader() {
    caf::scoped_actor self{sys};
    paxos::node_id found = 0;
    for (auto& [id, replica] : group)
      self->request(replica, 1s, actors::status_atom_v)
        .receive([&](actors::replica_status& st) { found = st.is_leader ? st.id : found; },
                 [](caf::error&) {});
    return found;
  }

  /// Whether `session` waits for `name`.
  static bool waits(lock::lock_client& c, const std::string& name, lock::session_id session) {
    auto st = c.describe(name);
    for (auto& w : st.waiters)
      if (w.session == session)
        return true;
    return false;
  }
};

TEST_F(LockClientTest, SessionStaysAliveAcrossSeveralTtls) {
  auto c = client(101);
  auto s = open(*c, 300ms);
  ASSERT_TRUE(s);
  auto got = s->lock("jobs/a", lock_mode::exclusive, 1s);
  ASSERT_TRUE(got.ok()) << got.message;
  EXPECT_GT(got.token, 0u);
  std::this_thread::sleep_for(1200ms);  // four TTLs
  EXPECT_FALSE(s->lost()) << s->lost_reason();
  EXPECT_TRUE(c->check_token("jobs/a", got.token).ok());
  EXPECT_TRUE(s->unlock("jobs/a").ok());
  EXPECT_EQ(c->check_token("jobs/a", got.token).status, call_status::stale);
  EXPECT_TRUE(s->close().ok());
  EXPECT_TRUE(s->closed());
  EXPECT_EQ(s->try_lock("jobs/a").status, call_status::session_lost);
}

TEST_F(LockClientTest, TryLockIsBusyWhileHeldAndOkOnceReleased) {
  auto c = client(102);
  auto s1 = open(*c, 2s);
  auto s2 = open(*c, 2s);
  ASSERT_TRUE(s1 && s2);
  auto first = s1->try_lock("db");
  ASSERT_TRUE(first.ok()) << first.message;
  EXPECT_EQ(s2->try_lock("db").status, call_status::busy);
  auto again = s1->try_lock("db");
  EXPECT_EQ(again.status, call_status::already_held);
  EXPECT_EQ(again.token, first.token);
  EXPECT_TRUE(s1->unlock("db").ok());
  EXPECT_EQ(s1->unlock("db").status, call_status::not_held);
  auto second = s2->try_lock("db");
  ASSERT_TRUE(second.ok()) << second.message;
  EXPECT_GT(second.token, first.token);
  EXPECT_EQ(s1->try_lock("").status, call_status::bad_request);
}

TEST_F(LockClientTest, BlockingLockIsGrantedOnTheHoldersUnlockWithIncreasingTokens) {
  auto c = client(103);
  auto s1 = open(*c, 2s);
  auto s2 = open(*c, 2s);
  ASSERT_TRUE(s1 && s2);
  auto t1 = s1->lock("queue", lock_mode::exclusive, 1s);
  ASSERT_TRUE(t1.ok()) << t1.message;
  auto waiting =
    std::async(std::launch::async, [&] { return s2->lock("queue", lock_mode::exclusive, 5s); });
  ASSERT_TRUE(eventually([&] { return waits(*c, "queue", s2->id()); }));
  auto released = clock_type::now();
  ASSERT_TRUE(s1->unlock("queue").ok());
  auto t2 = waiting.get();
  ASSERT_TRUE(t2.ok()) << t2.message;
  EXPECT_GT(t2.token, t1.token);
  EXPECT_LT(clock_type::now() - released, 1s);
  // And back: the first session waits, the second hands over.
  auto back =
    std::async(std::launch::async, [&] { return s1->lock("queue", lock_mode::exclusive, 5s); });
  ASSERT_TRUE(eventually([&] { return waits(*c, "queue", s1->id()); }));
  ASSERT_TRUE(s2->unlock("queue").ok());
  auto t3 = back.get();
  ASSERT_TRUE(t3.ok()) << t3.message;
  EXPECT_GT(t3.token, t2.token);
  EXPECT_TRUE(c->check_token("queue", t3.token).ok());
  EXPECT_EQ(c->check_token("queue", t2.token).status, call_status::stale);
}

TEST_F(LockClientTest, LockTimeoutReturnsTimedOutAndLeavesNothingQueued) {
  auto c = client(104);
  auto s1 = open(*c, 2s);
  auto s2 = open(*c, 2s);
  ASSERT_TRUE(s1 && s2);
  ASSERT_TRUE(s1->lock("report", lock_mode::exclusive, 1s).ok());
  auto start = clock_type::now();
  auto r = s2->lock("report", lock_mode::exclusive, 200ms);
  auto took = clock_type::now() - start;
  EXPECT_EQ(r.status, call_status::timed_out) << r.message;
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 2s);
  auto st = c->describe("report");
  ASSERT_TRUE(st.result.ok()) << st.result.message;
  EXPECT_TRUE(st.waiters.empty());
  ASSERT_EQ(st.holders.size(), 1u);
  EXPECT_EQ(st.holders[0].session, s1->id());
  // Nothing of s2 is left to be granted: after the unlock nobody holds it.
  ASSERT_TRUE(s1->unlock("report").ok());
  auto after = c->describe("report");
  EXPECT_TRUE(after.holders.empty());
  EXPECT_TRUE(after.waiters.empty());
}

TEST_F(LockClientTest, StoppedKeepAliveLosesTheSessionAndTheLockGoesToTheNextWaiter) {
  auto c = client(105);
  std::promise<std::string> lost_why;
  lock::session_options opts;
  opts.on_lost = [&](const std::string& why) { lost_why.set_value(why); };
  auto s1 = open(*c, 300ms, std::move(opts));
  auto s2 = open(*c, 3s);
  ASSERT_TRUE(s1 && s2);
  auto t1 = s1->lock("leader-lock", lock_mode::exclusive, 1s);
  ASSERT_TRUE(t1.ok()) << t1.message;
  auto waiting = std::async(std::launch::async,
                            [&] { return s2->lock("leader-lock", lock_mode::exclusive, 8s); });
  ASSERT_TRUE(eventually([&] { return waits(*c, "leader-lock", s2->id()); }));
  auto stopped = clock_type::now();
  s1->stop_keep_alive();
  auto t2 = waiting.get();
  ASSERT_TRUE(t2.ok()) << t2.message;
  EXPECT_GT(t2.token, t1.token);
  EXPECT_GE(clock_type::now() - stopped, 200ms);  // not before the TTL ran out
  auto fut = lost_why.get_future();
  ASSERT_EQ(fut.wait_for(2s), std::future_status::ready);
  EXPECT_FALSE(fut.get().empty());
  EXPECT_TRUE(s1->lost());
  EXPECT_EQ(c->check_token("leader-lock", t1.token).status, call_status::stale);
  EXPECT_EQ(s1->unlock("leader-lock").status, call_status::session_lost);
  EXPECT_TRUE(c->check_token("leader-lock", t2.token).ok());
}

/// When `s` was first seen in jeopardy and first seen lost, polling every
/// millisecond for up to `limit`.
struct health_seen {
  std::optional<clock_type::time_point> jeopardy, lost;
  bool lost_while_healthy = false;
};

health_seen watch_health(lock::session& s, std::chrono::milliseconds limit) {
  health_seen out;
  auto until = clock_type::now() + limit;
  while (clock_type::now() < until && !out.lost) {
    auto h = s.health();
    auto lost = s.lost();
    auto now = clock_type::now();
    if (h == lock::session_health::jeopardy && !out.jeopardy)
      out.jeopardy = now;
    if (lost) {
      out.lost = now;
      out.lost_while_healthy = !out.jeopardy;
    }
    std::this_thread::sleep_for(1ms);
  }
  return out;
}

TEST_F(LockClientTest, StoppedKeepAlivesGoThroughTheKeepersJeopardyBeforeTheLoss) {
  auto c = client(113);
  std::promise<std::string> lost_why;
  lock::session_options opts;
  opts.on_lost = [&](const std::string& why) { lost_why.set_value(why); };
  auto s = open(*c, 400ms, std::move(opts));
  ASSERT_TRUE(s);
  // The embedded client's timing is the keeper's default for the TTL.
  EXPECT_EQ(s->timing().ttl, 400ms);
  EXPECT_EQ(s->timing().jeopardy_margin, 100ms);
  EXPECT_EQ(s->timing().interval, 100ms);
  std::this_thread::sleep_for(600ms);  // kept healthy past a TTL
  EXPECT_EQ(s->health(), lock::session_health::healthy);
  EXPECT_FALSE(s->in_jeopardy());
  auto stopped = clock_type::now();
  s->stop_keep_alive();
  auto seen = watch_health(*s, 3s);
  ASSERT_TRUE(seen.jeopardy);
  ASSERT_TRUE(seen.lost);
  EXPECT_FALSE(seen.lost_while_healthy);
  // Jeopardy comes TTL - margin after the last confirmed send, which was at
  // most an interval (plus its trip) before the stop; the loss a margin
  // after jeopardy. The old rule knew no jeopardy at all.
  EXPECT_LE(*seen.jeopardy - stopped, 300ms + 150ms);
  EXPECT_GE(*seen.lost - *seen.jeopardy, 50ms);
  EXPECT_LE(*seen.lost - *seen.jeopardy, 100ms + 150ms);
  EXPECT_LE(*seen.lost - stopped, 400ms + 150ms);
  EXPECT_EQ(s->health(), lock::session_health::expired);
  auto fut = lost_why.get_future();
  ASSERT_EQ(fut.wait_for(2s), std::future_status::ready);
  EXPECT_NE(fut.get().find("stopped"), std::string::npos);
  EXPECT_EQ(s->try_lock("x").status, call_status::session_lost);
}

TEST_F(LockClientTest, AKeepAliveUnansweredPastTheLeaseIsLostAtTheKeepersMoment) {
  lock::client_options copts;
  copts.timeout = 500ms;  // bounds the close in the destructor, with nobody to answer
  copts.attempt_timeout = 100ms;
  lock::lock_client c{sys, group, 114, copts};
  auto [opened, s] = c.open_session(400ms);
  ASSERT_TRUE(opened.ok()) << opened.message;
  std::this_thread::sleep_for(300ms);
  ASSERT_FALSE(s->lost());
  auto cut = clock_type::now();
  for (auto& [id, replica] : group)
    caf::anon_send_exit(replica, caf::exit_reason::kill);
  auto seen = watch_health(*s, 3s);
  ASSERT_TRUE(seen.lost);
  ASSERT_TRUE(seen.jeopardy);
  EXPECT_FALSE(seen.lost_while_healthy);
  // Not before a TTL after the last confirmed send (at most an interval
  // plus a trip before the cut), not long after a TTL after the cut.
  EXPECT_GE(*seen.lost - cut, 400ms - 100ms - 100ms);
  EXPECT_LE(*seen.lost - cut, 400ms + 150ms);
  EXPECT_NE(s->lost_reason().find("no keep-alive"), std::string::npos) << s->lost_reason();
}

TEST_F(LockClientTest, ATtlTooShortForTheKeepersTimingIsRefused) {
  auto c = client(115);
  auto refused = c->open_session(3ms);
  EXPECT_EQ(refused.result.status, call_status::bad_request);
  EXPECT_NE(refused.result.message.find("too short"), std::string::npos) << refused.result.message;
}

TEST_F(LockClientTest, LockDelayKeepsAnExpiredHoldersLockUnavailable) {
  auto c = client(112);
  lock::session_options opts;
  opts.lock_delay = 400ms;
  auto s1 = open(*c, 200ms, std::move(opts));
  auto s2 = open(*c, 3s);
  ASSERT_TRUE(s1 && s2);
  ASSERT_TRUE(s1->try_lock("disk").ok());
  auto stopped = clock_type::now();
  s1->stop_keep_alive();
  auto got = s2->lock("disk", lock_mode::exclusive, 5s);
  ASSERT_TRUE(got.ok()) << got.message;
  // The TTL, then the delay: the hung holder may still believe it holds it.
  EXPECT_GE(clock_type::now() - stopped, 550ms);
  lock::session_options bad;
  bad.lock_delay = 61s;
  EXPECT_EQ(c->open_session(1s, std::move(bad)).result.status, call_status::bad_request);
}

TEST_F(LockClientTest, SharedHoldersTogetherAndAWaitingWriterIsNotStarved) {
  auto c = client(106);
  auto r1 = open(*c, 2s);
  auto r2 = open(*c, 2s);
  auto w = open(*c, 2s);
  auto r3 = open(*c, 2s);
  ASSERT_TRUE(r1 && r2 && w && r3);
  auto a = r1->try_lock("table", lock_mode::shared);
  auto b = r2->try_lock("table", lock_mode::shared);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a.token, b.token);
  EXPECT_EQ(w->try_lock("table", lock_mode::exclusive).status, call_status::busy);
  auto writer =
    std::async(std::launch::async, [&] { return w->lock("table", lock_mode::exclusive, 5s); });
  ASSERT_TRUE(eventually([&] { return waits(*c, "table", w->id()); }));
  // A reader arriving after the queued writer waits behind it.
  EXPECT_EQ(r3->try_lock("table", lock_mode::shared).status, call_status::busy);
  ASSERT_TRUE(r1->unlock("table").ok());
  EXPECT_EQ(writer.wait_for(50ms), std::future_status::timeout);  // r2 still reads
  ASSERT_TRUE(r2->unlock("table").ok());
  auto got = writer.get();
  ASSERT_TRUE(got.ok()) << got.message;
  EXPECT_GT(got.token, std::max(a.token, b.token));
  EXPECT_EQ(r3->try_lock("table", lock_mode::shared).status, call_status::busy);
}

TEST_F(LockClientTest, WatchSeesEveryEventInOrderIncludingEphemeralDeletesOnClose) {
  auto c = client(107);
  event_log log;
  auto w = c->watch("app/", lock::lock_client::from_now, [&](const lock::event& e) { log.add(e); });
  auto start = w->revision();
  auto s = open(*c, 2s);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->put("app/a", "1").ok());
  ASSERT_TRUE(s->put("other/x", "ignored").ok());
  ASSERT_TRUE(s->put("app/b", "2").ok());
  auto last_put = s->put("app/a", "3");
  ASSERT_TRUE(last_put.ok());
  EXPECT_EQ(c->get("app/a").value, "3");
  ASSERT_TRUE(s->close().ok());  // deletes app/a, app/b and other/x
  EXPECT_EQ(c->get("app/a").status, call_status::not_found);
  ASSERT_TRUE(eventually([&] { return log.size() >= 5; }));
  std::this_thread::sleep_for(50ms);  // nothing more may come
  auto seen = log.snapshot();
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen[0].key, "app/a");
  EXPECT_EQ(seen[0].value, "1");
  EXPECT_EQ(seen[1].key, "app/b");
  EXPECT_EQ(seen[2].key, "app/a");
  EXPECT_EQ(seen[2].value, "3");
  EXPECT_EQ(seen[2].revision, last_put.revision);
  for (std::size_t i = 0; i < 3; ++i)
    EXPECT_EQ(seen[i].type, lock::event_type::put);
  for (std::size_t i = 3; i < 5; ++i)
    EXPECT_EQ(seen[i].type, lock::event_type::del);
  for (std::size_t i = 1; i < seen.size(); ++i)
    EXPECT_GT(seen[i].revision, seen[i - 1].revision);
  EXPECT_GT(seen[0].revision, start);
  // Resuming from any revision replays exactly what followed it.
  event_log replay;
  auto w2 = c->watch("app/", seen[1].revision, [&](const lock::event& e) { replay.add(e); });
  ASSERT_TRUE(eventually([&] { return replay.size() >= 3; }));
  std::this_thread::sleep_for(50ms);
  auto again = replay.snapshot();
  ASSERT_EQ(again.size(), 3u);
  EXPECT_EQ(again[0], seen[2]);
  EXPECT_EQ(again[2], seen[4]);
  EXPECT_EQ(w2->revision(), w->revision());
  w->stop();
  EXPECT_FALSE(w->running());
}

TEST_F(LockClientTest, WatchEndsWithCompactedWhenTheHistoryNoLongerReachesBack) {
  // A stand-in replica whose history starts after every revision asked for.
  auto fake = sys.spawn([]() -> caf::behavior {
    return {
      [](actors::read_atom, std::string&) {
        return actors::read_reply{paxos::reply_status::ok,
                                  lock::encode(lock::result::error(lock::result_code::compacted)),
                                  std::nullopt};
      },
    };
  });
  lock::client_options opts;
  opts.timeout = 1s;
  lock::lock_client c{sys, actors::peer_map{{1, fake}}, 113, opts};
  std::promise<lock::call_result> ended;
  auto w = c.watch(
    "app/", 7, [](const lock::event&) {}, [&](const lock::call_result& r) { ended.set_value(r); });
  auto fut = ended.get_future();
  ASSERT_EQ(fut.wait_for(2s), std::future_status::ready);
  auto r = fut.get();
  EXPECT_EQ(r.status, call_status::compacted);
  EXPECT_EQ(r.revision, 7u);
  EXPECT_NE(r.message.find("revision 7"), std::string::npos) << r.message;
  EXPECT_TRUE(eventually([&] { return !w->running(); }));
  caf::anon_send_exit(fake, caf::exit_reason::user_shutdown);
}

TEST_F(LockClientTest, ElectionOneLeadsResignsAndTheOtherTakesOverWithAHigherTerm) {
  auto c = client(108);
  auto sa = open(*c, 2s);
  auto sb = open(*c, 2s);
  ASSERT_TRUE(sa && sb);
  lock::election a{*c, "scheduler"};
  lock::election b{*c, "scheduler"};
  std::mutex mtx;
  std::vector<std::optional<std::string>> changes;
  auto obs = a.observe([&](const std::optional<std::string>& v) {
    std::lock_guard<std::mutex> guard{mtx};
    changes.push_back(v);
  });
  ASSERT_TRUE(obs.result.ok()) << obs.result.message;
  EXPECT_EQ(a.leader().status, call_status::not_found);
  auto won = a.campaign(*sa, "node-a", 2s);
  ASSERT_TRUE(won.ok()) << won.message;
  EXPECT_TRUE(a.leading());
  EXPECT_EQ(a.term(), won.token);
  EXPECT_EQ(b.leader().value, "node-a");
  auto campaigning = std::async(std::launch::async, [&] { return b.campaign(*sb, "node-b", 5s); });
  ASSERT_TRUE(eventually([&] { return waits(*c, b.lock_name(), sb->id()); }));
  EXPECT_FALSE(b.leading());
  auto resigned = a.resign();
  ASSERT_TRUE(resigned.ok()) << resigned.message;
  EXPECT_FALSE(a.leading());
  auto took = campaigning.get();
  ASSERT_TRUE(took.ok()) << took.message;
  EXPECT_GT(took.token, won.token);
  EXPECT_EQ(b.term(), took.token);
  EXPECT_EQ(a.leader().value, "node-b");
  EXPECT_EQ(a.resign().status, call_status::not_held);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard<std::mutex> guard{mtx};
    return !changes.empty() && changes.back() == std::optional<std::string>{"node-b"};
  }));
  std::lock_guard<std::mutex> guard{mtx};
  // none, node-a, none (resigned), node-b: every transition, in order.
  ASSERT_EQ(changes.size(), 4u);
  EXPECT_EQ(changes[0], std::nullopt);
  EXPECT_EQ(changes[1], std::optional<std::string>{"node-a"});
  EXPECT_EQ(changes[2], std::nullopt);
  EXPECT_EQ(changes[3], std::optional<std::string>{"node-b"});
}

TEST_F(LockClientTest, ElectionLeaderLosingItsSessionLosesLeadership) {
  auto c = client(109);
  auto sa = open(*c, 300ms);
  auto sb = open(*c, 3s);
  ASSERT_TRUE(sa && sb);
  std::promise<std::uint64_t> lost_term;
  lock::election a{*c, "db-primary",
                   [&](std::uint64_t term, const std::string&) { lost_term.set_value(term); }};
  lock::election b{*c, "db-primary"};
  auto won = a.campaign(*sa, "a", 2s);
  ASSERT_TRUE(won.ok()) << won.message;
  auto campaigning = std::async(std::launch::async, [&] { return b.campaign(*sb, "b", 8s); });
  ASSERT_TRUE(eventually([&] { return waits(*c, b.lock_name(), sb->id()); }));
  sa->stop_keep_alive();  // a hangs
  auto took = campaigning.get();
  ASSERT_TRUE(took.ok()) << took.message;
  EXPECT_GT(took.token, won.token);
  auto fut = lost_term.get_future();
  ASSERT_EQ(fut.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(fut.get(), won.token);
  EXPECT_FALSE(a.leading());
  EXPECT_EQ(b.leader().value, "b");
  EXPECT_EQ(c->check_token(b.lock_name(), won.token).status, call_status::stale);
}

TEST_F(LockClientTest, SessionsLocksAndWatchesSurviveTheLeaderReplicaBeingKilled) {
  auto c = client(110);
  auto s = open(*c, 1s);
  ASSERT_TRUE(s);
  auto held = s->lock("cron", lock_mode::exclusive, 2s);
  ASSERT_TRUE(held.ok()) << held.message;
  event_log log;
  auto w = c->watch("svc/", lock::lock_client::from_now, [&](const lock::event& e) { log.add(e); });
  ASSERT_TRUE(s->put("svc/before", "1").ok());
  auto old_leader = leader();
  ASSERT_NE(old_leader, 0u);
  caf::anon_send_exit(group[old_leader], caf::exit_reason::kill);
  // Longer than the TTL: only keep-alives through the new leader keep it.
  std::this_thread::sleep_for(1500ms);
  EXPECT_FALSE(s->lost()) << s->lost_reason();
  auto now_leader = leader();
  EXPECT_NE(now_leader, 0u);
  EXPECT_NE(now_leader, old_leader);
  EXPECT_TRUE(c->check_token("cron", held.token).ok());
  ASSERT_TRUE(s->put("svc/after", "2").ok());
  ASSERT_TRUE(eventually([&] { return log.size() >= 2; }));
  auto seen = log.snapshot();
  EXPECT_EQ(seen[0].key, "svc/before");
  EXPECT_EQ(seen[1].key, "svc/after");
  EXPECT_TRUE(s->unlock("cron").ok());
  auto next = s->try_lock("cron");
  ASSERT_TRUE(next.ok()) << next.message;
  EXPECT_GT(next.token, held.token);
}

TEST_F(LockClientTest, CallsAreBoundedWhenNoReplicaAnswers) {
  for (auto& [id, replica] : group)
    caf::anon_send_exit(replica, caf::exit_reason::kill);
  lock::client_options opts;
  opts.timeout = 300ms;
  lock::lock_client c{sys, group, 111, opts};
  auto start = clock_type::now();
  auto [opened, s] = c.open_session(1s);
  EXPECT_EQ(opened.status, call_status::unavailable);
  EXPECT_FALSE(opened.message.empty());
  EXPECT_FALSE(s);
  EXPECT_EQ(c.check_token("x", 1).status, call_status::unavailable);
  EXPECT_LT(clock_type::now() - start, 2s);
  EXPECT_EQ(c.open_session(0ms).result.status, call_status::bad_request);
}

TEST_F(LockClientTest, AnExpiredWriteIsReportedAsSuchAndTheNextWriteTakesAFreshId) {
  // Another client under the same id pushes seq 1 out of the replicas'
  // dedup window (64 seqs): to them that id's first writes are forgotten.
  {
    auto other = client(12);
    for (int i = 0; i < 66; ++i)
      ASSERT_EQ(other->del("absent").status, call_status::not_found);
  }
  auto c = client(12);
  auto first = c->del("absent");
  EXPECT_EQ(first.status, call_status::expired) << first.message;
  EXPECT_STREQ(lock::to_string(first.status), "expired");
  // Under its old id every later seq would be refused too.
  EXPECT_EQ(c->del("absent").status, call_status::not_found);
  auto s = open(*c, 5s);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->try_lock("after-expired").ok());

  // The same through the session calls' path.
  auto d = client(12);
  auto [refused, none] = d->open_session(5s);
  EXPECT_EQ(refused.status, call_status::expired) << refused.message;
  EXPECT_FALSE(none);
  auto t = open(*d, 5s);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->try_lock("after-expired").status, call_status::busy);
}

}  // namespace
