#include "actors/kv/event_history.hpp"

#include <algorithm>
#include <atomic>
#include <utility>

namespace ballot::kv {

event_history::event_history(std::size_t max_events, std::size_t max_bytes)
    : max_events_(std::max<std::size_t>(1, max_events)), max_bytes_(max_bytes) {}

event_history::event_history(const event_history& other) : max_events_(1), max_bytes_(0) {
  *this = other;
}

event_history& event_history::operator=(const event_history& other) {
  if (this == &other)
    return *this;
  std::scoped_lock guard{mtx_, other.mtx_};
  // The chunks are shared, not copied: neither side changes a shared one.
  chunks_ = other.chunks_;
  skip_ = other.skip_;
  size_ = other.size_;
  bytes_ = other.bytes_;
  max_events_ = other.max_events_;
  max_bytes_ = other.max_bytes_;
  compacted_ = other.compacted_;
  return *this;
}

namespace {

/// Whether only this history holds `c`, so it may change it. A copy is made
/// under the lock of the history it copies, so the count cannot grow
/// meanwhile; the fence pairs with the release of a copy dropped on another
/// thread, whose reads of the chunk then come before our writes.
template <class Chunk>
bool owned(const std::shared_ptr<Chunk>& c) {
  if (c.use_count() != 1)
    return false;
  std::atomic_thread_fence(std::memory_order_acquire);
  return true;
}

}  // namespace

void event_history::push(shared_event e) {
  bytes_ += e.bytes();
  if (chunks_.empty() || chunks_.back()->events.size() == chunk_events) {
    chunks_.push_back(std::make_shared<chunk>());
    chunks_.back()->events.reserve(chunk_events);
  } else if (!owned(chunks_.back())) {
    auto own = std::make_shared<chunk>();
    own->events.reserve(chunk_events);
    own->events = chunks_.back()->events;
    chunks_.back() = std::move(own);
  }
  chunks_.back()->events.push_back(std::move(e));
  ++size_;
}

void event_history::drop_oldest() {
  auto& first = chunks_.front();
  auto& e = first->events[skip_];
  compacted_ = e.revision;
  bytes_ -= e.bytes();
  // Its key and value are freed now, unless a copy still holds the chunk.
  if (owned(first))
    e = shared_event{};
  --size_;
  if (++skip_ == first->events.size()) {
    chunks_.pop_front();
    skip_ = 0;
  }
}

void event_history::append(shared_event e) {
  std::lock_guard<std::mutex> guard{mtx_};
  push(std::move(e));
  while (size_ > max_events_ || (bytes_ > max_bytes_ && size_ > 1))
    drop_oldest();
}

void event_history::reset(std::uint64_t compacted, std::size_t max_events, std::size_t max_bytes) {
  std::lock_guard<std::mutex> guard{mtx_};
  chunks_.clear();
  skip_ = 0;
  size_ = 0;
  bytes_ = 0;
  compacted_ = compacted;
  max_events_ = std::max<std::size_t>(1, max_events);
  max_bytes_ = max_bytes;
}

void event_history::restore_push(shared_event e) {
  std::lock_guard<std::mutex> guard{mtx_};
  push(std::move(e));
}

std::uint64_t event_history::compacted() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return compacted_;
}

std::uint64_t event_history::revision() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return compacted_ + size_;
}

std::size_t event_history::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return size_;
}

std::size_t event_history::bytes() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return bytes_;
}

std::size_t event_history::max_events() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return max_events_;
}

std::size_t event_history::max_bytes() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return max_bytes_;
}

std::size_t event_history::first_after(std::uint64_t revision) const {
  // The events are exactly the revisions compacted_+1 .. compacted_+size,
  // one each, so the first one after `revision` is found by arithmetic.
  return static_cast<std::size_t>(std::min<std::uint64_t>(revision - compacted_, size_));
}

bool event_history::events_since(const std::string& key, bool prefix, std::uint64_t revision,
                                 std::size_t max_bytes, std::vector<event>& out,
                                 std::uint64_t& upto) const {
  std::lock_guard<std::mutex> guard{mtx_};
  upto = compacted_ + size_;
  if (revision < compacted_)
    return false;
  std::size_t bytes = 0;
  bool any = false;
  for (auto i = first_after(revision); i < size_; ++i) {
    auto& e = at(i);
    bool match = prefix ? e.key.compare(0, key.size(), key) == 0 : e.key == key;
    if (!match)
      continue;
    if (any && bytes + e.bytes() > max_bytes) {
      upto = e.revision - 1;
      break;
    }
    any = true;
    bytes += e.bytes();
    out.push_back(e.to_event());
  }
  return true;
}

bool event_history::events_since(std::uint64_t revision, std::vector<shared_event>& out) const {
  std::lock_guard<std::mutex> guard{mtx_};
  if (revision < compacted_)
    return false;
  for (auto i = first_after(revision); i < size_; ++i)
    out.push_back(at(i));
  return true;
}

}  // namespace ballot::kv
