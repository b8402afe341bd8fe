#include "runtime/peer/snapshot_sender.hpp"

#include <algorithm>

namespace ballot::peer {

snapshot_sender::snapshot_sender(sender_options o, std::uint64_t first_id)
    : opts_(o), next_id_(first_id == 0 ? 1 : first_id) {
  opts_.chunk_bytes = std::clamp<std::size_t>(opts_.chunk_bytes, 1, max_chunk_bytes);
}

void snapshot_sender::start(std::uint64_t key, std::shared_ptr<snapshot_source> src,
                            std::uint64_t now_ms) {
  abandon();
  transfer_ = next_id_++;
  if (next_id_ == 0)
    next_id_ = 1;  // 0 never names a transfer
  key_ = key;
  src_ = std::move(src);
  last_progress_ms_ = now_ms;
}

void snapshot_sender::start(std::uint64_t key, std::shared_ptr<const std::vector<char>> bytes,
                            std::uint64_t now_ms) {
  start(key, std::make_shared<bytes_source>(std::move(bytes)), now_ms);
}

std::optional<snapshot_chunk> snapshot_sender::next() const {
  if (!src_ || !src_->ready() || !src_->failure().empty())
    return std::nullopt;
  auto total = src_->size();
  // An empty snapshot still travels as one (empty) chunk: the member must
  // get the install whatever its size.
  if (sent_ >= total && !(total == 0 && chunks_ == 0))
    return std::nullopt;
  auto size = std::min<std::uint64_t>(opts_.chunk_bytes, total - sent_);
  if (sent_ > acked_ && sent_ - acked_ + size > opts_.window_bytes)
    return std::nullopt;
  auto data = src_->read(sent_, static_cast<std::size_t>(size));
  if (data.empty() && size > 0)
    return std::nullopt;  // not made yet: the next ack or tick asks again
  return snapshot_chunk{transfer_, total, sent_, src_->crc(), 0, data.data(), data.size()};
}

void snapshot_sender::sent(const snapshot_chunk& c) {
  if (!src_ || c.transfer != transfer_ || c.offset != sent_)
    return;
  sent_ += c.size;
  ++chunks_;
}

snapshot_sender::ack_effect snapshot_sender::on_ack(const snapshot_ack& a, std::uint64_t now_ms) {
  if (!src_ || a.transfer != transfer_ || a.received > sent_)
    return ack_effect::ignored;
  if (a.status == ack_status::refused || a.status == ack_status::busy) {
    abandon();
    return a.status == ack_status::busy ? ack_effect::busy : ack_effect::refused;
  }
  if (a.status == ack_status::complete) {
    if (a.received != src_->size())
      return ack_effect::ignored;  // "complete" with bytes missing: a lie
    abandon();
    return ack_effect::done;
  }
  if (a.received > acked_) {
    acked_ = a.received;
    last_progress_ms_ = now_ms;
    return ack_effect::progress;
  }
  return ack_effect::ignored;
}

bool snapshot_sender::stalled(std::uint64_t now_ms) {
  if (src_ && !src_->ready() && src_->failure().empty()) {
    last_progress_ms_ = now_ms;
    return false;
  }
  return src_ && now_ms >= last_progress_ms_ + opts_.stall_ms;
}

void snapshot_sender::abandon() {
  src_.reset();
  key_ = 0;
  sent_ = 0;
  acked_ = 0;
  chunks_ = 0;
}

}  // namespace ballot::peer
