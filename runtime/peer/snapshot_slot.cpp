#include "runtime/peer/snapshot_slot.hpp"

#include <algorithm>

namespace ballot::peer {

std::uint64_t snapshot_slot::acquire(std::uint32_t member, std::uint64_t now_ms) {
  std::lock_guard<std::mutex> guard{mu_};
  // Idle for `idle_ms`: its own receiver drops it at that moment too, so
  // taking over never leaves two live transfers for longer than a link's tick.
  if (held_ && now_ms < held_->last_ms + idle_ms_)
    return 0;
  auto ticket = next_ticket_++;
  if (next_ticket_ == 0)
    next_ticket_ = 1;  // 0 says busy
  held_ = holder{member, ticket, now_ms};
  return ticket;
}

bool snapshot_slot::touch(std::uint64_t ticket, std::uint64_t now_ms) {
  std::lock_guard<std::mutex> guard{mu_};
  if (!held_ || held_->ticket != ticket)
    return false;
  held_->last_ms = std::max(held_->last_ms, now_ms);
  return true;
}

void snapshot_slot::release(std::uint64_t ticket) {
  std::lock_guard<std::mutex> guard{mu_};
  if (held_ && held_->ticket == ticket)
    held_.reset();
}

std::optional<snapshot_slot::holder> snapshot_slot::current() const {
  std::lock_guard<std::mutex> guard{mu_};
  return held_;
}

}  // namespace ballot::peer
