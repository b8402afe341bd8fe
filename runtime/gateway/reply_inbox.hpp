#pragma once

// Internal to the gateway: answers made on other threads (the bridge's CAF
// workers) handed to promises on the gateway's KJ thread, a bunch at a time.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include <kj/async.h>
#include <kj/debug.h>

namespace ballot::gateway {

/// The way back to one KJ thread for answers of type T. A cross-thread
/// fulfiller per answer costs a system call to wake the thread, and often a
/// context switch, for every answer; here only the first answer that finds
/// the thread idle wakes it, and it takes every answer that arrived by then
/// in one go (at 64 clients a bridge's batch comes back as one wake-up).
///
/// Made, used and destroyed on its KJ thread; only the callbacks `handoff`
/// returns may run (and be destroyed) on other threads.
template <class T>
class reply_inbox {
 public:
  reply_inbox() : shared_(std::make_shared<mailbox>()), local_(std::make_shared<waiting>()) {
    loop_ = cycle().eagerlyEvaluate(nullptr);
  }

  ~reply_inbox() {
    std::lock_guard<std::mutex> guard{shared_->mtx};
    shared_->closed = true;
    shared_->ready.clear();
    shared_->wake = nullptr;
  }

  reply_inbox(const reply_inbox&) = delete;
  reply_inbox& operator=(const reply_inbox&) = delete;

  /// A promise on this thread and a callback that fulfills it from any
  /// thread. A callback destroyed uncalled rejects the promise (DISCONNECTED),
  /// as a dropped cross-thread fulfiller does; one promise given up on takes
  /// its entry with it.
  std::pair<kj::Promise<T>, std::function<void(T)>> handoff() {
    auto id = ++next_id_;
    auto paf = kj::newPromiseAndFulfiller<T>();
    local_->emplace(id, kj::mv(paf.fulfiller));
    auto forget = kj::defer([w = std::weak_ptr<waiting>(local_), id] {
      if (auto l = w.lock())
        l->erase(id);
    });
    auto slot = std::make_shared<answer_slot>(shared_, id);
    std::function<void(T)> done = [slot](T value) { slot->answer(std::move(value)); };
    return {paf.promise.attach(kj::mv(forget)), std::move(done)};
  }

  /// Promises waiting for their answer.
  std::size_t waiting_count() const { return local_->size(); }
  /// How many times the thread took a bunch of answers.
  std::uint64_t bunches() const { return bunches_; }

 private:
  /// The answers posted and not taken yet; shared with the other threads.
  struct mailbox {
    std::mutex mtx;
    bool closed = false;
    /// nullopt: the callback was dropped unanswered.
    std::vector<std::pair<std::uint64_t, std::optional<T>>> ready;
    /// Set while the KJ thread waits for the next answer.
    kj::Own<kj::CrossThreadPromiseFulfiller<void>> wake;

    void post(std::uint64_t id, std::optional<T> value) {
      kj::Own<kj::CrossThreadPromiseFulfiller<void>> w;
      {
        std::lock_guard<std::mutex> guard{mtx};
        if (closed)
          return;
        ready.emplace_back(id, std::move(value));
        w = kj::mv(wake);
      }
      if (w)
        w->fulfill();
    }
  };

  /// Shared by the copies of one callback: answers once, or says on its
  /// destruction that no answer will come.
  struct answer_slot {
    answer_slot(std::shared_ptr<mailbox> b, std::uint64_t i) : box(std::move(b)), id(i) {}
    ~answer_slot() {
      if (!used.exchange(true))
        box->post(id, std::nullopt);
    }
    answer_slot(const answer_slot&) = delete;
    answer_slot& operator=(const answer_slot&) = delete;
    void answer(T value) {
      if (!used.exchange(true))
        box->post(id, std::move(value));
    }
    std::shared_ptr<mailbox> box;
    std::uint64_t id;
    std::atomic<bool> used{false};
  };

  using waiting = std::unordered_map<std::uint64_t, kj::Own<kj::PromiseFulfiller<T>>>;

  /// Waits until an answer is posted (at once if one is), takes them all,
  /// and waits again.
  kj::Promise<void> cycle() {
    auto paf = kj::newPromiseAndCrossThreadFulfiller<void>();
    bool pending = false;
    {
      std::lock_guard<std::mutex> guard{shared_->mtx};
      pending = !shared_->ready.empty();
      if (!pending)
        shared_->wake = kj::mv(paf.fulfiller);
    }
    auto next = pending ? kj::evalLater([] {}) : kj::mv(paf.promise);
    return next.then([this] {
      drain();
      return cycle();
    });
  }

  void drain() {
    std::vector<std::pair<std::uint64_t, std::optional<T>>> got;
    {
      std::lock_guard<std::mutex> guard{shared_->mtx};
      got.swap(shared_->ready);
    }
    ++bunches_;
    for (auto& [id, value] : got) {
      auto it = local_->find(id);
      if (it == local_->end())
        continue;  // given up on already
      auto f = kj::mv(it->second);
      local_->erase(it);
      if (value)
        f->fulfill(std::move(*value));
      else
        f->reject(KJ_EXCEPTION(DISCONNECTED, "the answer was dropped unanswered"));
    }
  }

  std::shared_ptr<mailbox> shared_;
  std::shared_ptr<waiting> local_;
  std::uint64_t next_id_ = 0;
  std::uint64_t bunches_ = 0;
  kj::Promise<void> loop_{nullptr};
};

}  // namespace ballot::gateway
