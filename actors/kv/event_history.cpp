#include "actors/kv/event_history.hpp"

#include <algorithm>
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
  events_ = other.events_;
  bytes_ = other.bytes_;
  max_events_ = other.max_events_;
  max_bytes_ = other.max_bytes_;
  compacted_ = other.compacted_;
  return *this;
}

void event_history::append(shared_event e) {
  std::lock_guard<std::mutex> guard{mtx_};
  bytes_ += e.bytes();
  events_.push_back(std::move(e));
  while (events_.size() > max_events_ || (bytes_ > max_bytes_ && events_.size() > 1)) {
    compacted_ = events_.front().revision;
    bytes_ -= events_.front().bytes();
    events_.pop_front();
  }
}

void event_history::reset(std::uint64_t compacted, std::size_t max_events, std::size_t max_bytes) {
  std::lock_guard<std::mutex> guard{mtx_};
  events_.clear();
  bytes_ = 0;
  compacted_ = compacted;
  max_events_ = std::max<std::size_t>(1, max_events);
  max_bytes_ = max_bytes;
}

void event_history::restore_push(shared_event e) {
  std::lock_guard<std::mutex> guard{mtx_};
  bytes_ += e.bytes();
  events_.push_back(std::move(e));
}

std::uint64_t event_history::compacted() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return compacted_;
}

std::uint64_t event_history::revision() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return compacted_ + events_.size();
}

std::size_t event_history::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return events_.size();
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
  return static_cast<std::size_t>(std::min<std::uint64_t>(revision - compacted_, events_.size()));
}

bool event_history::events_since(const std::string& key, bool prefix, std::uint64_t revision,
                                 std::size_t max_bytes, std::vector<event>& out,
                                 std::uint64_t& upto) const {
  std::lock_guard<std::mutex> guard{mtx_};
  upto = compacted_ + events_.size();
  if (revision < compacted_)
    return false;
  std::size_t bytes = 0;
  bool any = false;
  for (auto i = first_after(revision); i < events_.size(); ++i) {
    auto& e = events_[i];
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
  for (auto i = first_after(revision); i < events_.size(); ++i)
    out.push_back(events_[i]);
  return true;
}

}  // namespace ballot::kv
