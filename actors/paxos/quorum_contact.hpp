#pragma once

#include <cstddef>
#include <cstdint>
#include <set>

#include "actors/paxos/types.hpp"

namespace ballot::paxos {

/// Whether a leader still hears from a quorum of its voters (Raft's
/// CheckQuorum). A leader that the others no longer answer (cut off, or
/// removed by a leader it never heard of: the members drop a non-member's
/// messages and never tell it) would otherwise lead for ever. Counted in
/// windows of `window` ticks: a window that ends with fewer than `quorum`
/// voters heard from (the leader itself included) is lost, and the leader
/// steps down, so that as a follower it asks its peers what it missed.
class quorum_contact {
 public:
  /// A leadership starts: this replica (`self`) has heard from itself.
  void start(node_id self, std::size_t quorum, std::uint32_t window) {
    self_ = self;
    quorum_ = quorum;
    window_ = window == 0 ? 1 : window;
    restart();
  }

  /// A voter answered at the leader's ballot (a heartbeat ack, a vote).
  void heard(node_id voter) { heard_.insert(voter); }

  /// Advances one tick of leadership; true when a window just ended without
  /// a quorum (the next window starts either way).
  bool tick() {
    if (++elapsed_ < window_)
      return false;
    bool lost = heard_.size() < quorum_;
    restart();
    return lost;
  }

 private:
  void restart() {
    elapsed_ = 0;
    heard_.clear();
    heard_.insert(self_);
  }

  node_id self_ = 0;
  std::size_t quorum_ = 1;
  std::uint32_t window_ = 1;
  std::uint32_t elapsed_ = 0;
  std::set<node_id> heard_;
};

}  // namespace ballot::paxos
