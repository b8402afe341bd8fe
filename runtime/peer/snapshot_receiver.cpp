#include "runtime/peer/snapshot_receiver.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace ballot::peer {

chunk_buffer::~chunk_buffer() {
  std::free(data_);
}

void chunk_buffer::swap(chunk_buffer& o) noexcept {
  std::swap(data_, o.data_);
  std::swap(size_, o.size_);
  std::swap(capacity_, o.capacity_);
  std::swap(hold_, o.hold_);
}

bool chunk_buffer::append(const char* data, std::size_t n, std::size_t capacity_limit) {
  if (n == 0)
    return true;
  if (size_ + n > capacity_) {
    // Doubling, but never past what the transfer announced: the last step
    // ends exactly at its total.
    auto want = std::min(std::max(size_ + n, 2 * capacity_), std::max(capacity_limit, size_ + n));
    auto* grown = static_cast<char*>(std::realloc(data_, want));
    if (grown == nullptr)
      return false;
    data_ = grown;
    capacity_ = want;
  }
  std::memcpy(data_ + size_, data, n);
  size_ += n;
  return true;
}

const char* verdict_name(snapshot_receiver::verdict v) {
  using v_t = snapshot_receiver::verdict;
  switch (v) {
    case v_t::accepted:
      return "accepted";
    case v_t::complete:
      return "complete";
    case v_t::refused_budget:
      return "over_budget";
    case v_t::refused_unknown:
      return "unknown_transfer";
    case v_t::refused_offset:
      return "wrong_offset";
    case v_t::refused_duplicate:
      return "duplicate";
    case v_t::refused_overlong:
      return "over_long";
    case v_t::refused_crc:
      return "bad_crc";
    case v_t::refused_memory:
      return "out_of_memory";
    case v_t::refused_busy:
      return "busy";
  }
  return "?";
}

snapshot_receiver::result snapshot_receiver::refuse(verdict v, std::string why, bool tell,
                                                    std::uint64_t transfer) {
  result r;
  r.v = v;
  r.why = std::move(why);
  if (tell)
    r.ack = snapshot_ack{transfer, 0,
                         v == verdict::refused_busy ? ack_status::busy : ack_status::refused};
  return r;
}

std::optional<slot_hold> snapshot_receiver::claim_slot(std::uint64_t now_ms) {
  if (!opts_.slot)
    return slot_hold{};
  // A newer transfer of this member's replaces its partial one in place.
  if (buf_.hold() && buf_.hold().touch(now_ms))
    return std::move(buf_.hold());
  auto ticket = opts_.slot->acquire(member_, now_ms);
  if (ticket == 0)
    return std::nullopt;
  return slot_hold{opts_.slot, ticket};
}

std::optional<snapshot_receiver::result> snapshot_receiver::start_transfer(const snapshot_chunk& c,
                                                                           std::uint64_t now_ms) {
  // Only the first chunk of a transfer starts one. Told, so that a
  // sender whose receiver restarted or dropped the transfer stops at once
  // instead of waiting for its stall timeout.
  if (c.transfer != 0 && c.transfer == busy_transfer_)
    return refuse(verdict::refused_busy,
                  "chunk of transfer " + std::to_string(c.transfer) + " refused busy already", true,
                  c.transfer);
  if (c.transfer == 0 || c.offset != 0)
    return refuse(verdict::refused_unknown,
                  "chunk at offset " + std::to_string(c.offset) + " of unknown transfer " +
                    std::to_string(c.transfer),
                  true, c.transfer);
  if (c.total > opts_.max_total_bytes)
    return refuse(verdict::refused_budget,
                  "snapshot transfer of " + std::to_string(c.total) +
                    " bytes is over this node's budget of " +
                    std::to_string(opts_.max_total_bytes) + " bytes",
                  true, c.transfer);
  // Judged whole before it replaces anything: a refused first chunk
  // leaves a partial transfer as it was.
  if (c.size > c.total || (c.size == 0 && c.total != 0))
    return refuse(verdict::refused_overlong,
                  "first chunk of " + std::to_string(c.size) + " bytes for a total of " +
                    std::to_string(c.total),
                  true, c.transfer);
  if (chunk_crc(c.data, c.size) != c.crc)
    return refuse(verdict::refused_crc, "first chunk fails its CRC", true, c.transfer);
  auto hold = claim_slot(now_ms);
  if (!hold) {
    busy_transfer_ = c.transfer;
    auto holder = opts_.slot->current();
    return refuse(
      verdict::refused_busy,
      "this node is receiving another snapshot" +
        (holder ? " (from member " + std::to_string(holder->member) + ")" : std::string{}) +
        " and takes one at a time; the sender retries later",
      true, c.transfer);
  }
  reset();  // a newer transfer replaces a partial one
  buf_.hold() = std::move(*hold);
  transfer_ = c.transfer;
  total_ = c.total;
  whole_crc_ = c.whole_crc;
  last_chunk_ms_ = now_ms;
  return std::nullopt;
}

snapshot_receiver::result snapshot_receiver::on_chunk(const snapshot_chunk& c,
                                                      std::uint64_t now_ms) {
  if (done_)
    reset();  // the driver did not take the last one: it is dropped
  if (!partial() || c.transfer != transfer_) {
    if (auto refused = start_transfer(c, now_ms))
      return std::move(*refused);
  }
  if (c.total != total_ || c.whole_crc != whole_crc_)
    return refuse(verdict::refused_overlong, "chunk announces another total or checksum", false,
                  c.transfer);
  if (c.offset < buf_.size() || (c.size == 0 && total_ != 0))
    return refuse(verdict::refused_duplicate,
                  "chunk at offset " + std::to_string(c.offset) + " brings no new bytes (have " +
                    std::to_string(buf_.size()) + ")",
                  false, c.transfer);
  if (c.offset > buf_.size())
    return refuse(
      verdict::refused_offset,
      "chunk at offset " + std::to_string(c.offset) + ", expected " + std::to_string(buf_.size()),
      false, c.transfer);
  if (c.size > total_ - c.offset)
    return refuse(verdict::refused_overlong,
                  "chunk of " + std::to_string(c.size) + " bytes at offset " +
                    std::to_string(c.offset) + " ends past the total " + std::to_string(total_),
                  false, c.transfer);
  auto id = transfer_;
  if (chunk_crc(c.data, c.size) != c.crc) {
    reset();
    return refuse(verdict::refused_crc,
                  "chunk at offset " + std::to_string(c.offset) + " fails its CRC", true, id);
  }
  if (!buf_.hold().touch(now_ms)) {
    // Idle past `idle_ms`, another member's transfer took the slot.
    reset();
    return refuse(verdict::refused_busy,
                  "transfer " + std::to_string(id) +
                    " idled and lost this node's snapshot slot to another member's",
                  true, id);
  }
  if (!buf_.append(c.data, c.size, static_cast<std::size_t>(total_))) {
    reset();
    return refuse(verdict::refused_memory, "cannot grow the buffer", true, id);
  }
  running_crc_ = chunk_crc(c.data, c.size, running_crc_);
  last_chunk_ms_ = now_ms;
  result r;
  if (buf_.size() < total_) {
    r.ack = snapshot_ack{id, buf_.size(), ack_status::progress};
    return r;
  }
  if (running_crc_ != whole_crc_) {
    reset();
    return refuse(verdict::refused_crc, "the whole transfer fails its CRC", true, id);
  }
  done_ = true;
  r.v = verdict::complete;
  r.ack = snapshot_ack{id, total_, ack_status::complete};
  return r;
}

chunk_buffer snapshot_receiver::take() {
  chunk_buffer out;
  if (done_)
    out = std::move(buf_);
  reset();
  return out;
}

bool snapshot_receiver::expire(std::uint64_t now_ms) {
  if (!partial() || done_ || now_ms < last_chunk_ms_ + opts_.idle_ms)
    return false;
  reset();
  return true;
}

void snapshot_receiver::reset() {
  transfer_ = 0;
  total_ = 0;
  whole_crc_ = 0;
  running_crc_ = 0;
  done_ = false;
  buf_ = chunk_buffer{};
}

}  // namespace ballot::peer
