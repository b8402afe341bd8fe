// The hand-off scheduler (actors/replica/handoff_scheduler.hpp) on real
// threads: a message's receiver runs on its sender's worker, a fan-out still
// runs in parallel, a job that blocks hands its kept work on first, and no
// message is lost under load from many threads.
#include "actors/replica/handoff_scheduler.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/spawn_options.hpp>

namespace ballot::actors {
namespace {

using namespace std::chrono_literals;

/// A system on the hand-off scheduler with `threads` workers.
struct handoff_system {
  explicit handoff_system(std::size_t threads) {
    cfg.set("scheduler.max-threads", threads);
    use_handoff_scheduler(cfg);
    sys.emplace(cfg);
  }
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> sys;
};

/// Waits until `n` parties arrived or `limit` passed; true if all did.
class rendezvous {
 public:
  explicit rendezvous(int n) : left_(n) {}
  bool arrive_and_wait(std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> guard(m_);
    if (--left_ == 0)
      cv_.notify_all();
    return cv_.wait_for(guard, limit, [this] { return left_ <= 0; });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  int left_;
};

TEST(HandoffSchedulerTest, AMessagesReceiverRunsOnItsSendersWorker) {
  handoff_system s{4};
  // Two actors bounce a count 2,000 times; each hop records its thread.
  auto threads = std::make_shared<std::vector<std::thread::id>>();
  auto done = std::make_shared<std::promise<void>>();
  auto bouncer = [threads, done](caf::event_based_actor* self) -> caf::behavior {
    return {[threads, done, self](int left, const caf::actor& other) {
      threads->push_back(std::this_thread::get_id());
      if (left == 0) {
        done->set_value();
        return;
      }
      self->send(other, left - 1, caf::actor_cast<caf::actor>(self));
    }};
  };
  // Lazily started: an actor spawned normally runs its start on whichever
  // worker is free, so `b` could still be starting on a second worker when
  // `a`'s first message reaches it, and take that hop there.
  auto a = s.sys->spawn<caf::lazy_init>(bouncer);
  auto b = s.sys->spawn<caf::lazy_init>(bouncer);
  caf::anon_send(a, 2000, b);
  ASSERT_EQ(done->get_future().wait_for(10s), std::future_status::ready);
  // Only one actor ever runs at a time here: the whole exchange stays on the
  // worker that took the first message (work-sharing spreads it over all).
  std::set<std::thread::id> distinct(threads->begin(), threads->end());
  EXPECT_EQ(threads->size(), 2001u);
  EXPECT_EQ(distinct.size(), 1u);
}

TEST(HandoffSchedulerTest, AFanOutStillRunsInParallel) {
  handoff_system s{2};
  // Two receivers that can only finish together: run one after the other on
  // one worker, the first would give up waiting for the second.
  auto meet = std::make_shared<rendezvous>(2);
  auto met = std::make_shared<std::atomic<int>>(0);
  auto finished = std::make_shared<std::promise<void>>();
  auto remaining = std::make_shared<std::atomic<int>>(2);
  auto receiver = [meet, met, finished, remaining](caf::event_based_actor*) -> caf::behavior {
    return {[meet, met, finished, remaining](int) {
      if (meet->arrive_and_wait(5000ms))
        ++*met;
      if (--*remaining == 0)
        finished->set_value();
    }};
  };
  auto r1 = s.sys->spawn(receiver);
  auto r2 = s.sys->spawn(receiver);
  auto sender = s.sys->spawn([r1, r2](caf::event_based_actor* self) -> caf::behavior {
    return {[self, r1, r2](int x) {
      self->send(r1, x);
      self->send(r2, x);
    }};
  });
  caf::anon_send(sender, 1);
  ASSERT_EQ(finished->get_future().wait_for(15s), std::future_status::ready);
  EXPECT_EQ(met->load(), 2);
}

TEST(HandoffSchedulerTest, AJobThatBlocksHandsOnTheWorkItKept) {
  handoff_system s{2};
  // The sender keeps its receiver in its worker's slot, then blocks until
  // the receiver has run. Without before_blocking it would wait for itself.
  auto ran = std::make_shared<std::promise<void>>();
  auto outcome = std::make_shared<std::promise<bool>>();
  auto receiver = s.sys->spawn(
    [ran](caf::event_based_actor*) -> caf::behavior { return {[ran](int) { ran->set_value(); }}; });
  auto sender =
    s.sys->spawn([receiver, ran, outcome](caf::event_based_actor* self) -> caf::behavior {
      return {[self, receiver, ran, outcome](int x) {
        self->send(receiver, x);
        before_blocking();
        outcome->set_value(ran->get_future().wait_for(5s) == std::future_status::ready);
      }};
    });
  caf::anon_send(sender, 1);
  auto f = outcome->get_future();
  ASSERT_EQ(f.wait_for(15s), std::future_status::ready);
  EXPECT_TRUE(f.get());
}

TEST(HandoffSchedulerTest, NoMessageIsLostUnderLoadFromManyThreads) {
  handoff_system s{3};
  constexpr std::size_t actors = 8;
  constexpr int per_thread = 5000;
  constexpr int senders = 4;
  // Every message is forwarded twice through the ring before it counts.
  auto counted = std::make_shared<std::atomic<int>>(0);
  auto all = std::make_shared<std::promise<void>>();
  std::vector<caf::actor> ring(actors);
  auto total = senders * per_thread;
  for (std::size_t i = actors; i-- > 0;) {
    auto next = i + 1 < actors ? ring[i + 1] : caf::actor{};
    ring[i] =
      s.sys->spawn([next, counted, all, total](caf::event_based_actor* self) -> caf::behavior {
        return {[self, next, counted, all, total](int hops) {
          if (hops > 0 && next) {
            self->send(next, hops - 1);
            return;
          }
          if (++*counted == total)
            all->set_value();
        }};
      });
  }
  std::vector<std::thread> threads;
  threads.reserve(senders);
  for (int t = 0; t < senders; ++t)
    threads.emplace_back([&ring, t] {
      for (int i = 0; i < per_thread; ++i)
        caf::anon_send(ring[static_cast<std::size_t>((t + i) % 4)], 2);
    });
  for (auto& t : threads)
    t.join();
  ASSERT_EQ(all->get_future().wait_for(30s), std::future_status::ready);
  EXPECT_EQ(counted->load(), total);
}

}  // namespace
}  // namespace ballot::actors
