#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "actors/paxos/messages.hpp"

namespace ballot::paxos {

/// How a replica that may have lost acceptor state (a damaged or wiped disk)
/// gets back to voting without breaking a promise it no longer remembers.
/// Pure: the replica feeds it its peers' `state_report`s and asks it what it
/// may do. The safety argument is in README.md ("Repair from peers").
///
///  - `fresh`: the disk held nothing. That is a new cluster or a wiped disk,
///    which only the peers can tell apart: if any peer reports state, this
///    replica repairs; if a quorum of the OTHER members holds nothing, the
///    cluster is new and it starts normally. (Counting itself would let a
///    wiped replica vouch for its own empty disk: a value chosen by it and
///    one other member would go unseen.)
///  - `repairing`: state may be missing. The replica neither promises, nor
///    accepts, nor acks reads, nor stands for election until EVERY other
///    member has reported from an intact disk, after this replica restarted
///    (a live candidate may hold a promise it forgot; every ballot in the
///    network was promised durably by its own proposer first, so the highest
///    promise reported covers every promise it could have made). It then
///    raises its promise to that highest one and may accept again (`restored`),
///    but may promise only once it has learned every slot up to the highest
///    any member reported: a vote it forgot is in a slot at or below that, and
///    every such slot that may have been chosen is then known to it.
class rejoin {
 public:
  enum class mode { normal, fresh, repairing };

  /// What the replica must do after a report.
  struct decision {
    /// Became normal (fresh, the cluster is new; or repaired).
    bool normal = false;
    /// A fresh replica found the cluster has state: it is repairing now, and
    /// that must be durable before it persists anything else.
    bool began_repair = false;
    /// Every member reported: raise the promise to this and catch up to `target`.
    std::optional<ballot_number> restore;
  };

  /// `settle_ticks`: no decision before this many ticks after the start, so
  /// that messages of this replica's previous life (a promise on its way to
  /// a candidate) have arrived or been lost before its peers vouch for it.
  rejoin(mode m, node_id self, std::vector<node_id> members, std::size_t quorum,
         std::uint64_t nonce, std::uint64_t settle_ticks = 0);

  mode current() const { return mode_; }
  bool normal() const { return mode_ == mode::normal; }
  /// May vote (phase 2b) and ack read rounds: normal, or repairing with the
  /// promise restored.
  bool may_accept() const { return normal() || restored_; }
  /// May promise and stand for election.
  bool may_promise() const;
  /// Repairing, promise restored, learning slots up to `target()`.
  bool catching_up() const { return restored_ && !normal(); }
  slot_index target() const { return target_; }
  /// The member that reported the highest commit index (to catch up from).
  std::optional<node_id> best_source() const { return best_; }
  /// A member that is repairing too, when that is what blocks this one.
  std::optional<node_id> blocked_by() const { return blocked_by_; }

  /// Members whose report is still missing: ask them (again).
  std::vector<node_id> unanswered() const;
  std::uint64_t nonce() const { return nonce_; }

  decision on_report(node_id from, const state_report& r);

  /// Advances time; may decide with the reports already in.
  decision on_tick(std::uint64_t now);

  /// The replica learned up to `commit`: repaired once it reaches the target.
  /// True when that made it normal.
  bool on_commit(slot_index commit);

 private:
  decision decide();

  mode mode_;
  node_id self_;
  std::vector<node_id> members_;
  std::size_t quorum_;
  std::uint64_t nonce_;
  std::uint64_t settle_ticks_;
  std::uint64_t now_ = 0;
  std::map<node_id, state_report> reports_;
  bool restored_ = false;
  slot_index target_ = 0;
  std::optional<node_id> best_;
  std::optional<node_id> blocked_by_;
};

}  // namespace ballot::paxos
