#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/paxos/ready.hpp"
#include "actors/replica/storage.hpp"

/// The commit pipeline: what a replica's driver does with each `paxos::ready`
/// between the core and the world. Both the replica actor and the
/// deterministic simulator run this one class, so the pipeline that runs in
/// production is the one the simulator's seeds check (FoundationDB's way:
/// the simulated process runs the real code over simulated I/O).
///
/// Pure: no CAF, no clock, no disk of its own. It writes through a `storage`
/// and hands everything else to its driver through a `commit_sink`.
namespace ballot::actors {

/// A linearizable read the driver answered from its state machine the moment
/// the core allowed it (the answer must reflect that moment, not the later
/// one at which it may leave).
struct read_answer {
  std::uint64_t id = 0;  ///< the id the driver gave `paxos::replica::read`
  paxos::reply_status status = paxos::reply_status::ok;
  std::string result;
  std::optional<paxos::node_id> leader_hint;
};

/// When the driver should call `commit_pipeline::sync`.
enum class sync_when {
  /// After every input already waiting for this replica has been handled,
  /// so that all of them share the one sync (the actor: a message to itself
  /// at the back of its mailbox).
  after_queued_inputs,
  /// Later: the disk was full, the retry waits for space (the actor: 1 s).
  retry_later,
};

/// What the pipeline asks of its driver. Called on the driver's thread from
/// within `commit` and `sync`.
class commit_sink {
 public:
  virtual ~commit_sink() = default;

  /// Send `env` now (to the core's own id: hand it back to the core).
  virtual void send(paxos::envelope& env) = 0;
  /// A client command's answer, to deliver now.
  virtual void reply(paxos::client_reply& reply) = 0;
  /// Answers the reads the core allows now, from the state machine as it is
  /// at this moment (they leave later, with the input's other outputs);
  /// reads nobody waits for any more are left out. Called after phase 2a
  /// left, so that a large answer (a backup's state) does not delay it.
  virtual std::vector<read_answer> serve(const std::vector<paxos::read_result>& reads) = 0;
  /// A read's answer (from `serve`), to deliver now.
  virtual void answer(read_answer& read) = 0;
  /// Arrange one call to `commit_pipeline::sync` later (see sync_when).
  virtual void schedule_sync(sync_when when) = 0;
  /// The storage reported a full disk (`why`): client writes are refused
  /// until a sync succeeds again. Called once per episode.
  virtual void disk_full(const std::string& why) = 0;
  /// A sync succeeded after the disk was full: writes resume.
  virtual void disk_space_again() = 0;
};

/// Group commit with early phase 2a. For each ready: its records are
/// appended to the storage at once; its phase 2a messages go at once (see
/// `paxos::ready::take_early_messages`); everything else is held until one
/// sync, which the driver runs after every input already queued had its
/// turn, so that those inputs share it. Outputs are released in the order
/// the core produced them; an output that needs no sync still waits when
/// earlier ones do, so nothing overtakes the answers it follows.
class commit_pipeline {
 public:
  commit_pipeline(storage& disk, commit_sink& sink) : disk_(disk), sink_(sink) {}

  commit_pipeline(const commit_pipeline&) = delete;
  commit_pipeline& operator=(const commit_pipeline&) = delete;

  /// Carries out one input's ready, taken from the core. Storage errors
  /// propagate.
  void commit(paxos::ready rd);

  /// Makes everything appended durable, then releases what was held. The
  /// driver calls it once per `schedule_sync`. A full disk holds everything
  /// back and schedules a retry; other storage errors propagate.
  void sync();

  /// The last sync found the disk full: the driver refuses client writes.
  bool disk_is_full() const { return disk_full_; }
  /// A sync was asked of the driver and has not run yet.
  bool sync_scheduled() const { return sync_scheduled_; }
  /// Inputs whose outputs wait for the next sync.
  std::size_t held() const { return held_.size(); }

 private:
  /// What one input produced, waiting for the sync that makes it sendable.
  struct outputs {
    std::vector<paxos::envelope> messages;
    std::vector<paxos::client_reply> replies;
    std::vector<read_answer> reads;
  };

  void release(outputs& out);

  storage& disk_;
  commit_sink& sink_;
  /// Outputs waiting for the next sync, in the order they were produced.
  std::vector<outputs> held_;
  bool sync_scheduled_ = false;
  bool disk_full_ = false;
};

}  // namespace ballot::actors
