#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "actors/paxos/membership.hpp"
#include "actors/paxos/ready.hpp"
#include "actors/paxos/recent_results.hpp"
#include "actors/paxos/state_machine.hpp"

namespace ballot::paxos {

/// The learner role: knows which slots are chosen and applies them, strictly
/// in slot order, to the state machine. It also owns the per-client dedup
/// table, which is part of the replicated state (every replica derives the
/// same table from the same log), so a retried command applies exactly once.
///
/// A client may pipeline: its commands may reach the log in any order. The
/// table keeps the results of each client's last `dedup_window` applied
/// sequence numbers; a command older than all of them is "expired": it is not
/// applied (it may have been), and its client is told so.
///
/// Clients idle for `dedup_ttl_ms` of log time leave the table, so it is
/// bounded. Eviction must never turn a late retry into a second apply:
///  - a client the table does not know is refused `expired` (not applied,
///    no record made) unless its seq is within the first `dedup_window`,
///    the only commands a new client may have in flight before its first one
///    applies (pipelining may bring seq 2 before seq 1). Whatever the clocks
///    do, a client that was evicted past its first window can never have a
///    command applied again; a client that comes back after idling takes a
///    fresh id (the client library does, see README "Request ids cannot lie");
///  - within a client's first window only time protects a retry: the TTL is
///    twice the longest call (and so retry) a client makes, and log time
///    that jumps (a leader whose clock ran while the log stood still) counts
///    at most `dedup_max_step_ms` per command, so a jump ages nobody by more.
class learner {
 public:
  /// The outcome of applying one command of a chosen slot.
  struct applied {
    std::uint64_t client = 0;
    std::uint64_t seq = 0;
    std::string result;
    bool duplicate = false;  ///< a retry of a command already applied
    bool expired = false;    ///< older than the dedup window: not applied now
    bool reused = false;     ///< (client, seq) named another command: not applied
    bool invalid = false;    ///< seq 0: never applies
  };

  /// What the dedup table knows of a (client, seq) with a given fingerprint.
  enum class seen { no, applied, reused, expired };

  /// Rebuilds the state machine from the snapshot on disk (if any), then by
  /// replaying the chosen slots after it.
  /// `initial`: the membership before any change (the bootstrap one), kept
  /// when the snapshot on disk carries none.
  /// `dedup_ttl_ms` 0: nobody is evicted; `dedup_max_step_ms` 0: no bound.
  learner(const durable_state& disk, state_machine& sm, std::size_t dedup_window = 64,
          std::uint64_t dedup_ttl_ms = 0, std::uint64_t dedup_max_step_ms = 0,
          paxos::membership initial = paxos::membership(1, configuration{}));

  /// The membership after the applied slots (see membership.hpp): commands
  /// of `membership_client` change it instead of reaching the state machine,
  /// and no dedup row holds them (their tokens deduplicate them there).
  const paxos::membership& members() const { return members_; }

  /// Records `slot` as chosen (for the driver to persist) and applies every
  /// newly contiguous slot. Applied commands are appended to `done`.
  /// Returns false if the slot was already known.
  bool learn(slot_index slot, const value& val, ready& out, std::vector<applied>& done);

  /// Highest slot s such that every slot in 1..s is chosen (and applied).
  slot_index commit_index() const { return commit_; }

  /// Highest slot known to be chosen (there may be gaps below it).
  slot_index last_known() const {
    return chosen_.empty() ? commit_ : std::max(commit_, chosen_.rbegin()->first);
  }

  /// Every slot up to here is only in the snapshot, no longer in the log.
  slot_index compacted() const { return compacted_; }

  /// Payload bytes of the applied slots still kept (after `compacted`):
  /// what the next `compact` frees.
  std::size_t applied_bytes() const { return applied_bytes_; }

  /// The applied state at the commit index, or nullopt if the state machine
  /// does not support snapshots.
  std::optional<paxos::snapshot> make_snapshot() const;

  /// Takes a snapshot at the commit index and forgets the chosen values it
  /// covers, moving them into `retired` (for the caller to free where it
  /// likes). Nullopt (and nothing forgotten) if unsupported.
  std::optional<paxos::snapshot> compact(std::map<slot_index, value>& retired);

  /// Replaces the applied state with `snap` if it is ahead of this learner,
  /// then applies chosen slots after it. False if it is not ahead.
  bool install(const paxos::snapshot& snap, std::vector<applied>& done);

  /// The chosen value of `slot`, or nullptr when it is not known here (or
  /// compacted away).
  const value* chosen(slot_index slot) const;

  /// Chosen values from `from` on, contiguous, at most `limit` of them and
  /// at most `max_bytes` of payload (but always the first one).
  std::vector<chosen_entry> chosen_from(slot_index from, std::size_t limit,
                                        std::size_t max_bytes = SIZE_MAX) const;

  /// Whether (client, seq) applied (as the command with `fingerprint`, its
  /// result then in `result`), applied as another command, is older than the
  /// client's window, or is not known. Used to answer a retry without a slot.
  seen lookup(std::uint64_t client, std::uint64_t seq, std::uint64_t fingerprint,
              const std::string** result) const;

  /// If (client, seq) applied and is still in the window, its result.
  const std::string* applied_result(std::uint64_t client, std::uint64_t seq) const;

  /// True if (client, seq) is older than the client's dedup window.
  bool expired(std::uint64_t client, std::uint64_t seq) const;

  /// The state machine's fingerprint of a payload.
  std::uint64_t fingerprint(const std::string& payload) const { return sm_.fingerprint(payload); }

  /// Clients in the dedup table.
  std::size_t clients() const { return clients_.size(); }

 private:
  void apply_contiguous(std::vector<applied>& done);
  void restore(const paxos::snapshot& snap);

  /// Drops clients idle for longer than the TTL (log time).
  void expire_idle();
  /// After a command applied: log time that moved by more than the step
  /// bound moves every client's last activity by the excess.
  void follow_log_time();
  /// The dedup verdict on a command of a client not in the table, if it is
  /// refused (see the class comment).
  bool unknown_and_late(std::uint64_t client, std::uint64_t seq) const;

  struct dedup_entry {
    /// Results of the most recent applied sequence numbers.
    recent_results results;
    /// Every seq at or below this one is beyond the window.
    std::uint64_t forgotten = 0;
    std::uint64_t last_active = 0;
  };
  /// `client` (whose row is `rec`) was active at log time `now`.
  void touch(std::uint64_t client, dedup_entry& rec, std::uint64_t now);

  state_machine& sm_;
  paxos::membership members_;
  std::size_t dedup_window_;
  std::uint64_t dedup_ttl_ms_;
  std::uint64_t dedup_max_step_ms_;
  /// The log time after the last applied command (what a jump is measured from).
  std::uint64_t log_time_ = 0;
  /// (last_active, client): the idle ones first.
  std::set<std::pair<std::uint64_t, std::uint64_t>> by_age_;
  std::map<slot_index, value> chosen_;
  slot_index commit_ = 0;
  slot_index compacted_ = 0;
  std::size_t applied_bytes_ = 0;
  std::map<std::uint64_t, dedup_entry> clients_;
};

}  // namespace ballot::paxos
