#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>

#include <caf/actor_system_config.hpp>
#include <caf/policy/unprofiled.hpp>
#include <caf/resumable.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>

/// A CAF scheduler policy for a node's few, short, chatty actors.
///
/// CAF's work-sharing policy wakes a sleeping worker for every job it
/// queues. A put hands a message from the bridge to the replica, from the
/// replica to each member's link and back to the bridge; each of those woke
/// another worker while the sending one was about to go idle, and the woken
/// one often found the queue already empty. At one client the leader's
/// workers switched about 20 times per put (bench/README "One client").
///
/// This policy keeps work-sharing's one queue and condition variable, with two
/// changes:
///  - **A hand-off slot per worker** (Go's `runnext`, Tokio's LIFO slot): an
///    actor that wakes another from a worker puts it in that worker's slot,
///    without waking anybody; the worker runs it as soon as its current job
///    ends, on a warm cache. A second wake-up from the same job moves the
///    earlier one to the shared queue, where an idle worker takes it, so a
///    fan-out (phase 2a to every member) still runs in parallel.
///  - **No redundant wake-ups**: a job queued while enough workers are
///    already on their way wakes nobody more.
///
/// A job that blocks its thread (the replica's fdatasync) must call
/// `before_blocking()` first, or the job in its slot would wait for the disk.
namespace ballot::actors {

/// Moves the job this worker kept for its next turn to the shared queue
/// (waking a worker for it). Call before a blocking system call on an actor's
/// thread; does nothing on other threads or under other schedulers.
void before_blocking();

class handoff_policy : public caf::policy::unprofiled {
 public:
  struct coordinator_data {
    explicit coordinator_data(caf::scheduler::abstract_coordinator*) {}

    std::mutex lock;
    std::condition_variable cv;
    std::deque<caf::resumable*> queue;
    /// Workers waiting on `cv`.
    std::size_t sleeping = 0;
    /// Of those, the ones notified and not yet back (each will take a job).
    std::size_t notified = 0;
  };

  struct worker_data {
    explicit worker_data(caf::scheduler::abstract_coordinator*) {}
    /// The job this worker runs next (only its own thread touches it).
    caf::resumable* next = nullptr;
  };

  /// Queues `job` for any worker; wakes one if none is on its way for it.
  static void share(coordinator_data& d, caf::resumable* job);

  template <class Coordinator>
  void central_enqueue(Coordinator* self, caf::resumable* job) {
    share(d(self), job);
  }

  template <class Worker>
  void external_enqueue(Worker* self, caf::resumable* job) {
    share(d(self->parent()), job);
  }

  template <class Worker>
  void internal_enqueue(Worker* self, caf::resumable* job) {
    auto& slot = d(self).next;
    if (slot != nullptr)
      share(d(self->parent()), slot);
    slot = job;
  }

  template <class Worker>
  void resume_job_later(Worker* self, caf::resumable* job) {
    // It used up its turn: behind everybody else, not in the slot.
    share(d(self->parent()), job);
  }

  template <class Worker>
  caf::resumable* dequeue(Worker* self) {
    auto& slot = d(self).next;
    register_thread(&slot, &d(self->parent()));
    if (slot != nullptr) {
      auto* job = slot;
      slot = nullptr;
      return job;
    }
    return take(d(self->parent()));
  }

  template <class Worker>
  void before_shutdown(Worker* self) {
    // A job kept for this worker's next turn goes to those still running.
    auto& slot = d(self).next;
    if (slot != nullptr)
      share(d(self->parent()), slot);
    slot = nullptr;
  }

  template <class Worker, class UnaryFunction>
  void foreach_resumable(Worker* self, UnaryFunction f) {
    auto& slot = d(self).next;
    if (slot != nullptr)
      f(slot);
    slot = nullptr;
  }

  template <class Coordinator, class UnaryFunction>
  void foreach_central_resumable(Coordinator* self, UnaryFunction f) {
    auto& data = d(self);
    std::unique_lock<std::mutex> guard(data.lock);
    while (!data.queue.empty()) {
      auto* job = data.queue.front();
      data.queue.pop_front();
      f(job);
    }
  }

 private:
  /// Blocks until the shared queue has a job, and takes it.
  static caf::resumable* take(coordinator_data& d);
  /// Lets `before_blocking` on this thread find its slot.
  static void register_thread(caf::resumable** slot, coordinator_data* shared);
};

/// Makes `cfg`'s actor system run its actors with `handoff_policy`.
void use_handoff_scheduler(caf::actor_system_config& cfg);

}  // namespace ballot::actors
