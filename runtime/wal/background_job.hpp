#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <optional>
#include <thread>

/// One job at a time on a thread of its own, collected by its owner.
namespace ballot::wal {

/// Runs a job on a background thread and hands its outcome back to the
/// thread that started it. At most one job runs: `start` while one is
/// running is a logic error, which is what bounds the memory a job may hold
/// (one snapshot being written, for the log's checkpoints). Nothing is
/// shared with the job but what its closure owns, so the owner's state
/// needs no lock; only the "finished" flag crosses threads.
///
/// Not thread-safe itself: one owner thread calls every member.
class background_job {
 public:
  background_job() = default;
  /// Waits for a running job (its outcome is dropped).
  ~background_job();

  background_job(const background_job&) = delete;
  background_job& operator=(const background_job&) = delete;

  /// Runs `job` on a new thread. Throws std::logic_error if a job was
  /// started and not collected yet.
  void start(std::function<void()> job);

  /// A job was started and not collected yet (it may have finished).
  bool pending() const { return thread_.joinable(); }

  /// The outcome of the started job: nullptr when it returned, what it threw
  /// otherwise. nullopt when no job is pending, or when it still runs and
  /// `wait` is false; with `wait`, blocks until it finishes. A job's outcome
  /// is handed out once.
  std::optional<std::exception_ptr> collect(bool wait);

 private:
  std::thread thread_;
  std::atomic<bool> finished_{false};
  /// Written by the job's thread before `finished_`, read after it.
  std::exception_ptr error_;
};

}  // namespace ballot::wal
