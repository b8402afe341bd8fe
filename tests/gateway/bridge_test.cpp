// The bridge's timing on its own, against scripted replicas: an ask that is
// never answered ends at the hop timeout, a request that is never answered
// ends at its deadline with the last error, a late answer to an ask already
// ended is dropped, and after a failure the next ask waits the retry delay.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "caf/all.hpp"

#include "actors/replica/type_ids.hpp"
#include "runtime/gateway/bridge.hpp"

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

/// When each ask arrived, read from the test's thread.
struct ask_log {
  std::mutex mutex;
  std::vector<clock_type::time_point> at;

  std::vector<clock_type::time_point> times() {
    std::lock_guard<std::mutex> guard{mutex};
    return at;
  }
};

struct scripted_state {
  std::vector<caf::typed_response_promise<paxos::client_reply>> held;
  std::vector<paxos::client_reply> later;
};

caf::behavior scripted_replica(caf::stateful_actor<scripted_state>* self,
                               std::function<plan(std::size_t)> script,
                               std::shared_ptr<ask_log> log) {
  return {
    [=](actors::propose_atom, paxos::command&) -> caf::result<paxos::client_reply> {
      std::size_t n = 0;
      {
        std::lock_guard<std::mutex> guard{log->mutex};
        n = log->at.size();
        log->at.push_back(clock_type::now());
      }
      auto p = script(n);
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
    auto start = clock_type::now();
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
  // The hop timeout, then the retry delay after that failure.
  EXPECT_GE(asks[1] - asks[0], 120ms);
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

}  // namespace
}  // namespace ballot::gateway
