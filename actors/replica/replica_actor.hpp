#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "caf/fwd.hpp"
#include "caf/timespan.hpp"

#include "actors/paxos/config.hpp"
#include "actors/paxos/state_machine.hpp"
#include "actors/replica/peer_map.hpp"
#include "actors/replica/peer_outlet.hpp"
#include "actors/replica/replica_probe.hpp"
#include "actors/replica/storage.hpp"

/// The replica actor: one `paxos::replica` driven by CAF messages and timers.
///
/// It is a thin driver in the manner of an etcd raft node: every input (a
/// tick, a peer message, a client command) goes to the core, then the actor
/// takes the core's `ready`, persists it through its `storage`, and only then
/// sends the messages and answers the clients. All protocol decisions are the
/// core's; the actor only moves bytes, keeps time and keeps client promises.
///
/// Time reaches the state machine only through the leader: it stamps its
/// lease time (`paxos::lease_clock`: the log's time, advanced by the elapsed
/// time of a monotonic clock, never by the wall clock) into each client
/// command it proposes (`state_machine::stamp`), and proposes the machine's
/// own `leader_commands` right after it is elected and then every
/// `housekeeping_interval`.
///
/// Its interface (atoms and types from "actors/replica/type_ids.hpp"):
///
///   (peers_atom, peer_map)        -> ()  whom to talk to; send once all replicas exist
///   (propose_atom, paxos::command) -> paxos::client_reply
///       answered once the command applied (`ok`, with the state machine's
///       result), or at once with `not_leader` and a leader hint. A retry with
///       the same (client, seq) applies at most once. A client may pipeline up
///       to `paxos.dedup_window` commands; older ones answer `expired`.
///       Always use a timeout: a request in flight when its replica dies is
///       never answered.
///       A command of `paxos::membership_client` is a membership change
///       (`paxos::encode(member_change)`): the leader orders it with a
///       request id of its own; the reply's result is "ok <id>" or
///       "refused: why" (paxos::replica::change_members).
///   (propose_batch_atom, std::vector<paxos::command>) -> std::vector<paxos::client_reply>
///       several commands at once, each taken as propose_atom takes it; the
///       answers come back together, in order, once the last is known.
///   (status_atom)                 -> replica_status
///   (read_atom, std::string query) -> read_reply
///       a linearizable read; `paxos::members_query()` is answered with the
///       encoded `paxos::member_report`, backup::backup_query() with the
///       whole state.
///   (log_atom)                    -> std::vector<paxos::chosen_entry>
///       the chosen log from slot 1 to the commit index (for tests and examples).
///   (paxos::node_id from, M)      -> ()  peer traffic, M one of the core's message structs.
///
/// The handles are dynamically typed `caf::actor`s so that this header stays
/// free of CAF's heavy headers (it is meant to be included widely).
namespace ballot::actors {

/// Makes the state machine of one replica; called once per spawned actor, so
/// every replica gets its own instance of the user's type.
using state_machine_factory = std::function<std::unique_ptr<paxos::state_machine>()>;

struct replica_options {
  /// The core's configuration; `paxos.id` names this replica in `peer_map`s.
  paxos::config paxos;
  /// Wall-clock length of one core tick: the election timeout and heartbeat
  /// interval in `paxos` are counted in these.
  caf::timespan tick_interval = std::chrono::milliseconds(10);
  /// How often a leader asks its state machine for commands of its own
  /// (`state_machine::leader_commands`, e.g. a lock service's expiry tick).
  caf::timespan housekeeping_interval = std::chrono::milliseconds(100);
  /// The most lease time one reading of the monotonic clock may add (see
  /// `paxos::lease_clock`): readings come every tick, so only a jump of the
  /// clock or a stall of the process longer than this loses time. It is the
  /// default election timeout (10 to 20 ticks of 10 ms): a leader stalled
  /// longer may have been replaced. Sessions with a TTL of at least three
  /// times (this + a tick) survive one such jump between keep-alives.
  caf::timespan lease_max_step = std::chrono::milliseconds(100);
  /// Past this many bytes of state (`state_machine::state_bytes`), the
  /// leader refuses commands that would grow it (`state_machine::grows`)
  /// with `quota_exceeded`; every other command goes on. 0: no quota.
  std::uint64_t quota_bytes = 0;
  /// Required.
  state_machine_factory make_state_machine;
  /// Optional: defaults to a fresh `memory_storage`.
  storage_factory make_storage;
  /// Called (on the actor's thread) when the storage fails, before the actor
  /// stops: a replica cannot go on without its disk. A process typically
  /// reports the message and exits. Default: the actor just stops.
  std::function<void(const std::string&)> on_storage_error;
  /// Called (on the actor's thread) with the message of each operator event
  /// instead of writing it to the process's logger (runtime/log/log.hpp):
  /// leadership changes, catch-ups, snapshots, slow syncs, a full disk, a
  /// repair from peers (see paxos::rejoin). Optional: by default the events
  /// go to the logger, with their fields (actors/replica/event_log.hpp).
  std::function<void(const std::string&)> on_event;
  /// Called (on the actor's thread) whenever the members this replica must
  /// reach change (paxos::roster_of: every member of every configuration it
  /// holds, with addresses and roles), first soon after start once the log
  /// is replayed. A process connects its peer port to them.
  std::function<void(const std::map<paxos::node_id, paxos::member>&)> on_members;
  /// Called once (on the actor's thread) when this replica finds it was
  /// removed from the cluster (paxos::replica::removed): it takes no part
  /// any more, and a process stops (README "Changing the membership").
  std::function<void()> on_removed;
  /// Peer addresses ("host:port") of members whose configuration entry has
  /// none (those bootstrapped by --peers): membership reports fill them in,
  /// so a joining node learns where every member is.
  std::map<paxos::node_id, std::string> known_peers;
  /// A sync of the storage slower than this is logged as a warning
  /// (`slow_fsync`); 0 turns the warning off.
  caf::timespan slow_sync = std::chrono::milliseconds(100);
  /// Told of syncs, commits, reads, batches and leader changes, and shown the
  /// core every `observe_interval` (for metrics and status pages). Optional:
  /// without one the actor reads no clocks for it.
  std::shared_ptr<replica_probe> probe;
  caf::timespan observe_interval = std::chrono::seconds(1);
  /// Optional: consensus messages to other members go out through it instead
  /// of through their link actors in `peer_map` (see peer_outlet).
  std::shared_ptr<peer_outlet> outlet;
};

/// Spawns one replica actor. It starts ticking at once; messages for peers it
/// does not know yet are dropped, as a network would, and the core re-sends.
/// Throws std::invalid_argument if `opts.make_state_machine` is empty or the
/// tick interval is not positive.
caf::actor spawn_replica(caf::actor_system& sys, replica_options opts);

/// Sends `(peers_atom, peers)` to every replica in `peers`.
void introduce(const peer_map& peers);

}  // namespace ballot::actors
