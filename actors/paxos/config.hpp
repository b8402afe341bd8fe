#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "actors/paxos/types.hpp"

namespace ballot::paxos {

/// Static configuration of one replica. Time is in ticks: the driver decides
/// how long a tick is (the simulator's virtual clock, a CAF delayed_send).
struct config {
  node_id id = 1;
  /// Every member, this replica included.
  std::vector<node_id> members{1, 2, 3};
  /// A follower that hears nothing from a leader for a random number of ticks
  /// in [election_timeout_min, election_timeout_max) starts an election.
  std::uint32_t election_timeout_min = 10;
  std::uint32_t election_timeout_max = 20;
  /// The leader sends a heartbeat (and re-sends unanswered phase 1/2
  /// messages) every this many ticks.
  std::uint32_t heartbeat_interval = 2;
  /// Most slots a leader has in phase 2 at once.
  std::size_t window = 32;
  /// Most client commands batched into one slot.
  std::size_t max_batch = 64;
  /// Most chosen values in one catch-up reply.
  std::size_t catchup_batch = 64;
  /// Applied sequence numbers remembered per client for deduplication: how
  /// far a client may pipeline (one is enough for one command at a time).
  std::size_t dedup_window = 64;
  /// Take a snapshot (and compact the log) every this many applied slots;
  /// 0 never. Needs a state machine that supports snapshots.
  std::uint64_t snapshot_interval = 10000;
  /// Seeds the randomized election timeouts (randomness is injected, so a run is replayable).
  std::uint64_t seed = 1;

  std::size_t quorum() const {
#ifdef BALLOT_MUTANT_SMALL_QUORUM
    return members.size() / 2;
#else
    return members.size() / 2 + 1;
#endif
  }
};

}  // namespace ballot::paxos
