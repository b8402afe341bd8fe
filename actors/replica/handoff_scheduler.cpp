#include "actors/replica/handoff_scheduler.hpp"

#include <caf/actor_system.hpp>
#include <caf/scheduler/coordinator.hpp>

namespace ballot::actors {

namespace {

/// The slot and the shared queue of the worker running on this thread.
thread_local caf::resumable** this_slot = nullptr;
thread_local handoff_policy::coordinator_data* this_queue = nullptr;

}  // namespace

void before_blocking() {
  if (this_slot == nullptr || *this_slot == nullptr)
    return;
  auto* job = *this_slot;
  *this_slot = nullptr;
  handoff_policy::share(*this_queue, job);
}

void handoff_policy::share(coordinator_data& d, caf::resumable* job) {
  std::unique_lock<std::mutex> guard(d.lock);
  d.queue.push_back(job);
  // Wake a sleeper only for a job that no worker already woken will take.
  if (d.sleeping > d.notified && d.queue.size() > d.notified) {
    ++d.notified;
    guard.unlock();
    d.cv.notify_one();
  }
}

caf::resumable* handoff_policy::take(coordinator_data& d) {
  std::unique_lock<std::mutex> guard(d.lock);
  while (d.queue.empty()) {
    ++d.sleeping;
    d.cv.wait(guard);
    --d.sleeping;
    // Spurious wake-ups may count one too many: at worst a later job wakes
    // a worker it did not need.
    if (d.notified > 0)
      --d.notified;
  }
  auto* job = d.queue.front();
  d.queue.pop_front();
  return job;
}

void handoff_policy::register_thread(caf::resumable** slot, coordinator_data* shared) {
  this_slot = slot;
  this_queue = shared;
}

void use_handoff_scheduler(caf::actor_system_config& cfg) {
  cfg.module_factories.push_back([](caf::actor_system& sys) -> caf::actor_system::module* {
    return new caf::scheduler::coordinator<handoff_policy>(sys);
  });
}

}  // namespace ballot::actors
