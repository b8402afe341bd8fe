#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/log/log.hpp"
#include "runtime/peer/peer_policy.hpp"

/// The peer port's operator lines, rate-limited per topic and written by a
/// thread of their own. Internal to the peer library.
namespace ballot::peer {

class peer_log {
 public:
  /// The topic of lines about links (up, down, members joining or leaving);
  /// the drop reasons are the other topics.
  static constexpr std::size_t link_topic = drop_reason_count;

  /// `sink`: an embedder's line callback (empty: the process's logger gets
  /// each line with its level and fields). `drops`: the drop totals, for the
  /// line that says how many lines were left out.
  peer_log(std::function<void(const std::string&)> sink, std::function<std::string()> drops);
  ~peer_log();

  peer_log(const peer_log&) = delete;
  peer_log& operator=(const peer_log&) = delete;

  /// Logs a line (any thread); at most 5 per 10 s of each drop reason (30 of
  /// the lines about links), then one saying how many were left out.
  void log(const std::string& line, std::size_t topic = link_topic,
           logging::level lvl = logging::level::info, std::vector<logging::field> fields = {});

  /// Writes what is queued and ends the writer thread.
  void stop();

 private:
  void write_lines();
  void emit(logging::record r);

  std::function<void(const std::string&)> sink_;
  std::function<std::string()> drops_;
  // Per topic, so a flood of one kind (a stranger redialing) cannot hide the
  // first line of another.
  struct window {
    std::chrono::steady_clock::time_point start{};
    int lines = 0;
    std::uint64_t suppressed = 0;
  };
  std::mutex mtx_;
  std::array<window, drop_reason_count + 1> windows_{};
  // Lines are written by a thread of their own: a stderr that blocks (a
  // full pipe nobody reads, a stalled journal) must never stop the loop
  // that carries the consensus traffic. Past `max_pending` they are dropped
  // and counted.
  static constexpr std::size_t max_pending = 1000;
  std::deque<logging::record> pending_;
  std::uint64_t lost_ = 0;
  bool done_ = false;
  std::condition_variable cv_;
  std::thread writer_;
};

}  // namespace ballot::peer
