#include "runtime/wal/background_job.hpp"
#include "runtime/log/thread_name.hpp"

#include <stdexcept>
#include <utility>

namespace ballot::wal {

background_job::~background_job() {
  if (thread_.joinable())
    thread_.join();
}

void background_job::start(std::function<void()> job) {
  if (thread_.joinable())
    throw std::logic_error("ballot::wal::background_job: a job is still pending");
  finished_.store(false, std::memory_order_relaxed);
  error_ = nullptr;
  thread_ = std::thread([this, job = std::move(job)] {
    logging::name_this_thread("ballot-ckpt");
    try {
      job();
    } catch (...) {
      error_ = std::current_exception();
    }
    finished_.store(true, std::memory_order_release);
  });
}

std::optional<std::exception_ptr> background_job::collect(bool wait) {
  if (!thread_.joinable())
    return std::nullopt;
  if (!wait && !finished_.load(std::memory_order_acquire))
    return std::nullopt;
  thread_.join();
  return std::exchange(error_, nullptr);
}

}  // namespace ballot::wal
