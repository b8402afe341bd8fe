#include "runtime/peer/frame.hpp"

#include <algorithm>
#include <cstring>

#include "runtime/peer/le_bytes.hpp"
#include "runtime/peer/snapshot_chunk.hpp"

namespace ballot::peer {

std::optional<frame_kind> kind_from_byte(std::uint8_t b) {
  switch (b) {
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
    case 7:
    case 8:
    case 9:
    case 10:
    case 12:
    case 13:
    case 14:
    case 15:
    case 20:
    case 21:
    case 22:
    case 23:
    case 24:
    case 25:
    case 26:
    case 27:
      return static_cast<frame_kind>(b);
    default:
      return std::nullopt;
  }
}

const char* kind_name(frame_kind k) {
  switch (k) {
    case frame_kind::hello:
      return "hello";
    case frame_kind::prepare:
      return "prepare";
    case frame_kind::promise:
      return "promise";
    case frame_kind::accept:
      return "accept";
    case frame_kind::accepted:
      return "accepted";
    case frame_kind::reject:
      return "reject";
    case frame_kind::heartbeat:
      return "heartbeat";
    case frame_kind::heartbeat_ack:
      return "heartbeat_ack";
    case frame_kind::catchup_request:
      return "catchup_request";
    case frame_kind::catchup_reply:
      return "catchup_reply";
    case frame_kind::state_query:
      return "state_query";
    case frame_kind::state_report:
      return "state_report";
    case frame_kind::snapshot_chunk:
      return "snapshot_chunk";
    case frame_kind::snapshot_ack:
      return "snapshot_ack";
    case frame_kind::propose_request:
      return "propose_request";
    case frame_kind::propose_reply:
      return "propose_reply";
    case frame_kind::read_request:
      return "read_request";
    case frame_kind::read_reply:
      return "read_reply";
    case frame_kind::status_request:
      return "status_request";
    case frame_kind::status_reply:
      return "status_reply";
    case frame_kind::propose_batch_request:
      return "propose_batch_request";
    case frame_kind::propose_batch_reply:
      return "propose_batch_reply";
  }
  return "?";
}

bool is_request(frame_kind k) {
  return k == frame_kind::propose_request || k == frame_kind::read_request ||
         k == frame_kind::status_request || k == frame_kind::propose_batch_request;
}

bool is_reply(frame_kind k) {
  return k == frame_kind::propose_reply || k == frame_kind::read_reply ||
         k == frame_kind::status_reply || k == frame_kind::propose_batch_reply;
}

std::size_t max_payload(frame_kind k) {
  switch (k) {
    case frame_kind::hello:
    case frame_kind::prepare:
    case frame_kind::accepted:
    case frame_kind::reject:
    case frame_kind::heartbeat:
    case frame_kind::heartbeat_ack:
    case frame_kind::catchup_request:
    case frame_kind::state_query:
    case frame_kind::state_report:
    case frame_kind::status_request:
    case frame_kind::status_reply:
    case frame_kind::snapshot_ack:
      return max_small_payload;
    case frame_kind::snapshot_chunk:
      return chunk_header_bytes + max_chunk_bytes;
    case frame_kind::propose_batch_request:
      return max_batch_payload;
    default:
      return max_frame_bytes - frame_header_bytes;
  }
}

void begin_frame(std::vector<char>& out, frame_kind kind, std::uint32_t from,
                 std::uint64_t request_id) {
  out.assign(4 + frame_header_bytes, 0);
  out[4] = static_cast<char>(kind);
  le::put(out.data() + 5, from, 4);
  le::put(out.data() + 9, request_id, 8);
}

void finish_frame(std::vector<char>& out) {
  le::put(out.data(), out.size() - 4, 4);
}

std::vector<char> encode_frame(frame_kind kind, std::uint32_t from, std::uint64_t request_id,
                               const std::vector<char>& payload) {
  std::vector<char> out;
  begin_frame(out, kind, from, request_id);
  out.insert(out.end(), payload.begin(), payload.end());
  finish_frame(out);
  return out;
}

/// Appends `take` bytes of a payload of which `remaining` (these included)
/// are still to come. The buffer is made ready for at most `reserve_ahead`
/// bytes beyond those that arrived (or twice what arrived): a peer that
/// announces 64 MiB and sends 10 costs 4 MiB, while a megabyte value is
/// read into one allocation instead of growing by doubling from 64 KiB
/// (each step a copy and fresh pages to fault in: a tenth of a follower's
/// CPU under 1 MB puts).
void frame_decoder::append_body(std::vector<char>& payload, const char* data, std::size_t take,
                                std::size_t remaining) {
  auto need = payload.size() + take;
  if (payload.capacity() < need) {
    auto total = payload.size() + remaining;
    auto ahead = std::max(2 * payload.capacity(), payload.size() + reserve_ahead);
    payload.reserve(std::max(need, std::min(total, ahead)));
  }
  payload.insert(payload.end(), data, data + take);
}

bool frame_decoder::start_body() {
  auto raw = static_cast<std::uint8_t>(small_[0]);
  current_ = item{};
  current_.raw_kind = raw;
  current_.frame.from = static_cast<std::uint32_t>(le::get(small_ + 1, 4));
  current_.frame.request_id = le::get(small_ + 5, 8);
  remaining_ = length_ - frame_header_bytes;
  auto kind = kind_from_byte(raw);
  if (!kind) {
    current_.is = item::what::unknown_kind;
  } else if (remaining_ > max_payload(*kind)) {
    current_.is = item::what::too_large_for_kind;
  } else {
    current_.frame.kind = *kind;
    state_ = state::body;
    return true;
  }
  state_ = state::skip;
  return true;
}

bool frame_decoder::feed(const char* data, std::size_t n) {
  if (failure_ != error::none)
    return false;
  while (n > 0 || ((state_ == state::body || state_ == state::skip) && remaining_ == 0)) {
    switch (state_) {
      case state::length: {
        auto take = std::min(n, std::size_t{4} - fill_);
        std::memcpy(small_ + fill_, data, take);
        fill_ += take, data += take, n -= take;
        if (fill_ < 4)
          break;
        auto len = le::get(small_, 4);
        fill_ = 0;
        if (len > max_frame_bytes || len < frame_header_bytes) {
          failure_ = len > max_frame_bytes ? error::length_too_large : error::length_too_small;
          bad_length_ = len;
          return false;
        }
        length_ = static_cast<std::uint32_t>(len);
        state_ = state::header;
        break;
      }
      case state::header: {
        auto take = std::min(n, frame_header_bytes - fill_);
        std::memcpy(small_ + fill_, data, take);
        fill_ += take, data += take, n -= take;
        if (fill_ < frame_header_bytes)
          break;
        fill_ = 0;
        start_body();
        break;
      }
      case state::body:
      case state::skip: {
        auto take = std::min(n, remaining_);
        if (state_ == state::body)
          append_body(current_.frame.payload, data, take, remaining_);
        data += take, n -= take, remaining_ -= take;
        if (remaining_ == 0) {
          ready_.push_back(std::move(current_));
          current_ = item{};
          state_ = state::length;
        }
        break;
      }
    }
  }
  return true;
}

std::optional<frame_decoder::item> frame_decoder::next() {
  if (ready_.empty())
    return std::nullopt;
  auto out = std::move(ready_.front());
  ready_.pop_front();
  return out;
}

}  // namespace ballot::peer
