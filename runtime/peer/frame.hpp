#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

/// The peer port's wire format, as pure code (no sockets, no CAF): one frame is
///
///   u32 length | u8 kind | u32 from | u64 request id | payload
///
/// little-endian, `length` counting everything after itself. The kind comes
/// from a fixed table: the consensus core's node-to-node messages (the
/// snapshot as a transfer of chunks, snapshot_chunk.hpp), three member
/// requests with their replies, and a hello. Anything else is not
/// decodable, so the replica's admin messages (peer map, log dump, timers,
/// proposals outside a member request) cannot be reached from the network.
namespace ballot::peer {

enum class frame_kind : std::uint8_t {
  hello = 1,  ///< first frame of an insecure connection: "I am member `from`"
  // -- the core's (from, M) messages
  prepare = 2,
  promise = 3,
  accept = 4,
  accepted = 5,
  reject = 6,
  heartbeat = 7,
  heartbeat_ack = 8,
  catchup_request = 9,
  catchup_reply = 10,
  // 11 was install_snapshot, the whole state in one frame: no longer taken.
  state_query = 12,
  state_report = 13,
  /// Part of the core's install_snapshot, and its acknowledgement
  /// (snapshot_chunk.hpp); the link reassembles the message.
  snapshot_chunk = 14,
  snapshot_ack = 15,
  // -- member requests (a follower's gateway asking another member's replica)
  propose_request = 20,  ///< paxos::command -> propose_reply
  propose_reply = 21,    ///< paxos::client_reply
  read_request = 22,     ///< std::string -> read_reply
  read_reply = 23,       ///< actors::read_reply
  status_request = 24,   ///< nothing -> status_reply
  status_reply = 25,     ///< actors::replica_status
  /// Several proposals in one request (std::vector<paxos::command>), and
  /// their answers in the same order (std::vector<paxos::client_reply>).
  propose_batch_request = 26,
  propose_batch_reply = 27,
};

/// The kind for a byte from the wire, or nullopt when it is not in the table.
std::optional<frame_kind> kind_from_byte(std::uint8_t b);

/// "prepare", "catchup_reply", ... (for logs).
const char* kind_name(frame_kind k);

bool is_request(frame_kind k);
bool is_reply(frame_kind k);

/// The largest frame the peer port takes, decided from the length alone. A
/// snapshot goes in chunks of at most 8 MiB (snapshot_chunk.hpp), so what
/// sets it is the largest other legal frame: an accept or a catch-up reply
/// holds at most one command over the batch bounds, and a command is at most
/// paxos::config::max_command_bytes (16 MiB) next to at most 4 MiB of
/// others (catchup_bytes; max_batch_bytes is 1 MiB); a promise holds the
/// votes a leader had in phase 2, under 2 * max_inflight_bytes (8 MiB) plus
/// one such command; a propose request or reply holds one command or its
/// result; a read reply at most the gateway's 4 MiB list bound or a 1 MiB
/// value. 64 MiB (the log's record limit: no vote can be larger and still be
/// persisted) leaves room for CAF's encoding and for bounds raised by flags.
constexpr std::size_t max_frame_bytes = std::size_t{64} << 20;
/// Kinds whose payload is a few integers are held to this, so a hostile
/// length cannot make the reader buffer more for them.
constexpr std::size_t max_small_payload = 4096;
/// The largest batch of proposals a member may send: a bridge sends at most
/// 1 MiB of payloads in one (runtime/gateway/bridge.cpp), and the bound keeps
/// what a member's frame of tiny commands decodes to (a vector entry each)
/// a few times its bytes, not 64 MiB's worth.
constexpr std::size_t max_batch_payload = std::size_t{4} << 20;
/// kind + from + request id.
constexpr std::size_t frame_header_bytes = 1 + 4 + 8;

/// The most payload a frame of this kind may carry.
std::size_t max_payload(frame_kind k);

struct frame {
  frame_kind kind = frame_kind::hello;
  std::uint32_t from = 0;
  std::uint64_t request_id = 0;
  std::vector<char> payload;
};

/// Starts a frame in `out` (cleared): the header with a placeholder length.
/// Append the payload to `out`, then call `finish_frame`.
void begin_frame(std::vector<char>& out, frame_kind kind, std::uint32_t from,
                 std::uint64_t request_id);
/// Writes the length of the frame begun in `out`.
void finish_frame(std::vector<char>& out);
/// One whole frame.
std::vector<char> encode_frame(frame_kind kind, std::uint32_t from, std::uint64_t request_id,
                               const std::vector<char>& payload = {});

/// Splits a byte stream into frames. Feed it whatever the socket gave;
/// take the frames it completed. A length over the cap (or under the header)
/// is fatal for the stream, decided from the four length bytes alone, before
/// anything is allocated. A frame of an unknown kind, or too large for its
/// kind, is skipped without being buffered and reported as dropped.
class frame_decoder {
 public:
  /// How far a payload's buffer is reserved past the bytes that arrived.
  static constexpr std::size_t reserve_ahead = std::size_t{4} << 20;

  enum class error { none, length_too_large, length_too_small };

  /// What `next` hands out.
  struct item {
    enum class what { frame, unknown_kind, too_large_for_kind } is = what::frame;
    peer::frame frame;  ///< valid when `is == what::frame`
    std::uint8_t raw_kind = 0;
  };

  /// Consumes `n` bytes; returns false once the stream is broken (see `failure`).
  bool feed(const char* data, std::size_t n);

  /// The next complete item, in stream order.
  std::optional<item> next();

  error failure() const { return failure_; }
  /// The offending length when `failure()` is not none.
  std::uint64_t bad_length() const { return bad_length_; }
  /// Bytes allocated for the payload being read (what a partial frame costs).
  std::size_t partial_capacity() const { return current_.frame.payload.capacity(); }
  /// True between frames (nothing partial buffered).
  bool at_boundary() const { return state_ == state::length && fill_ == 0; }

 private:
  enum class state { length, header, body, skip };

  bool start_body();
  static void append_body(std::vector<char>& payload, const char* data, std::size_t take,
                          std::size_t remaining);

  state state_ = state::length;
  error failure_ = error::none;
  std::uint64_t bad_length_ = 0;
  char small_[frame_header_bytes] = {};
  std::size_t fill_ = 0;       ///< bytes of the length or header read so far
  std::size_t remaining_ = 0;  ///< payload bytes still to read (body or skip)
  std::uint32_t length_ = 0;
  item current_;
  std::deque<item> ready_;
};

}  // namespace ballot::peer
