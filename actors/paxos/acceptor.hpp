#pragma once

#include <map>

#include "actors/paxos/messages.hpp"
#include "actors/paxos/ready.hpp"

namespace ballot::paxos {

/// The acceptor role: one promised ballot for the whole log and one vote per
/// slot. Its only rules: never answer a ballot below the promise, and record
/// (in `out`, for the driver to persist before replying) every promise and
/// vote it gives.
class acceptor {
 public:
  /// Restores the promise and the votes from disk after a restart.
  explicit acceptor(const durable_state& disk);

  /// Phase 1b: a promise listing every vote at or after `first_open`, or a
  /// reject if the prepare's ballot is below the promise.
  message on_prepare(const prepare& p, ready& out);

  /// Phase 2b: votes for the value unless the ballot is below the promise.
  message on_accept(const accept& a, ready& out);

  const ballot_number& promised() const { return promised_; }

  /// After a repair (see `rejoin`): raises the promise to `b`, recorded in
  /// `out` like any promise.
  void restore_promise(const ballot_number& b, ready& out) { raise_promise(b, out); }

  /// This acceptor's vote for `slot`, or nullptr.
  const accepted_value* vote(slot_index slot) const;

  /// Every vote, for a compaction to rewrite.
  const std::map<slot_index, accepted_value>& votes() const { return votes_; }

  /// Forgets the votes up to `upto`: those slots are chosen and in a
  /// snapshot. Promises report this point, so that no candidate mistakes
  /// the missing votes for empty slots. The votes forgotten are returned,
  /// for the caller to free where it likes.
  std::map<slot_index, accepted_value> compact(slot_index upto);

  slot_index compacted() const { return compacted_; }

 private:
  void raise_promise(const ballot_number& b, ready& out);

  ballot_number promised_;
  std::map<slot_index, accepted_value> votes_;
  slot_index compacted_ = 0;
};

}  // namespace ballot::paxos
