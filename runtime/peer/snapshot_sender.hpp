#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "runtime/peer/snapshot_chunk.hpp"
#include "runtime/peer/snapshot_source.hpp"

/// One member link's outgoing snapshot transfer, as pure code (no CAF, no
/// sockets, no clock: `now` comes in): which chunk goes next, how many bytes
/// may be unacknowledged at once, when a transfer is over. The link actor
/// (member_link.cpp) frames and sends what it says.
///
/// Flow control is in bytes: at most `window_bytes` sent and not yet
/// acknowledged, so the member's outbox never fills with snapshot and a
/// heartbeat queued behind it waits for a window, not for the state. A
/// snapshot still in flight is never started again: the replica re-sends a
/// snapshot a member has not moved past (replica.cpp), and the link ignores
/// that while the same one is on its way.
namespace ballot::peer {

struct sender_options {
  /// Data bytes per chunk frame (at least 1, at most max_chunk_bytes).
  std::size_t chunk_bytes = default_chunk_bytes;
  /// Bytes sent and not yet acknowledged (at least one chunk goes).
  std::size_t window_bytes = 4 * default_chunk_bytes;
  /// A transfer whose acknowledgements stop this long is dropped: the
  /// member is gone or restarted, and the replica's re-send starts anew.
  std::uint64_t stall_ms = 10'000;
};

class snapshot_sender {
 public:
  /// `first_id`: the first transfer id (the driver draws it at random, so
  /// that a restarted sender does not repeat the ids of its last life).
  explicit snapshot_sender(sender_options o, std::uint64_t first_id = 1);

  /// Whether the snapshot named `key` (its last slot) is on its way now.
  bool in_flight(std::uint64_t key) const { return src_ && key_ == key; }
  bool active() const { return src_ != nullptr; }

  /// Starts sending `src` (the encoded install_snapshot) as a new
  /// transfer, dropping the one in flight, if any.
  void start(std::uint64_t key, std::shared_ptr<snapshot_source> src, std::uint64_t now_ms);
  /// The same for bytes in memory.
  void start(std::uint64_t key, std::shared_ptr<const std::vector<char>> bytes,
             std::uint64_t now_ms);

  /// The next chunk the window allows; nullopt when none is due (or the
  /// source has not made it yet). Its `data` is valid until the next call;
  /// its `crc` is left 0: `make_chunk_frame` computes it as it frames the bytes.
  std::optional<snapshot_chunk> next() const;

  /// Why the source failed ("" if it did not): the caller abandons the transfer.
  std::string failure() const { return src_ ? src_->failure() : std::string{}; }
  /// `c` (the last `next()`) went to the transport.
  void sent(const snapshot_chunk& c);

  enum class ack_effect {
    ignored,   ///< not for this transfer, or claims more than was sent
    progress,  ///< the window moved
    done,      ///< the member has it all: the transfer is over
    refused,   ///< the member dropped it: the transfer is over
    /// The member is taking another member's snapshot (one at a time): the
    /// transfer is over, and nothing here starts it again. The retry is the
    /// replica's resend of a snapshot its member has not moved past, which
    /// waits twice as long each time (replica.cpp): later, never in a tight
    /// loop, and never once the member caught up from the other sender.
    busy,
  };
  ack_effect on_ack(const snapshot_ack& a, std::uint64_t now_ms);

  /// No acknowledgement moved the window for `stall_ms`. A source still
  /// making its first pass (seconds for a state of GiBs) is not stalled:
  /// the clock starts once it is ready.
  bool stalled(std::uint64_t now_ms);
  /// Drops the transfer (the link reset, it stalled, a newer snapshot came).
  void abandon();

  std::uint64_t transfer() const { return transfer_; }
  std::uint64_t total() const { return src_ ? src_->size() : 0; }
  std::uint64_t sent_bytes() const { return sent_; }
  std::uint64_t acked_bytes() const { return acked_; }
  std::size_t chunks_sent() const { return chunks_; }

 private:
  sender_options opts_;
  std::uint64_t next_id_;
  std::uint64_t transfer_ = 0;
  std::uint64_t key_ = 0;
  std::shared_ptr<snapshot_source> src_;
  std::uint64_t sent_ = 0;
  std::uint64_t acked_ = 0;
  std::uint64_t last_progress_ms_ = 0;
  std::size_t chunks_ = 0;
};

}  // namespace ballot::peer
