#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "actors/paxos/ready.hpp"
#include "actors/paxos/replica.hpp"
#include "runtime/log/log_format.hpp"

namespace ballot::actors {

/// Turns the facts a replica core exposes into log records for an operator:
/// leader elected, changed, lost and stepped down (with the ballot), catch-up
/// started and finished, snapshots taken and installed, slow syncs. The
/// replica actor feeds it after every input and writes what it returns; the
/// core itself logs nothing. Pure: no clock (durations come in), no I/O.
///
/// Every record carries `event` (a stable name to grep or filter on:
/// leader_elected, leader_changed, leader_lost, leader_stepped_down,
/// catchup_started, catchup_finished, snapshot_taken, snapshot_installed,
/// slow_fsync) and `replica` (the core's id).
class event_log {
 public:
  /// A gap of at least this many slots behind the leader is a catch-up worth
  /// an info line; smaller ones are ordinary replication lag (one reply).
  static constexpr paxos::slot_index catchup_log_gap = 64;

  explicit event_log(paxos::node_id self) : self_(self) {}

  /// After each input: leadership and catch-up progress.
  std::vector<logging::record> observe(const paxos::replica& core);

  /// Before the ready's messages go out: a catch-up request that starts one.
  std::vector<logging::record> on_ready(const paxos::ready& rd, const paxos::replica& core);

  /// A compaction the driver wrote (`rd.compacted`), `installed` when it came
  /// from a peer's snapshot, and how long writing it took.
  logging::record snapshot(bool installed, const paxos::durable_state& compacted,
                           std::chrono::nanoseconds took) const;

  /// The same, from the snapshot's slot and size. `pause`, when positive: how
  /// long the input that took it held the replica's thread in all (taking
  /// the state, then `took` for the storage's part on this thread).
  logging::record snapshot(bool installed, paxos::slot_index slot, std::size_t bytes,
                           std::chrono::nanoseconds took, std::chrono::nanoseconds pause) const;

  /// A sync that took `took`; a warning when over `threshold` (> 0).
  std::optional<logging::record> sync_took(std::chrono::nanoseconds took,
                                           std::chrono::nanoseconds threshold) const;

  bool catching_up() const { return catchup_.has_value(); }

 private:
  logging::record make(logging::level lvl, const char* msg, const char* event) const;

  paxos::node_id self_;
  bool was_leader_ = false;
  /// The ballot this replica led with (for the stepped-down line).
  paxos::ballot_number led_;
  /// The other member this replica last followed, until it is lost.
  std::optional<paxos::node_id> leader_;
  paxos::proposer::role role_ = paxos::proposer::role::follower;
  struct catchup {
    paxos::node_id from = 0;
    paxos::slot_index first = 0;
    paxos::slot_index target = 0;
  };
  std::optional<catchup> catchup_;
};

/// "round.node", the way ballots appear in logs and /status.
std::string to_string(const paxos::ballot_number& b);

}  // namespace ballot::actors
