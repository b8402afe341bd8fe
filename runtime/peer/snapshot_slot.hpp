#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

/// The node's one place for an incoming snapshot transfer (issue 9), as pure
/// code (no CAF, no sockets, no clock: `now` comes in). Every member link's
/// receiver (snapshot_receiver.hpp) shares it, so a node that every other
/// member decides to send its state at once (its data directory was wiped,
/// say) reassembles one transfer, not one per member: its memory is bounded
/// by the budget (receiver_options::max_total_bytes) once, not N-1 times.
///
/// A second transfer is refused while one is held; its sender hears "busy"
/// and its replica sends the snapshot again later (replica.cpp's resend
/// wait, doubling per resend). The hold ends when the transfer completes and
/// its bytes are freed, is dropped (CRC, memory, idle, reset), or its link
/// goes away (the hold is released as its receiver is destroyed). A holder
/// that sends nothing for `idle_ms` loses the slot to the next claimant even
/// if its own link never looks again: a dead or stuck link never keeps it.
///
/// Links are actors on different threads: the slot takes a mutex.
namespace ballot::peer {

class snapshot_slot {
 public:
  explicit snapshot_slot(std::uint64_t idle_ms) : idle_ms_(idle_ms) {}

  /// Member `member` starts a transfer at `now_ms`: a ticket (never 0) when
  /// the slot is free or its holder idle for `idle_ms`; 0 (busy) otherwise.
  /// A holder asking again is busy too: it keeps its ticket instead.
  std::uint64_t acquire(std::uint32_t member, std::uint64_t now_ms);
  /// A chunk of the ticket's transfer came: its hold is fresh again. False
  /// when the ticket no longer holds the slot (taken over after idling).
  bool touch(std::uint64_t ticket, std::uint64_t now_ms);
  /// The ticket's transfer is over; a ticket that no longer holds it
  /// changes nothing (the new holder keeps the slot).
  void release(std::uint64_t ticket);

  struct holder {
    std::uint32_t member = 0;
    std::uint64_t ticket = 0;
    std::uint64_t last_ms = 0;  ///< its last chunk
  };
  /// Who holds the slot now, if anyone (idle or not).
  std::optional<holder> current() const;
  std::uint64_t idle_ms() const { return idle_ms_; }

 private:
  const std::uint64_t idle_ms_;
  mutable std::mutex mu_;
  std::optional<holder> held_;
  std::uint64_t next_ticket_ = 1;
};

/// A ticket of a slot, released when destroyed (move-only): held by the
/// buffer it bounds, so the slot is free exactly when those bytes are.
class slot_hold {
 public:
  slot_hold() = default;
  slot_hold(std::shared_ptr<snapshot_slot> slot, std::uint64_t ticket)
      : slot_(std::move(slot)), ticket_(ticket) {}
  slot_hold(slot_hold&& o) noexcept { swap(o); }
  slot_hold& operator=(slot_hold&& o) noexcept {
    slot_hold gone{std::move(o)};
    swap(gone);
    return *this;
  }
  slot_hold(const slot_hold&) = delete;
  slot_hold& operator=(const slot_hold&) = delete;
  ~slot_hold() {
    if (slot_)
      slot_->release(ticket_);
  }

  explicit operator bool() const { return slot_ != nullptr; }
  /// See snapshot_slot::touch; an empty hold (no slot shared) always holds.
  bool touch(std::uint64_t now_ms) { return !slot_ || slot_->touch(ticket_, now_ms); }
  std::uint64_t ticket() const { return ticket_; }

 private:
  void swap(slot_hold& o) noexcept {
    std::swap(slot_, o.slot_);
    std::swap(ticket_, o.ticket_);
  }
  std::shared_ptr<snapshot_slot> slot_;
  std::uint64_t ticket_ = 0;
};

}  // namespace ballot::peer
