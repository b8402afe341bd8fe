#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <utility>

#include "actors/replica/handoff_scheduler.hpp"
#include "actors/replica/storage.hpp"

namespace ballot::actors {

/// A `storage` that passes every call on to another and times the two that
/// can take long: writing a compaction and a sync. The replica actor puts it
/// between its commit pipeline (which has no clock, so that the simulator
/// can run it) and the real storage, for its probe and its log. Before either
/// it lets the scheduler hand on the work it kept for this thread (see
/// `before_blocking`): a member's phase 2a must not wait for our own disk.
class timed_storage final : public storage {
 public:
  using duration = std::chrono::steady_clock::duration;

  struct hooks {
    /// A compaction was written: its snapshot's last slot (0: none) and size,
    /// and how long the storage took on this thread.
    std::function<void(paxos::slot_index, std::size_t, duration)> on_compacted;
    /// A sync succeeded, taking `took` (a failed one throws past this).
    std::function<void(duration)> on_synced;
  };

  timed_storage(storage& inner, hooks h) : inner_(inner), hooks_(std::move(h)) {}

  paxos::durable_state load() override { return inner_.load(); }

  void append(const paxos::ready& rd) override { inner_.append(rd); }

  void append_owned(paxos::ready& rd) override {
    if (!rd.compacted) {
      inner_.append_owned(rd);
      return;
    }
    // Read before the call: the storage may take the state away.
    auto slot = rd.compacted->snap ? rd.compacted->snap->last : 0;
    // The hint: a frozen state is encoded by the storage's background
    // thread, not here (issue 9).
    auto bytes = rd.compacted->snap ? rd.compacted->snap->machine.size_hint() : 0;
    before_blocking();
    auto started = std::chrono::steady_clock::now();
    inner_.append_owned(rd);
    if (hooks_.on_compacted)
      hooks_.on_compacted(slot, bytes, std::chrono::steady_clock::now() - started);
  }

  void sync() override {
    before_blocking();
    auto started = std::chrono::steady_clock::now();
    inner_.sync();
    if (hooks_.on_synced)
      hooks_.on_synced(std::chrono::steady_clock::now() - started);
  }

 private:
  storage& inner_;
  hooks hooks_;
};

}  // namespace ballot::actors
