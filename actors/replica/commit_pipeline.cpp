#include "actors/replica/commit_pipeline.hpp"

#include <utility>

namespace ballot::actors {

void commit_pipeline::commit(paxos::ready rd) {
  if (rd.empty())
    return;
    // Phase 2a goes now, while our own write is in flight, and heartbeats
    // and acks unless the disk is full (see paxos::ready).
#ifndef BALLOT_MUTANT_VOTES_BEFORE_SYNC
  auto early = rd.take_early_messages(!disk_full_);
#else
  // The mutant: votes and promises leave before they are durable too.
  auto early = std::move(rd.messages);
  rd.messages.clear();
#endif
  for (auto& env : early)
    sink_.send(env);
  auto reads = sink_.serve(rd.reads);
  if (rd.compacted) {
    // Owned: the storage may keep the state to write it in the background.
    disk_.append_owned(rd);
  } else if (rd.must_persist()) {
    disk_.append(rd);
  }
  outputs out{std::move(rd.messages), std::move(rd.replies), std::move(reads)};
  // Nothing of this input waits for the disk, and nothing earlier does: out
  // it goes, without a sync (its `chosen` records reach the disk with the
  // next one; losing them only costs a re-learn).
  if (!rd.must_sync() && held_.empty()) {
    release(out);
    return;
  }
  held_.push_back(std::move(out));
  if (!sync_scheduled_) {
    sync_scheduled_ = true;
    sink_.schedule_sync(sync_when::after_queued_inputs);
  }
}

void commit_pipeline::sync() {
  sync_scheduled_ = false;
  try {
    disk_.sync();
  } catch (const storage_full& e) {
    // Nothing is lost and nothing is answered: the held outputs wait, new
    // client writes are refused (by the driver), and the sync is tried again.
    if (!disk_full_)
      sink_.disk_full(e.what());
    disk_full_ = true;
    sync_scheduled_ = true;
    sink_.schedule_sync(sync_when::retry_later);
    return;
  }
  if (disk_full_)
    sink_.disk_space_again();
  disk_full_ = false;
  // Moved out first: a release may feed the core (a message to itself is
  // only queued, but a driver may do more) and commit again meanwhile.
  auto ready_to_go = std::move(held_);
  held_.clear();
  for (auto& out : ready_to_go)
    release(out);
}

void commit_pipeline::release(outputs& out) {
  for (auto& env : out.messages)
    sink_.send(env);
  for (auto& reply : out.replies)
    sink_.reply(reply);
  for (auto& read : out.reads)
    sink_.answer(read);
}

}  // namespace ballot::actors
