#pragma once

#include <functional>
#include <memory>

#include "actors/paxos/ready.hpp"

/// The seam between a replica actor and its disk.
namespace ballot::actors {

/// Where a replica actor keeps its `paxos::durable_state`. The actor calls
/// `load` once when it starts and `persist` for every `ready` that has
/// records, before it sends any of that ready's messages or replies: the
/// core's safety rests on an acceptor's answer never outrunning its vote.
///
/// The interface is synchronous on purpose: an in-memory store and a WAL that
/// fsyncs per call both fit it. A WAL with group commit will want an
/// asynchronous variant (persist, then send on completion); that changes the
/// actor, not the core.
class storage {
 public:
  virtual ~storage() = default;

  /// Everything persisted so far (empty for a new replica).
  virtual paxos::durable_state load() = 0;

  /// Makes the records of `rd` durable. Must not return before they are.
  virtual void persist(const paxos::ready& rd) = 0;
};

/// Makes the storage of one replica; called once per spawned actor.
using storage_factory = std::function<std::unique_ptr<storage>()>;

}  // namespace ballot::actors
