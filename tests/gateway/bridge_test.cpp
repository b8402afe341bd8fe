// The bridge's timing on its own, against scripted replicas: an ask that is
// never answered ends at the hop timeout, a request that is never answered
// ends at its deadline with the last error, a late answer to an ask already
// ended is dropped, after a failure the next ask waits the retry delay, and a
// large write waiting for the forwarding budget ends at its own deadline (and
// gives the gateway its bytes back).

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <capnp/ez-rpc.h>
#include <kj/async-io.h>

#include "caf/all.hpp"

#include "actors/kv/command_codec.hpp"
#include "actors/paxos/membership.hpp"
#include "actors/replica/type_ids.hpp"
#include "runtime/gateway/bridge.hpp"
#include "runtime/gateway/gateway.hpp"
#include "schemas/client.capnp.h"

namespace ballot::gateway {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// What a scripted replica does with its n-th ask (from 0).
struct plan {
  /// Nothing: the promise is kept and never delivered.
  std::optional<paxos::client_reply> reply;
  std::chrono::milliseconds delay{0};
};

/// When each ask arrived and what it carried, read from the test's thread.
struct ask_log {
  std::mutex mutex;
  std::vector<clock_type::time_point> at;
  std::vector<std::string> payloads;
  /// The size of each batch asked (propose_batch_atom), and the count of
  /// writes asked alone (propose_atom).
  std::vector<std::size_t> batches;
  std::size_t alone = 0;
  /// The next batch's answer leaves out this many of its last replies (a
  /// member answering short).
  std::atomic<std::size_t> short_by{0};

  std::vector<clock_type::time_point> times() {
    std::lock_guard<std::mutex> guard{mutex};
    return at;
  }
  /// How many asks carried `bytes` somewhere in their payload.
  std::size_t asks_with(const std::string& bytes) {
    std::lock_guard<std::mutex> guard{mutex};
    return static_cast<std::size_t>(
      std::count_if(payloads.begin(), payloads.end(),
                    [&](const std::string& p) { return p.find(bytes) != std::string::npos; }));
  }
};

struct scripted_state {
  std::vector<caf::typed_response_promise<paxos::client_reply>> held;
  std::vector<paxos::client_reply> later;
  std::vector<caf::typed_response_promise<std::vector<paxos::client_reply>>> held_batches;
};

/// Logs one ask of `cmd`; its number (from 0).
std::size_t log_ask(ask_log& log, const paxos::command& cmd, bool alone) {
  std::lock_guard<std::mutex> guard{log.mutex};
  log.at.push_back(clock_type::now());
  log.payloads.push_back(cmd.payload.str());
  log.alone += alone ? 1 : 0;
  return log.at.size() - 1;
}

caf::behavior scripted_replica(caf::stateful_actor<scripted_state>* self,
                               std::function<plan(std::size_t)> script,
                               std::shared_ptr<ask_log> log) {
  return {
    [=](actors::propose_atom, paxos::command& cmd) -> caf::result<paxos::client_reply> {
      auto p = script(log_ask(*log, cmd, true));
      auto promise = self->make_response_promise<paxos::client_reply>();
      auto& st = self->state;
      st.held.push_back(promise);
      if (p.reply && p.delay.count() == 0) {
        promise.deliver(*p.reply);
      } else if (p.reply) {
        st.later.resize(st.held.size());
        st.later.back() = *p.reply;
        self->delayed_send(self, p.delay, caf::timeout_atom_v, std::uint64_t{st.held.size() - 1});
      }
      return promise;
    },
    // A batch: each command's plan in turn; answered at once when every
    // plan answers at once, else never (the tests' batches need no more).
    [=](actors::propose_batch_atom,
        std::vector<paxos::command>& cmds) -> caf::result<std::vector<paxos::client_reply>> {
      {
        std::lock_guard<std::mutex> guard{log->mutex};
        log->batches.push_back(cmds.size());
      }
      std::vector<paxos::client_reply> replies;
      bool all = true;
      for (auto& cmd : cmds) {
        auto p = script(log_ask(*log, cmd, false));
        all = all && p.reply && p.delay.count() == 0;
        if (p.reply)
          replies.push_back(*p.reply);
      }
      auto promise = self->make_response_promise<std::vector<paxos::client_reply>>();
      self->state.held_batches.push_back(promise);
      if (all) {
        replies.resize(replies.size() - std::min(replies.size(), log->short_by.exchange(0)));
        promise.deliver(std::move(replies));
      }
      return promise;
    },
    [=](caf::timeout_atom, std::uint64_t i) {
      auto& st = self->state;
      st.held[i].deliver(st.later[i]);
    },
  };
}

paxos::client_reply answer(paxos::reply_status status, std::string result = {},
                           std::optional<paxos::node_id> hint = std::nullopt) {
  return paxos::client_reply{7, 1, status, std::move(result), hint};
}

class BridgeTest : public ::testing::Test {
 protected:
  static caf::actor_system_config& configure(caf::actor_system_config& cfg) {
    cfg.set("logger.file-verbosity", caf::atom("quiet"));
    cfg.set("scheduler.max-threads", 2);
    cfg.add_message_types<caf::id_block::ballot>();
    return cfg;
  }

  BridgeTest() : sys(configure(cfg)) {
    opts.self = 1;
    opts.members = {1, 2};
    opts.request_timeout = 2s;
    opts.hop_timeout = 100ms;
    opts.retry_delay = 20ms;
  }

  ~BridgeTest() override {
    for (auto& r : replicas)
      caf::anon_send_exit(r.second, caf::exit_reason::user_shutdown);
  }

  std::shared_ptr<ask_log> add_replica(paxos::node_id id, std::function<plan(std::size_t)> s) {
    auto log = std::make_shared<ask_log>();
    replicas[id] = sys.spawn(scripted_replica, std::move(s), log);
    return log;
  }

  /// One write through a new bridge; the reply and how long it took.
  std::pair<bridge_reply, clock_type::duration> write() {
    b = std::make_unique<bridge>(sys, find_in(replicas), opts);
    std::promise<bridge_reply> got;
    auto fut = got.get_future();
    auto start = started = clock_type::now();
    b->write(paxos::command{7, 1, "payload"}, [&got, this](bridge_reply r) {
      ++calls;
      if (calls == 1)
        got.set_value(std::move(r));
    });
    EXPECT_EQ(fut.wait_for(10s), std::future_status::ready);
    return {fut.get(), clock_type::now() - start};
  }

  caf::actor_system_config cfg;
  caf::actor_system sys;
  options opts;
  actors::peer_map replicas;
  std::atomic<int> calls{0};
  std::unique_ptr<bridge> b;
  /// When the last `write` was asked of the bridge.
  clock_type::time_point started;
};

TEST_F(BridgeTest, AnAskNeverAnsweredEndsAtTheHopTimeoutAndTheNextAskIsMade) {
  auto log = add_replica(1, [](std::size_t n) {
    return n == 0 ? plan{} : plan{answer(paxos::reply_status::ok, "second"), 0ms};
  });
  auto [reply, took] = write();
  EXPECT_EQ(reply.st, bridge_reply::status::ok);
  EXPECT_EQ(reply.result, "second");
  auto asks = log->times();
  ASSERT_EQ(asks.size(), 2u);
  // The hop timeout, then the retry delay after that failure. Counted from
  // the write, not from the first ask's arrival: that may come late on a
  // busy machine (it did: 116 ms between the arrivals).
  EXPECT_GE(asks[1] - started, 120ms);
  EXPECT_LT(took, 1s);
}

TEST_F(BridgeTest, ARequestNeverAnsweredIsUnavailableAtItsDeadlineWithTheLastError) {
  opts.request_timeout = 500ms;
  auto log = add_replica(1, [](std::size_t) { return plan{}; });
  auto [reply, took] = write();
  EXPECT_EQ(reply.st, bridge_reply::status::unavailable);
  EXPECT_NE(reply.message.find("replica 1 did not answer"), std::string::npos) << reply.message;
  EXPECT_NE(reply.message.find("request_timeout"), std::string::npos) << reply.message;
  EXPECT_NE(reply.message.find("gave up after 500 ms"), std::string::npos) << reply.message;
  EXPECT_GE(took, 450ms);
  EXPECT_LT(took, 1500ms);
  // Asked once per hop timeout and retry delay until the deadline.
  EXPECT_GE(log->times().size(), 3u);
  EXPECT_LE(log->times().size(), 5u);
}

TEST_F(BridgeTest, ALateAnswerToAnAskAlreadyEndedIsDropped) {
  // Followed, the late answer's hint would send the finished request on to replica 2.
  add_replica(1, [](std::size_t n) {
    return n == 0 ? plan{answer(paxos::reply_status::not_leader, {}, 2), 300ms}
                  : plan{answer(paxos::reply_status::ok, "fresh"), 0ms};
  });
  auto asked_2 = add_replica(2, [](std::size_t) {
    return plan{answer(paxos::reply_status::ok, "from 2"), 0ms};
  });
  auto [reply, took] = write();
  EXPECT_EQ(reply.st, bridge_reply::status::ok);
  EXPECT_EQ(reply.result, "fresh");
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(asked_2->times().size(), 0u);
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(BridgeTest, AfterAFailureTheNextAskWaitsTheRetryDelay) {
  opts.retry_delay = 60ms;
  opts.request_timeout = 500ms;
  auto log = add_replica(1, [](std::size_t) {
    return plan{answer(paxos::reply_status::not_leader), 0ms};
  });
  auto [reply, took] = write();
  EXPECT_EQ(reply.st, bridge_reply::status::unavailable);
  EXPECT_NE(reply.message.find("no leader elected"), std::string::npos) << reply.message;
  auto asks = log->times();
  ASSERT_GE(asks.size(), 4u);
  for (std::size_t i = 1; i < asks.size(); ++i)
    EXPECT_GE(asks[i] - asks[i - 1], 60ms) << "ask " << i;
  // Not much more either: one timer for all the bridge's jobs still fires on time.
  EXPECT_LT(asks[3] - asks[0], 3 * 60ms + 150ms);
}

/// Sends one write through `b`; the future of its (first) reply, and the
/// count of replies it got.
std::future<bridge_reply> send(bridge& b, std::uint64_t seq, std::string payload,
                               std::shared_ptr<std::atomic<int>> replies) {
  auto got = std::make_shared<std::promise<bridge_reply>>();
  auto fut = got->get_future();
  b.write(paxos::command{7, seq, std::move(payload)}, [got, replies](bridge_reply r) {
    if (++*replies == 1)
      got->set_value(std::move(r));
  });
  return fut;
}

/// A finder that holds the bridge's actor in its first call until
/// `release`: the requests sent meanwhile wait in its mailbox together.
struct held_finder {
  explicit held_finder(replica_finder all) : all(std::move(all)) {}
  replica_finder all;
  std::shared_ptr<std::promise<void>> entered_promise = std::make_shared<std::promise<void>>();
  std::future<void> entered = entered_promise->get_future();
  std::shared_ptr<std::promise<void>> release = std::make_shared<std::promise<void>>();

  replica_finder finder() {
    auto first = std::make_shared<std::atomic<bool>>(true);
    return [first, in = entered_promise, out = release->get_future().share(),
            all = all](paxos::node_id id) {
      if (first->exchange(false)) {
        in->set_value();
        out.wait();
      }
      return all(id);
    };
  }
};

TEST_F(BridgeTest, WritesThatArriveTogetherGoToTheReplicaAsOneBatchEachWithItsOwnAnswer) {
  // The replica answers its n-th write "n". The bridge's actor is held in
  // its first ask (in the finder) while the other writes arrive, so all of
  // them are in its mailbox together.
  auto log = add_replica(1, [](std::size_t n) {
    return plan{answer(paxos::reply_status::ok, std::to_string(n)), 0ms};
  });
  held_finder held{find_in(replicas)};
  b = std::make_unique<bridge>(sys, held.finder(), opts);
  constexpr std::size_t writes = 20;
  std::vector<std::future<bridge_reply>> replies;
  std::vector<std::shared_ptr<std::atomic<int>>> counts;
  for (std::size_t i = 0; i <= writes; ++i)
    counts.push_back(std::make_shared<std::atomic<int>>(0));
  replies.push_back(send(*b, 1, "w0", counts[0]));
  ASSERT_EQ(held.entered.wait_for(5s), std::future_status::ready);
  for (std::size_t i = 1; i < writes; ++i)
    replies.push_back(send(*b, i + 1, "w" + std::to_string(i), counts[i]));
  std::this_thread::sleep_for(50ms);  // the sends are in the mailbox
  held.release->set_value();

  for (std::size_t i = 0; i < writes; ++i) {
    ASSERT_EQ(replies[i].wait_for(5s), std::future_status::ready) << i;
    auto r = replies[i].get();
    EXPECT_EQ(r.st, bridge_reply::status::ok) << i << ": " << r.message;
    EXPECT_EQ(r.result, std::to_string(i)) << "write " << i << " got another write's answer";
  }
  {
    std::lock_guard<std::mutex> guard{log->mutex};
    EXPECT_EQ(log->batches, std::vector<std::size_t>{writes});
    EXPECT_EQ(log->alone, 0u);
  }

  // A write on its own is asked on its own.
  auto one = send(*b, 100, "alone", counts[writes]);
  ASSERT_EQ(one.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(one.get().result, std::to_string(writes));
  std::lock_guard<std::mutex> guard{log->mutex};
  EXPECT_EQ(log->alone, 1u);
  EXPECT_EQ(log->batches.size(), 1u);
  for (auto& c : counts)
    EXPECT_EQ(c->load(), 1) << "each write is answered once";
}

TEST_F(BridgeTest, AnOutboxHandsItsRequestsOverTogetherAndTheirWritesGoAsOneBatch) {
  auto log = add_replica(1, [](std::size_t n) {
    return plan{answer(paxos::reply_status::ok, std::to_string(n)), 0ms};
  });
  b = std::make_unique<bridge>(sys, find_in(replicas), opts);
  bridge::outbox out{*b};
  std::vector<std::shared_ptr<std::promise<bridge_reply>>> got;
  std::vector<std::future<bridge_reply>> replies;
  for (std::uint64_t i = 0; i < 6; ++i) {
    auto p = std::make_shared<std::promise<bridge_reply>>();
    replies.push_back(p->get_future());
    out.write(paxos::command{7, i + 1, "w" + std::to_string(i)},
              [p](bridge_reply r) { p->set_value(std::move(r)); });
  }
  // Nothing reaches the bridge until the outbox is sent.
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(log->times().size(), 0u);
  EXPECT_FALSE(out.empty());
  out.send();
  EXPECT_TRUE(out.empty());
  for (std::size_t i = 0; i < replies.size(); ++i) {
    ASSERT_EQ(replies[i].wait_for(5s), std::future_status::ready) << i;
    auto r = replies[i].get();
    EXPECT_EQ(r.st, bridge_reply::status::ok) << r.message;
    EXPECT_EQ(r.result, std::to_string(i));
  }
  std::lock_guard<std::mutex> guard{log->mutex};
  EXPECT_EQ(log->batches, std::vector<std::size_t>{6});
  EXPECT_EQ(log->alone, 0u);
}

TEST_F(BridgeTest, AnOutboxAnswersAReservedClientIdAtOnceAndDropsWhatItNeverSent) {
  add_replica(1, [](std::size_t) { return plan{answer(paxos::reply_status::ok, "x"), 0ms}; });
  b = std::make_unique<bridge>(sys, find_in(replicas), opts);
  std::optional<bridge_reply> reserved;
  auto dropped = std::make_shared<int>(0);
  {
    bridge::outbox out{*b};
    out.write(paxos::command{paxos::membership_client, 1, "x"},
              [&reserved](bridge_reply r) { reserved = std::move(r); });
    ASSERT_TRUE(reserved) << "answered before the outbox is sent";
    EXPECT_EQ(reserved->st, bridge_reply::status::invalid);
    EXPECT_TRUE(out.empty());
    out.write(paxos::command{7, 1, "never sent"}, [dropped](bridge_reply) { ++*dropped; });
    EXPECT_EQ(dropped.use_count(), 2);
  }
  // The callback went with the outbox, uncalled.
  EXPECT_EQ(dropped.use_count(), 1);
  EXPECT_EQ(*dropped, 0);
}

TEST_F(BridgeTest, AWriteLeftOutOfABatchsAnswerIsAskedAgainAndTheOthersAreAnswered) {
  auto log = add_replica(1, [](std::size_t n) {
    return plan{answer(paxos::reply_status::ok, std::to_string(n)), 0ms};
  });
  log->short_by = 1;
  held_finder held{find_in(replicas)};
  b = std::make_unique<bridge>(sys, held.finder(), opts);
  std::vector<std::future<bridge_reply>> replies;
  std::vector<std::shared_ptr<std::atomic<int>>> counts;
  for (int i = 0; i < 3; ++i)
    counts.push_back(std::make_shared<std::atomic<int>>(0));
  replies.push_back(send(*b, 1, "w0", counts[0]));
  ASSERT_EQ(held.entered.wait_for(5s), std::future_status::ready);
  replies.push_back(send(*b, 2, "w1", counts[1]));
  replies.push_back(send(*b, 3, "w2", counts[2]));
  std::this_thread::sleep_for(20ms);
  held.release->set_value();
  std::vector<std::string> results;
  for (auto& f : replies) {
    ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
    auto r = f.get();
    EXPECT_EQ(r.st, bridge_reply::status::ok) << r.message;
    results.push_back(r.result);
  }
  // The first two from the batch; the third, left out, asked again alone.
  EXPECT_EQ(results, (std::vector<std::string>{"0", "1", "3"}));
  std::lock_guard<std::mutex> guard{log->mutex};
  EXPECT_EQ(log->batches, std::vector<std::size_t>{3});
  EXPECT_EQ(log->alone, 1u);
  EXPECT_EQ(log->payloads.back(), "w2");
  for (auto& c : counts)
    EXPECT_EQ(c->load(), 1) << "each write is answered once";
}

TEST_F(BridgeTest, ABatchNeverAnsweredEndsEachOfItsWritesAtTheHopTimeout) {
  // The first batch is never answered; every write in it is asked again
  // after the hop timeout (and the retry delay), and then answered.
  auto log = add_replica(1, [](std::size_t n) {
    return n < 5 ? plan{} : plan{answer(paxos::reply_status::ok, "later"), 0ms};
  });
  held_finder held{find_in(replicas)};
  b = std::make_unique<bridge>(sys, held.finder(), opts);
  std::vector<std::shared_ptr<std::atomic<int>>> counts;
  for (int i = 0; i < 5; ++i)
    counts.push_back(std::make_shared<std::atomic<int>>(0));
  std::vector<std::future<bridge_reply>> replies;
  auto start = clock_type::now();
  replies.push_back(send(*b, 1, "w0", counts[0]));
  ASSERT_EQ(held.entered.wait_for(5s), std::future_status::ready);
  for (std::uint64_t i = 1; i < 5; ++i)
    replies.push_back(send(*b, i + 1, "w" + std::to_string(i), counts[i]));
  std::this_thread::sleep_for(20ms);
  held.release->set_value();
  for (auto& f : replies) {
    ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
    auto r = f.get();
    EXPECT_EQ(r.st, bridge_reply::status::ok) << r.message;
    EXPECT_EQ(r.result, "later");
  }
  // The hop timeout (100 ms) passed before any of them was answered.
  EXPECT_GE(clock_type::now() - start, 100ms);
  std::lock_guard<std::mutex> guard{log->mutex};
  ASSERT_GE(log->batches.size(), 1u);
  EXPECT_EQ(log->batches.front(), 5u);
  EXPECT_EQ(log->at.size(), 10u) << "each write asked twice, no more";
  for (auto& c : counts)
    EXPECT_EQ(c->load(), 1) << "each write is answered once";
}

TEST_F(BridgeTest, ALargeWriteThatNeverGetsTheForwardingBudgetIsUnavailableAtItsDeadline) {
  // A follower (1) that forwards writes over 10 bytes 150 bytes at a time to
  // a leader (2) that answers none of them until `open`.
  opts.request_timeout = 800ms;
  opts.hop_timeout = 300ms;
  opts.max_forward_bytes = 10;
  opts.max_forward_in_flight_bytes = 150;
  // Waiting's first ask is never answered, so that holding, sent after it,
  // takes the budget first and keeps it until after waiting's deadline.
  add_replica(1, [](std::size_t n) {
    return n == 0 ? plan{} : plan{answer(paxos::reply_status::not_leader, {}, 2), 0ms};
  });
  auto open = std::make_shared<std::atomic<bool>>(false);
  auto leader = add_replica(2, [open](std::size_t) {
    return open->load() ? plan{answer(paxos::reply_status::ok, "applied"), 0ms} : plan{};
  });
  b = std::make_unique<bridge>(sys, find_in(replicas), opts);
  const std::string waiting(100, 'w');
  const std::string holding(100, 'h');
  auto waiting_replies = std::make_shared<std::atomic<int>>(0);
  auto holding_replies = std::make_shared<std::atomic<int>>(0);
  auto start = clock_type::now();
  auto waiting_reply = send(*b, 1, waiting, waiting_replies);
  std::this_thread::sleep_for(200ms);
  auto holding_reply = send(*b, 2, holding, holding_replies);

  ASSERT_EQ(waiting_reply.wait_for(5s), std::future_status::ready);
  auto took = clock_type::now() - start;
  auto r = waiting_reply.get();
  EXPECT_EQ(r.st, bridge_reply::status::unavailable);
  EXPECT_NE(r.message.find("budget for large writes in flight"), std::string::npos) << r.message;
  // At its own deadline, not when the budget frees up (holding's, 200 ms on).
  EXPECT_GE(took, 780ms);
  EXPECT_LT(took, 950ms);
  EXPECT_GE(leader->asks_with(holding), 1u);

  ASSERT_EQ(holding_reply.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(holding_reply.get().st, bridge_reply::status::unavailable);
  std::this_thread::sleep_for(100ms);
  // Freeing the budget did not send the write already answered.
  EXPECT_EQ(leader->asks_with(waiting), 0u);
  EXPECT_EQ(waiting_replies->load(), 1);
  EXPECT_EQ(holding_replies->load(), 1);

  // And the budget is whole again: the next large write is forwarded.
  open->store(true);
  auto next_replies = std::make_shared<std::atomic<int>>(0);
  auto next = send(*b, 3, std::string(140, 'n'), next_replies);
  ASSERT_EQ(next.wait_for(5s), std::future_status::ready);
  auto n = next.get();
  EXPECT_EQ(n.st, bridge_reply::status::ok) << n.message;
  EXPECT_EQ(n.result, "applied");
}

TEST_F(BridgeTest, WhileItsNodeLeadsTheClientsLargeWritesTakeTheBudgetToo) {
  // Node 1 leads: its replica answers a first small write at once, then
  // holds the first large write 300 ms. A second large write, which fits
  // the budget only alone, waits for it instead of joining the replica's
  // queue ahead of the writes a follower forwards under the same budget.
  opts.self = 1;
  opts.request_timeout = 2000ms;
  opts.hop_timeout = 1000ms;
  opts.max_forward_bytes = 10;
  opts.max_forward_in_flight_bytes = 150;
  auto own = add_replica(1, [](std::size_t n) {
    return plan{answer(paxos::reply_status::ok, "applied"), n == 1 ? 300ms : 0ms};
  });
  b = std::make_unique<bridge>(sys, find_in(replicas), opts);
  auto warm = send(*b, 1, "small", std::make_shared<std::atomic<int>>(0));
  ASSERT_EQ(warm.wait_for(5s), std::future_status::ready);
  ASSERT_EQ(warm.get().st, bridge_reply::status::ok);

  const std::string first(100, 'a');
  const std::string second(100, 'b');
  auto start = clock_type::now();
  auto a = send(*b, 2, first, std::make_shared<std::atomic<int>>(0));
  auto c = send(*b, 3, second, std::make_shared<std::atomic<int>>(0));
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ(own->asks_with(first), 1u);
  EXPECT_EQ(own->asks_with(second), 0u) << "asked while the first held the budget";
  ASSERT_EQ(c.wait_for(5s), std::future_status::ready);
  EXPECT_GE(clock_type::now() - start, 290ms);
  EXPECT_EQ(c.get().st, bridge_reply::status::ok);
  EXPECT_EQ(a.get().st, bridge_reply::status::ok);
  EXPECT_EQ(own->asks_with(second), 1u);
}

TEST_F(BridgeTest, AWaitingWriteBehindOneWithALaterDeadlineIsStillAnsweredAtItsOwn) {
  opts.request_timeout = 1000ms;
  opts.hop_timeout = 400ms;
  opts.max_forward_bytes = 10;
  opts.max_forward_in_flight_bytes = 150;
  // Late's first ask is never answered: it joins the queue for the budget
  // after front, sent 250 ms after it, so with the earlier deadline.
  add_replica(1, [](std::size_t n) {
    return n == 0 ? plan{} : plan{answer(paxos::reply_status::not_leader, {}, 2), 0ms};
  });
  auto leader = add_replica(2, [](std::size_t) { return plan{}; });
  b = std::make_unique<bridge>(sys, find_in(replicas), opts);
  const std::string late(100, 'l');
  auto late_replies = std::make_shared<std::atomic<int>>(0);
  auto holding_replies = std::make_shared<std::atomic<int>>(0);
  auto front_replies = std::make_shared<std::atomic<int>>(0);
  auto start = clock_type::now();
  auto late_reply = send(*b, 1, late, late_replies);
  std::this_thread::sleep_for(150ms);
  auto holding = send(*b, 2, std::string(100, 'h'), holding_replies);  // holds the budget
  std::this_thread::sleep_for(100ms);
  auto front = send(*b, 3, std::string(100, 'f'), front_replies);

  ASSERT_EQ(late_reply.wait_for(5s), std::future_status::ready);
  auto took = clock_type::now() - start;
  EXPECT_EQ(late_reply.get().st, bridge_reply::status::unavailable);
  // Not when holding's deadline frees the budget for front (1,150 ms).
  EXPECT_GE(took, 980ms);
  EXPECT_LT(took, 1100ms);
  ASSERT_EQ(front.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(front.get().st, bridge_reply::status::unavailable);
  EXPECT_EQ(holding.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(leader->asks_with(late), 0u);
  EXPECT_EQ(late_replies->load(), 1);
}

TEST_F(BridgeTest, AGatewaysWaitingWriteGivesItsBytesBackAtItsDeadline) {
  // The first budget test, behind a whole gateway whose budget holds the
  // two writes (about 120 bytes each) but not three.
  opts.host = "127.0.0.1";
  opts.port = 0;
  opts.feed = std::make_shared<change_feed>();
  opts.request_timeout = 800ms;
  opts.hop_timeout = 300ms;
  opts.max_forward_bytes = 10;
  opts.max_forward_in_flight_bytes = 150;
  opts.max_in_flight_bytes = 300;
  add_replica(1, [](std::size_t n) {
    return n == 0 ? plan{} : plan{answer(paxos::reply_status::not_leader, {}, 2), 0ms};
  });
  auto open = std::make_shared<std::atomic<bool>>(false);
  kv::result applied;
  applied.version = 5;
  auto leader = add_replica(2, [open, ok = kv::encode(applied)](std::size_t) {
    return open->load() ? plan{answer(paxos::reply_status::ok, ok), 0ms} : plan{};
  });
  auto gw = start(sys, opts, find_in(replicas));
  capnp::EzRpcClient rpc{gw->endpoint()};
  auto& ws = rpc.getWaitScope();
  auto cap = rpc.getMain<schemas::client::Ballot>();
  auto put = [&](std::uint64_t seq, char fill) {
    auto req = cap.putRequest();
    req.initId().setClientId(7);
    req.getId().setSeq(seq);
    req.setKey(std::string(1, fill));
    std::string value(100, fill);
    req.setValue(
      capnp::Data::Reader(reinterpret_cast<const kj::byte*>(value.data()), value.size()));
    return req.send();
  };
  auto start_at = clock_type::now();
  auto waiting = put(1, 'w');
  rpc.getIoProvider().getTimer().afterDelay(200 * kj::MILLISECONDS).wait(ws);
  auto holding = put(2, 'h');
  auto w = waiting.wait(ws);
  auto took = clock_type::now() - start_at;
  ASSERT_TRUE(w.getResult().isError());
  EXPECT_TRUE(w.getResult().getError().isUnavailable());
  EXPECT_GE(took, 780ms);
  EXPECT_LT(took, 950ms);
  // Holding still holds its bytes: a third write fits only if waiting's are
  // back (else overloaded). It is forwarded once holding is answered.
  open->store(true);
  auto r = put(3, 'n').wait(ws).getResult();
  ASSERT_TRUE(r.isVersion()) << (r.isError() && r.getError().isOverloaded()
                                   ? r.getError().getOverloaded().cStr()
                                   : "not overloaded");
  EXPECT_EQ(r.getVersion(), 5u);
  EXPECT_TRUE(holding.wait(ws).getResult().isVersion());
  EXPECT_EQ(leader->asks_with(std::string(100, 'w')), 0u);
  EXPECT_GE(leader->asks_with(std::string(100, 'n')), 1u);
}

}  // namespace
}  // namespace ballot::gateway
