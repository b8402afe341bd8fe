// The gateway's way back from the bridge's threads: answers posted while its
// KJ thread is busy are all taken in one wake-up, each reaches its own
// promise, a callback dropped unanswered rejects its promise, and an answer
// to a promise given up on is dropped without a trace.
#include <gtest/gtest.h>

#include <functional>
#include <thread>
#include <vector>

#include <kj/async-io.h>

#include "runtime/gateway/reply_inbox.hpp"

namespace ballot::gateway {
namespace {

void settle(kj::AsyncIoContext& io) {
  io.provider->getTimer().afterDelay(20 * kj::MILLISECONDS).wait(io.waitScope);
}

TEST(ReplyInboxTest, AnswersPostedWhileTheThreadIsBusyAreTakenInOneWakeUp) {
  auto io = kj::setupAsyncIo();
  reply_inbox<int> inbox;
  constexpr int n = 100;
  std::vector<kj::Promise<int>> promises;
  std::vector<std::function<void(int)>> callbacks;
  for (int i = 0; i < n; ++i) {
    auto [p, done] = inbox.handoff();
    promises.push_back(kj::mv(p));
    callbacks.push_back(std::move(done));
  }
  EXPECT_EQ(inbox.waiting_count(), static_cast<std::size_t>(n));
  // The KJ thread runs no event while another thread answers them all, in
  // reverse order.
  std::thread([&] {
    for (int i = n - 1; i >= 0; --i)
      callbacks[static_cast<std::size_t>(i)](i * 10);
  }).join();
  for (int i = 0; i < n; ++i)
    EXPECT_EQ(promises[static_cast<std::size_t>(i)].wait(io.waitScope), i * 10);
  EXPECT_EQ(inbox.bunches(), 1u);
  EXPECT_EQ(inbox.waiting_count(), 0u);

  // And the next answer wakes the thread again.
  auto [p, done] = inbox.handoff();
  std::thread([done = std::move(done)] { done(7); }).join();
  EXPECT_EQ(p.wait(io.waitScope), 7);
  EXPECT_EQ(inbox.bunches(), 2u);
}

TEST(ReplyInboxTest, ACallbackDroppedUnansweredRejectsItsPromise) {
  auto io = kj::setupAsyncIo();
  reply_inbox<int> inbox;
  auto [p, done] = inbox.handoff();
  std::thread([d = std::move(done)]() mutable { d = nullptr; }).join();
  // The analyzer loses track of the promise nodes, which KJ frees when the chain ends.
  auto rejected =
    p.then([](int) { return false; },  // NOLINT(clang-analyzer-cplusplus.NewDeleteLeaks)
           [](kj::Exception&& e) { return e.getType() == kj::Exception::Type::DISCONNECTED; })
      .wait(io.waitScope);
  EXPECT_TRUE(rejected);
  EXPECT_EQ(inbox.waiting_count(), 0u);
}

TEST(ReplyInboxTest, AnAnswerToAPromiseGivenUpOnIsDropped) {
  auto io = kj::setupAsyncIo();
  reply_inbox<int> inbox;
  std::function<void(int)> late;
  // The analyzer loses track of the promise's node, which KJ frees when the
  // promise goes at the brace (a caller's timeout, a closed connection).
  // NOLINTBEGIN(clang-analyzer-cplusplus.NewDeleteLeaks)
  {
    auto [p, done] = inbox.handoff();
    late = std::move(done);
    EXPECT_EQ(inbox.waiting_count(), 1u);
  }
  // NOLINTEND(clang-analyzer-cplusplus.NewDeleteLeaks)
  EXPECT_EQ(inbox.waiting_count(), 0u);
  std::thread([&] { late(3); }).join();
  settle(io);
  EXPECT_EQ(inbox.bunches(), 1u);
  EXPECT_EQ(inbox.waiting_count(), 0u);
  // The others still work.
  auto [q, done] = inbox.handoff();
  std::thread([d = std::move(done)] { d(4); }).join();
  EXPECT_EQ(q.wait(io.waitScope), 4);
}

TEST(ReplyInboxTest, AnswersAfterTheInboxIsGoneAreIgnored) {
  std::function<void(int)> late;
  {
    auto io = kj::setupAsyncIo();
    reply_inbox<int> inbox;
    auto [p, done] = inbox.handoff();
    late = std::move(done);
  }
  std::thread([&] {
    late(1);
    late = nullptr;
  }).join();
  SUCCEED();
}

}  // namespace
}  // namespace ballot::gateway
