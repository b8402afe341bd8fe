#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/paxos/messages.hpp"

/// What the core hands to its driver after each input, in the manner of
/// etcd raft's Ready: state to persist, then messages and replies to send.
namespace ballot::paxos {

/// Everything a replica keeps on disk. The driver applies each `ready`'s
/// records to it; a restarted replica is rebuilt from it alone.
struct durable_state {
  ballot_number promised;
  std::map<slot_index, accepted_value> accepted;
  std::map<slot_index, value> chosen;
  /// The applied state up to `snap->last`; `accepted` and `chosen` then hold
  /// only slots after it.
  std::optional<paxos::snapshot> snap;
  /// Recovery found this state incomplete (damaged or lost records), or a
  /// repair from peers has not finished: the replica must repair before it
  /// promises (see `rejoin`).
  bool damaged = false;
  /// Not state, never persisted: the log entries and votes the compaction
  /// that made this state forgot, freed wherever this state is dropped. A
  /// storage that writes it in the background frees them there, off the
  /// replica's thread.
  std::shared_ptr<const void> retired;

  /// Nothing was ever persisted: a new replica, or one whose disk was wiped.
  bool holds_nothing() const {
    return promised.is_zero() && accepted.empty() && chosen.empty() && !snap;
  }
};

/// Why a client command got no result.
enum class reply_status {
  ok,          ///< applied (or a retry of an applied command); `result` is set
  not_leader,  ///< this replica cannot order commands now; retry at `leader_hint`
  expired,     ///< older than the client's dedup window: not applied now, and
               ///< whether an earlier copy applied can no longer be told
  id_reused,   ///< (client, seq) already named another command: not applied
  invalid,     ///< seq 0, or a payload over `max_command_bytes`: never applies
  overloaded,  ///< the leader's queue is over its budget: not queued, retry later
  /// Made by drivers only: the state is over its quota and the command would
  /// grow it (see replica_options::quota_bytes); not queued.
  quota_exceeded,
};

/// The status's name ("ok", "not_leader", ...).
inline const char* name_of(reply_status st) {
  switch (st) {
    case reply_status::ok:
      return "ok";
    case reply_status::not_leader:
      return "not_leader";
    case reply_status::expired:
      return "expired";
    case reply_status::id_reused:
      return "id_reused";
    case reply_status::invalid:
      return "invalid";
    case reply_status::overloaded:
      return "overloaded";
    case reply_status::quota_exceeded:
      return "quota_exceeded";
  }
  return "unknown";
}

struct client_reply {
  std::uint64_t client = 0;
  std::uint64_t seq = 0;
  reply_status status = reply_status::ok;
  std::string result;
  /// Where the client should retry, when this replica knows a leader.
  std::optional<node_id> leader_hint;
};

/// A linearizable read may now be served (status ok) from this replica's
/// state machine, or must go elsewhere (not_leader).
struct read_result {
  std::uint64_t id = 0;
  reply_status status = reply_status::ok;
  std::optional<node_id> leader_hint;
};

/// The outputs of one input. Contract: the driver makes `promised` and
/// `accepted` durable BEFORE it sends any of `messages` or `replies` (and
/// before it serves `reads`): an acceptor's answer must never outrun its
/// vote. `chosen` records only save a restarted replica from re-learning what
/// a majority already holds durably, so they may reach the disk later (with
/// the next sync) without holding anything back.
///
/// One exception: phase 2a (`accept`) messages may go out before the records
/// are durable (`take_early_messages`). An accept is a proposal, not a vote;
/// the leader's own vote reaches its proposer only as an `accepted` message
/// to itself among `messages`, which the driver delivers after the sync like
/// any other, so the commit index an accept carries counts durable votes only.
/// Sending phase 2a while the leader's own write is in flight takes that
/// write off the commit's critical path.
///
/// Heartbeats and their acks go early too: held behind a sync slower than an
/// election timeout, they arrived too late, and followers deposed a working
/// leader, and leaders stepped down for want of acks (simulator, slow disks).
/// A `heartbeat` votes for nothing, and its commit index counts durable votes
/// only, as an accept's does. A `heartbeat_ack` says "when this round came, I
/// had promised nothing above your ballot": a crash can only take back a
/// promise not yet on disk, which leaves that true. A `prepare` must wait: it
/// goes out once the candidate's promise of its own ballot is durable, and
/// that promise reaches its own proposer only through the driver, after the
/// sync, like its vote: so a restart never runs the same ballot twice.
struct ready {
  /// A compaction (after a snapshot was taken or installed): this whole
  /// state REPLACES what is on disk, before the records below apply on top.
  /// A write-ahead log writes the snapshot, rewrites the few records after
  /// it, and drops everything older. Like `chosen`, it need not be durable
  /// before outputs go out.
  std::optional<durable_state> compacted;
  /// `compacted` holds a snapshot this replica took of slots its own log
  /// already holds (not one installed from a peer), and this ready's records
  /// still include those at or below it. A storage may then write the
  /// snapshot in the background, or skip it, as long as it keeps the log
  /// that covers it until the snapshot is durable: a restart then finds the
  /// old snapshot and the whole log, or the new snapshot and the log after
  /// it. false: `compacted` must be durable with the next sync like any
  /// record (an installed snapshot covers slots no record on disk holds).
  bool compacted_locally = false;
  /// true: a repair began (durable BEFORE the records below); false: it
  /// finished (after them: a log syncs what the repair learned first).
  std::optional<bool> damaged;
  std::optional<ballot_number> promised;
  std::vector<std::pair<slot_index, accepted_value>> accepted;
  std::vector<chosen_entry> chosen;
  /// Slots of `chosen` whose value is this acceptor's own vote at the given
  /// ballot (in `accepted` here or in an earlier ready): a log may record
  /// them by reference instead of writing the value again.
  std::map<slot_index, ballot_number> chosen_votes;
  std::vector<envelope> messages;
  std::vector<client_reply> replies;
  /// Reads to serve now, in order: the state machine has applied everything
  /// they must observe. Serve them after persisting, like replies.
  std::vector<read_result> reads;

  bool must_persist() const {
    return compacted || damaged || promised || !accepted.empty() || !chosen.empty();
  }
  /// Whether the outputs must wait for a sync of this ready's records.
  bool must_sync() const { return damaged || promised || !accepted.empty(); }
  bool empty() const {
    return !must_persist() && messages.empty() && replies.empty() && reads.empty();
  }

  /// Moves the messages that need not wait for this ready's records out of
  /// `messages` (see above), in order. Without `heartbeats`, only phase 2a:
  /// a driver whose disk takes no writes (full) keeps its heartbeats and acks
  /// back, so that a leader that cannot commit falls silent and its
  /// followers elect one that can (a review found the full-disk leader kept
  /// its followers for as long as its disk stayed full).
  std::vector<envelope> take_early_messages(bool heartbeats = true) {
    std::vector<envelope> early;
    std::vector<envelope> rest;
    for (auto& env : messages)
      (early_kind(env.msg, heartbeats) ? early : rest).push_back(std::move(env));
    messages = std::move(rest);
    return early;
  }

  /// Whether `msg` may leave before this ready's records are durable (above).
  static bool early_kind(const message& msg, bool heartbeats) {
    if (std::holds_alternative<accept>(msg))
      return true;
#ifdef BALLOT_MUTANT_LATE_HEARTBEATS
    // The mutant: heartbeats and their acks wait for the sync like answers.
    return false;
#elif defined(BALLOT_MUTANT_LATE_ACKS)
    return heartbeats && std::holds_alternative<heartbeat>(msg);
#else
    return heartbeats &&
           (std::holds_alternative<heartbeat>(msg) || std::holds_alternative<heartbeat_ack>(msg));
#endif
  }

  /// Applies this ready's records to `disk` (what a driver's storage does).
  /// Records for slots the snapshot on `disk` covers are left out: they are
  /// in it already.
  void persist_to(durable_state& disk) const {
    if (compacted)
      disk = *compacted;
    if (damaged && *damaged)
      disk.damaged = true;
    if (promised)
      disk.promised = *promised;
    auto covered = [&](slot_index s) { return disk.snap && s <= disk.snap->last; };
    for (auto& [slot, vote] : accepted)
      if (!covered(slot))
        disk.accepted[slot] = vote;
    for (auto& entry : chosen)
      if (!covered(entry.slot))
        disk.chosen[entry.slot] = entry.val;
    if (damaged && !*damaged)
      disk.damaged = false;
  }
};

}  // namespace ballot::paxos
