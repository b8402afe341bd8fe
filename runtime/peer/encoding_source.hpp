#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "runtime/peer/snapshot_source.hpp"

namespace ballot::peer {

/// A snapshot_source whose bytes are made by `produce` (e.g. a frozen state
/// encoding itself, machine_image::write_to) on a thread of its own, twice:
/// once for the size and CRC the first chunk must carry, then again as the
/// sender reads, at most `buffer_bytes` ahead of it. So a transfer of a
/// state of GiBs holds a window of it, not a copy (issue 9), and the link's
/// thread never waits for an encode.
///
/// `produce` must make the same bytes every time (a frozen state does) and
/// be safe on another thread. If it makes other than `size` bytes, the
/// source fails (see `failure`): the size is promised in every chunk.
class encoding_source final : public snapshot_source {
 public:
  using sink = std::function<void(std::string_view)>;
  using producer = std::function<void(const sink&)>;

  encoding_source(producer produce, std::uint64_t size, std::size_t buffer_bytes);
  /// Stops the thread (the encode in progress ends at its next piece).
  ~encoding_source() override;
  encoding_source(const encoding_source&) = delete;
  encoding_source& operator=(const encoding_source&) = delete;

  bool ready() const override { return ready_.load(std::memory_order_acquire); }
  std::uint64_t size() const override { return size_; }
  std::uint32_t crc() const override { return crc_; }
  std::string_view read(std::uint64_t offset, std::size_t n) override;
  std::string failure() const override;

 private:
  void run();
  /// The second pass's sink: queues `piece`, waiting for room.
  void push(std::string_view piece);
  void fail(std::string why);

  const producer produce_;
  const std::uint64_t size_;
  const std::size_t buffer_bytes_;
  std::uint32_t crc_ = 0;  ///< written before `ready_` is set
  std::atomic<bool> ready_{false};

  mutable std::mutex mu_;
  std::condition_variable room_;
  std::deque<std::string> queue_;   ///< made, not yet read
  std::size_t queued_ = 0;          ///< bytes in `queue_`
  std::uint64_t queue_offset_ = 0;  ///< where queue_.front() starts
  bool stop_ = false;
  std::string failure_;
  std::string out_;  ///< what `read` returned last

  std::thread thread_;
};

}  // namespace ballot::peer
