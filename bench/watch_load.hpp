#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/client/client.hpp"

/// Watchers for ballot-bench's `--watchers`: W watches of one prefix, from
/// now, spread over connections of their own (so the writers' connections
/// and I/O threads carry no events). On a prefix nobody writes they measure
/// what idle watches cost the cluster; on the written prefix, what fan-out
/// costs and whether every event arrives.
namespace ballot::bench {

class watch_load {
 public:
  /// Opens the watches and waits (up to `wait`) until each has learnt its
  /// start revision, printing progress to stderr.
  watch_load(const client::options& base, std::size_t watchers, std::size_t connections,
             const std::string& prefix, std::chrono::seconds wait);
  ~watch_load();

  std::size_t started() const;
  std::uint64_t events() const { return events_.load(); }
  /// Watches that ended (a budget or stall cut them off, a refusal).
  std::uint64_t ended() const { return ended_.load(); }
  /// The fewest events any one watch received.
  std::uint64_t min_events() const;

 private:
  std::vector<std::unique_ptr<client::client>> conns_;
  std::vector<std::unique_ptr<client::watch_handle>> watches_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> per_watch_;
  std::atomic<std::uint64_t> events_{0};
  std::atomic<std::uint64_t> ended_{0};
};

}  // namespace ballot::bench
