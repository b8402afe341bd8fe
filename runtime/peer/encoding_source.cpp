#include "runtime/peer/encoding_source.hpp"

#include <algorithm>
#include <utility>

#include "runtime/peer/snapshot_chunk.hpp"

namespace ballot::peer {

namespace {

/// Thrown through `produce` to end an encode nobody reads any more.
struct stopped {};

}  // namespace

encoding_source::encoding_source(producer produce, std::uint64_t size, std::size_t buffer_bytes)
    : produce_(std::move(produce)),
      size_(size),
      buffer_bytes_(std::max<std::size_t>(buffer_bytes, 1)) {
  thread_ = std::thread([this] { run(); });
}

encoding_source::~encoding_source() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  room_.notify_all();
  thread_.join();
}

void encoding_source::run() {
  try {
    // First pass: the size and CRC every chunk carries.
    std::uint64_t made = 0;
    std::uint32_t crc = 0;
    produce_([&](std::string_view piece) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_)
          throw stopped{};
      }
      made += piece.size();
      crc = chunk_crc(piece.data(), piece.size(), crc);
    });
    if (made != size_)
      return fail("the snapshot encoded to " + std::to_string(made) + " bytes, not the " +
                  std::to_string(size_) + " expected");
    crc_ = crc;
    ready_.store(true, std::memory_order_release);
    // Second pass: the bytes, as the sender takes them.
    made = 0;
    produce_([&](std::string_view piece) {
      made += piece.size();
      if (made <= size_)
        push(piece);
    });
    if (made != size_)
      fail("the snapshot encoded to another size the second time");
  } catch (const stopped&) {
    // Nobody reads any more.
  } catch (const std::exception& e) {
    fail(std::string{"the snapshot does not encode: "} + e.what());
  }
}

void encoding_source::push(std::string_view piece) {
  while (!piece.empty()) {
    std::unique_lock<std::mutex> lock(mu_);
    room_.wait(lock, [&] { return stop_ || queued_ < buffer_bytes_; });
    if (stop_)
      throw stopped{};
    // A piece larger than the room goes in parts: the buffer stays bounded.
    auto take = std::min(piece.size(), buffer_bytes_ - queued_);
    queue_.emplace_back(piece.substr(0, take));
    queued_ += take;
    piece.remove_prefix(take);
  }
}

std::string_view encoding_source::read(std::uint64_t offset, std::size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  // Drop what was read before `offset`.
  while (!queue_.empty() && queue_offset_ + queue_.front().size() <= offset) {
    queue_offset_ += queue_.front().size();
    queued_ -= queue_.front().size();
    queue_.pop_front();
  }
  if (!queue_.empty() && queue_offset_ < offset) {
    auto skip = static_cast<std::size_t>(offset - queue_offset_);
    queue_.front().erase(0, skip);
    queue_offset_ += skip;
    queued_ -= skip;
  }
  room_.notify_all();
  out_.clear();
  if (queue_offset_ != offset)
    return {};  // not made yet
  for (auto it = queue_.begin(); it != queue_.end() && out_.size() < n; ++it)
    out_.append(*it, 0, std::min(it->size(), n - out_.size()));
  return out_;
}

std::string encoding_source::failure() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failure_;
}

void encoding_source::fail(std::string why) {
  std::lock_guard<std::mutex> lock(mu_);
  failure_ = std::move(why);
}

}  // namespace ballot::peer
