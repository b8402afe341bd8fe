#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "actors/paxos/membership.hpp"
#include "actors/paxos/types.hpp"

namespace ballot::paxos {

/// Static configuration of one replica. Time is in ticks: the driver decides
/// how long a tick is (the simulator's virtual clock, a CAF delayed_send).
/// Fields are grouped by concept for the reader, not packed: one config per
/// replica, so its 34 bytes of padding cost nothing.
struct config {  // NOLINT(clang-analyzer-optin.performance.Padding)
  node_id id = 1;
  /// The voters the cluster was bootstrapped with (`--peers`): the
  /// configuration of slot 1. The log and snapshots carry every later one.
  std::vector<node_id> members{1, 2, 3};
  /// Their addresses, when the driver knows them (same order; optional).
  std::vector<std::pair<std::string, std::string>> member_addresses;
  /// Members this replica takes messages from before its log names them:
  /// a node that joins learns the current members from the cluster.
  std::vector<node_id> peers;
  /// This replica was added to a running cluster (`--join`): it starts as a
  /// learner with an empty log and never needs an amnesia check.
  bool joining = false;
  /// Lamport's alpha: a membership change chosen in slot c governs slots
  /// from c + alpha on, and a leader never proposes past its commit index
  /// + alpha. Part of the protocol: every member of a cluster must use the
  /// same value, for its whole life.
  std::uint64_t alpha = 32;
  /// A leader refuses to promote a learner more than this many slots behind.
  slot_index promote_max_lag = 1000;
  /// A follower that hears nothing from a leader for a random number of ticks
  /// in [election_timeout_min, election_timeout_max) starts an election.
  std::uint32_t election_timeout_min = 10;
  std::uint32_t election_timeout_max = 20;
  /// Each election this replica starts with no leader heard since its last
  /// one doubles that range, up to 2^election_backoff times (see
  /// election_timer): elections end even when a voter's disk takes longer to
  /// record a promise than a timeout. 3: at most 0.8-1.6 s with 10 ms ticks.
  std::uint32_t election_backoff = 3;
  /// A leader that hears from no quorum of its voters for a window of this
  /// many ticks steps down (quorum_contact); 0: election_timeout_max.
  std::uint32_t quorum_window = 0;
  /// The leader sends a heartbeat (and re-sends unanswered phase 1/2
  /// messages) every this many ticks.
  std::uint32_t heartbeat_interval = 2;
  /// Most slots a leader has in phase 2 at once.
  std::size_t window = 32;
  /// Most client commands batched into one slot.
  std::size_t max_batch = 64;
  /// Most payload bytes batched into one slot (so one vote record, one
  /// phase 2a message): a command larger than this travels alone.
  std::size_t max_batch_bytes = 1u << 20;
  /// Most payload bytes a leader has in phase 2 at once (with `window`).
  std::size_t max_inflight_bytes = 4u << 20;
  /// Commands up to this size go into slots ahead of larger ones waiting.
  std::size_t small_command_bytes = 64u << 10;
  /// Most chosen values in one catch-up reply.
  std::size_t catchup_batch = 64;
  /// Most payload bytes in one catch-up reply (at least one value is sent).
  std::size_t catchup_bytes = 4u << 20;
  /// A member that was sent a snapshot gets another one only once it has
  /// moved past it or this many ticks later (the first may have been lost),
  /// each further resend twice as late (at most 32 times this): the state is
  /// sent once, not once per catch-up request, nor once per interval while a
  /// large one is still being installed.
  std::uint32_t snapshot_resend_ticks = 100;
  /// ... plus one tick for every this many bytes of the snapshot's state (a
  /// tick per MiB: 100 MiB/s at 10 ms ticks, for the transfer and the
  /// install); 0: no allowance for size.
  std::size_t snapshot_bytes_per_tick = std::size_t{1} << 20;
  /// An unanswered phase 2a is sent again to a member only this many ticks
  /// after it last went there: a large one may still be on its way, and
  /// re-sending it every heartbeat would multiply it in the network's buffers.
  std::uint32_t resend_interval = 20;
  /// Most payload bytes re-sent to one member per heartbeat (at least one).
  std::size_t resend_bytes = 4u << 20;
  /// Largest command payload accepted: a vote record must stay well under
  /// the log's record limit, whatever a client sends.
  std::size_t max_command_bytes = 16u << 20;
  /// Commands waiting at the leader for a slot, in count and bytes; past
  /// either, new commands are refused `overloaded` instead of queued.
  std::size_t max_pending = 100000;
  std::size_t max_pending_bytes = 64u << 20;
  /// Applied sequence numbers remembered per client for deduplication: how
  /// far a client may pipeline (one is enough for one command at a time).
  std::size_t dedup_window = 64;
  /// A client whose commands stopped applying this long ago (log time, ms,
  /// from `state_machine::log_time_ms`) leaves the dedup table; 0 keeps
  /// every client. Past its first `dedup_window` seqs a client the table
  /// does not know is refused `expired` whatever the timing (see learner),
  /// so this bounds only how late a retry of one of a client's first
  /// commands may come: it is twice the longest call a client makes (one
  /// hour, `max_call_ms` in the client library), the margin for log time
  /// catching up with the leaders' clocks (`dedup_max_step_ms`).
  std::uint64_t dedup_ttl_ms = std::uint64_t{2} * 3600 * 1000;
  /// Log time that moves by more than this in one command (a leader whose
  /// clock ran while the log stood still: after an outage, or after a
  /// stretch with nothing stamped) counts as this much for the dedup table:
  /// the clients did not age by the jump, and their retries may be in
  /// flight right now. 0: no bound.
  std::uint64_t dedup_max_step_ms = std::uint64_t{60} * 1000;
  /// Take a snapshot (and compact the log) every this many applied slots
  /// (0: no count bound). Needs a state machine that supports snapshots.
  std::uint64_t snapshot_interval = 10000;
  /// ... or once the applied slots kept since the last one hold this many
  /// payload bytes (0: no byte bound). The log is held in memory until a
  /// snapshot compacts it (and, as votes, once more by the acceptor), so a
  /// count alone lets 10,000 slots of 1 MiB take 20 GiB; this bounds it by
  /// bytes whatever the command size.
  std::size_t snapshot_bytes = std::size_t{256} << 20;
  /// A replica whose disk is empty at start asks its peers whether the
  /// cluster is new before it votes, and one whose disk was damaged repairs
  /// from them (see `rejoin`). Off: an empty disk is a new replica.
  bool check_amnesia = false;
  /// Differs between starts of one replica (the driver draws it): answers to
  /// an earlier incarnation's state queries are not taken for this one's.
  std::uint64_t incarnation = 0;
  /// A rejoining replica decides nothing before this many ticks: longer than
  /// a message of its previous life can take to arrive.
  std::uint32_t rejoin_settle_ticks = 50;
  /// Sanity bounds on ballots and slots from the network (see input_check.hpp
  /// and README "What the core refuses from the network"). No legitimate
  /// round or slot comes near `max_round` / `max_slot` (2^62: a million
  /// elections a second for 146,000 years), and with them `+ 1` cannot wrap.
  std::uint64_t max_round = std::uint64_t{1} << 62;
  slot_index max_slot = std::uint64_t{1} << 62;
  /// A message may raise the round this replica knows by at most this much:
  /// a member partitioned alone gains one round per election timeout, so
  /// 2^32 is over a year of elections every tick at a 1 ms tick, while one
  /// forged ballot moves the cluster only 2^-30 of the way to the ceiling.
  std::uint64_t round_lead = std::uint64_t{1} << 32;
  /// This replica votes only for slots at most this far past its commit
  /// index (a voter that lags further catches up first, following the
  /// leader's heartbeats meanwhile), and a promise may report votes only
  /// this far past what it covers: one forged vote then costs the next
  /// leader at most this many no-op slots instead of 2^64.
  slot_index slot_lead = std::uint64_t{1} << 16;
  /// Seeds the randomized election timeouts (randomness is injected, so a run is replayable).
  std::uint64_t seed = 1;

  /// A majority of the bootstrap voters.
  std::size_t quorum() const { return quorum_of(members.size()); }

  /// The window a leader counts voters in (`quorum_window`, its default applied).
  std::uint32_t quorum_window_ticks() const {
    return quorum_window != 0 ? quorum_window : election_timeout_max;
  }

  /// The configuration of slot 1.
  configuration bootstrap() const {
    configuration c;
    for (std::size_t i = 0; i < members.size(); ++i) {
      member m{members[i], {}, {}, member_role::voter};
      if (i < member_addresses.size())
        std::tie(m.peer, m.client) = member_addresses[i];
      c.members.push_back(std::move(m));
    }
    return c;
  }
};

}  // namespace ballot::paxos
