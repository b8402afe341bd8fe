#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "runtime/peer/snapshot_chunk.hpp"
#include "runtime/peer/snapshot_slot.hpp"

/// One member link's incoming snapshot transfer, as pure code (no CAF, no
/// sockets, no clock: `now` comes in): reassembles the chunks of a transfer
/// into one buffer, in order, checking each chunk's CRC and the whole one's,
/// and says when it is complete. What a member sends is judged like any
/// network input: a chunk of an unknown transfer, out of order, past the
/// announced total, or of a transfer over the budget is refused without
/// being buffered; the buffer grows with the bytes that really came, never
/// with what a chunk announces.
namespace ballot::peer {

struct receiver_options {
  /// The largest transfer taken (the encoded snapshot): a larger declared
  /// total is refused at its first chunk (see ballotd's node.cpp for the
  /// value: derived from --quota-bytes).
  std::uint64_t max_total_bytes = std::uint64_t{1} << 30;
  /// A partial transfer that gets no chunk for this long is dropped.
  std::uint64_t idle_ms = 30'000;
  /// The node's one slot for incoming transfers, shared by every link's
  /// receiver (peer_service makes it): at most one transfer reassembled at
  /// a time per node, so the budget above bounds the node, not each link.
  /// Empty: this receiver is bounded alone.
  std::shared_ptr<snapshot_slot> slot;
};

/// The reassembly buffer: malloc'ed so that growing it can move pages
/// (mremap) instead of copying a GiB.
class chunk_buffer {
 public:
  chunk_buffer() = default;
  chunk_buffer(chunk_buffer&& o) noexcept { swap(o); }
  chunk_buffer& operator=(chunk_buffer&& o) noexcept {
    chunk_buffer gone{std::move(o)};
    swap(gone);
    return *this;
  }
  ~chunk_buffer();

  /// Appends; false (nothing changed) when memory runs out.
  bool append(const char* data, std::size_t n, std::size_t capacity_limit);
  const char* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }

  /// The node's slot these bytes hold (if shared): freed with them, so a
  /// completed transfer keeps it until its bytes are decoded and gone.
  slot_hold& hold() { return hold_; }

 private:
  void swap(chunk_buffer& o) noexcept;
  char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
  slot_hold hold_;
};

class snapshot_receiver {
 public:
  /// `member`: whose chunks these are (named to the slot's other claimants).
  explicit snapshot_receiver(receiver_options o, std::uint32_t member = 0)
      : opts_(std::move(o)), member_(member) {}

  enum class verdict {
    accepted,           ///< appended (ack it)
    complete,           ///< the last chunk: `take` the whole (ack it)
    refused_budget,     ///< a new transfer whose total is over the budget
    refused_unknown,    ///< not at offset 0 of a new transfer, nor of the current one
    refused_offset,     ///< the current transfer, but not where it stands (a gap)
    refused_duplicate,  ///< the current transfer, bytes it has already
    refused_overlong,   ///< past the transfer's total, or a total/crc that changed
    refused_crc,        ///< a chunk or the whole does not match its CRC: transfer dropped
    refused_memory,     ///< the buffer could not grow: transfer dropped
    refused_busy,       ///< the node's slot is another transfer's: told busy, retried later
  };
  struct result {
    verdict v = verdict::accepted;
    /// What to tell the sender, if anything.
    std::optional<snapshot_ack> ack;
    /// For a refusal: why, for the log line.
    std::string why;
  };

  result on_chunk(const snapshot_chunk& c, std::uint64_t now_ms);

  /// The completed transfer's bytes (after `complete`); empties the receiver.
  chunk_buffer take();

  /// Drops a partial transfer that got no chunk for `idle_ms`; true if it did.
  bool expire(std::uint64_t now_ms);
  /// Drops whatever is partial (the member's connection broke, say).
  void reset();

  bool partial() const { return transfer_ != 0; }
  std::uint64_t transfer() const { return transfer_; }
  std::size_t buffered() const { return buf_.size(); }
  std::size_t capacity() const { return buf_.capacity(); }

 private:
  result refuse(verdict v, std::string why, bool tell, std::uint64_t transfer);
  /// A chunk that is not of the current transfer: refused (a partial
  /// transfer left as it was), or the first chunk of a new one, which now
  /// holds the node's slot and replaces any partial one (nullopt).
  std::optional<result> start_transfer(const snapshot_chunk& c, std::uint64_t now_ms);
  /// The slot for a new transfer: ours already, or claimed; empty if busy.
  std::optional<slot_hold> claim_slot(std::uint64_t now_ms);

  receiver_options opts_;
  std::uint32_t member_ = 0;
  /// The last transfer refused busy: its later chunks are refused alike.
  std::uint64_t busy_transfer_ = 0;
  std::uint64_t transfer_ = 0;  ///< 0: none in progress
  std::uint64_t total_ = 0;
  std::uint32_t whole_crc_ = 0;
  std::uint32_t running_crc_ = 0;
  std::uint64_t last_chunk_ms_ = 0;
  chunk_buffer buf_;
  bool done_ = false;
};

const char* verdict_name(snapshot_receiver::verdict v);

}  // namespace ballot::peer
