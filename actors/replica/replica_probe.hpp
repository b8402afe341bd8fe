#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

#include "actors/paxos/types.hpp"

namespace ballot::paxos {
class replica;
class state_machine;
}  // namespace ballot::paxos

namespace ballot::actors {

/// What a replica actor tells an observer (metrics, a status page) about its
/// work, on the actor's own thread. The actor calls these only when a probe
/// is set, and each call is cheap for it: a clock reading or two around the
/// event. Implementations must not block and should only update atomics or
/// take a short lock. Every method has an empty default.
class replica_probe {
 public:
  using duration = std::chrono::steady_clock::duration;

  virtual ~replica_probe() = default;

  /// One group-commit sync of the storage finished, taking `took`.
  virtual void on_sync(duration took) { (void)took; }
  /// A client command applied, `took` after the actor received it.
  virtual void on_commit(duration took) { (void)took; }
  /// A linearizable read was answered, `took` after the actor received it
  /// (the leader's read-index round).
  virtual void on_read(duration took) { (void)took; }
  /// `commands` queued commands went into slots at once.
  virtual void on_batch(std::size_t commands) { (void)commands; }
  /// The leader this replica follows changed (nullopt: none known).
  virtual void on_leader_change(std::optional<paxos::node_id> leader) { (void)leader; }
  /// Every `replica_options::observe_interval`: the core and the state
  /// machine, to read gauges from (on the actor's thread, so safely).
  virtual void on_observe(const paxos::replica& core, const paxos::state_machine& sm) {
    (void)core;
    (void)sm;
  }
};

}  // namespace ballot::actors
