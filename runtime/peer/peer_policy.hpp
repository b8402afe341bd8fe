#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "runtime/peer/frame.hpp"

/// Who may talk on the peer port and which frames are taken: pure decisions,
/// unit-tested without sockets. The transport asks; it never decides itself.
namespace ballot::peer {

/// Why a connection was refused or a frame dropped. Each has a counter.
enum class drop_reason : std::uint8_t {
  tls_handshake,       ///< no certificate, another CA, bad name: the TLS layer refused
  not_a_member,        ///< the certificate's common name or the hello names no other member
  missing_hello,       ///< an insecure connection did not start with a hello
  from_mismatch,       ///< a frame claims a sender other than the connection's member
  unknown_kind,        ///< a kind byte outside the table
  too_large_for_kind,  ///< payload over the cap of its kind
  length_too_large,    ///< a length over the port's cap (the connection is closed)
  length_too_small,    ///< a length under the header (the connection is closed)
  bad_payload,         ///< the payload does not decode as its kind's type
  unexpected_kind,     ///< a hello after the start, or a reply no request waits for
  too_many_connections,
  handshake_timeout,
  over_budget,      ///< outgoing: the member's queue is full (consensus re-sends)
  not_connected,    ///< outgoing: no connection to the member right now
  foreign_cluster,  ///< the hello carries another cluster's id (the connection is refused)
};
constexpr std::size_t drop_reason_count = 15;

const char* reason_name(drop_reason r);

/// Counters per reason, shared between threads.
class drop_counters {
 public:
  void count(drop_reason r) { counts_[static_cast<std::size_t>(r)].fetch_add(1); }
  std::uint64_t get(drop_reason r) const { return counts_[static_cast<std::size_t>(r)].load(); }
  /// "from_mismatch=3 unknown_kind=1" (reasons that counted anything).
  std::string summary() const;

 private:
  std::array<std::atomic<std::uint64_t>, drop_reason_count> counts_{};
};

/// The members and this node's own id; decides on identities and frames.
class peer_policy {
 public:
  /// `cluster_id` is what every hello must carry (the raw bytes of the
  /// cluster id, README "Cluster identity").
  peer_policy(std::uint32_t self, std::set<std::uint32_t> members, std::string cluster_id = {})
      : self_(self), members_(std::move(members)), cluster_id_(std::move(cluster_id)) {}

  /// The certificate common name a member presents: "member-<id>".
  static std::string common_name_of(std::uint32_t id) { return "member-" + std::to_string(id); }

  /// The member a TLS peer is, from its certificate's common name; nullopt
  /// if the name is not exactly `member-<id>` for another member.
  std::optional<std::uint32_t> member_of_common_name(const std::string& cn) const;

  /// The member a connection's first frame names; nullopt (with the reason)
  /// if it is not a hello of this cluster naming another member. Every
  /// connection starts with one, TLS or not; `authenticated` is the member a
  /// TLS certificate already named (0 without TLS): that is the member then,
  /// whatever the hello's `from` says (later frames are checked against it).
  std::optional<std::uint32_t> member_of_hello(const frame& first, drop_reason& why,
                                               std::uint32_t authenticated = 0) const;

  /// For the log: why `member_of_hello` refused `first` (its `why`).
  std::string why_refused(const frame& first, drop_reason why) const;

  /// Whether a frame from a connection authenticated as `member` is taken;
  /// otherwise the reason to drop it.
  std::optional<drop_reason> check(std::uint32_t member, const frame& f) const;

  bool is_other_member(std::uint32_t id) const { return id != self_ && members_.count(id) != 0; }

  /// The membership changed (README "Changing the membership"): from now on
  /// only these members' connections and frames are taken.
  void set_members(std::set<std::uint32_t> members) { members_ = std::move(members); }

 private:
  std::uint32_t self_;
  std::set<std::uint32_t> members_;
  std::string cluster_id_;
};

/// A member's queue of outgoing frames, bounded in bytes: past the budget a
/// frame is refused (the protocol re-sends what matters), except that one
/// frame larger than the whole budget still goes when the queue is empty.
/// Bytes count until written, not merely until taken. Not thread-safe.
class outbox {
 public:
  explicit outbox(std::size_t budget) : budget_(budget) {}

  bool fits(std::size_t bytes) const { return queued_ == 0 || queued_ + bytes <= budget_; }
  void add(std::size_t bytes) { queued_ += bytes; }
  /// Saturates: a write that was in flight when the connection died may
  /// finish after `reset`; its bytes must not wrap the count (which would
  /// refuse every later frame to that member as over budget, silently).
  void written(std::size_t bytes) { queued_ -= std::min(bytes, queued_); }
  std::size_t queued() const { return queued_; }
  /// The connection is gone: whatever was queued or in flight is dropped.
  void reset() { queued_ = 0; }

 private:
  std::size_t budget_;
  std::size_t queued_ = 0;
};

}  // namespace ballot::peer
