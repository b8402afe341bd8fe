#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "actors/paxos/types.hpp"

namespace ballot::paxos {

/// Linearizable reads on the leader without writing to the log (the
/// "read-index" of the Raft thesis, for Paxos). A read that arrives at the
/// leader may be served once
///  1. a quorum acknowledged a heartbeat round started after the read
///     arrived (so no other leader had chosen anything by then: any acceptor
///     in that quorum that had promised a higher ballot would not have acked),
///  2. the leader has applied every slot up to the read's index: the commit
///     index when the read arrived, and at least every slot the leader
///     recovered in phase 1 (which covers all values its predecessors chose).
/// Rounds batch reads: all reads waiting when a round starts share it.
class read_index {
 public:
  explicit read_index(std::size_t quorum) : quorum_(quorum) {}

  /// The quorum of the voters of a new leadership.
  void set_quorum(std::size_t quorum) { quorum_ = quorum; }

  /// A read arrived; it may be served once commit >= `index`.
  void add(std::uint64_t id, slot_index index) { pending_.push_back({id, index, sent_ + 1}); }

  /// The round to announce now, if reads wait for one and none is in
  /// flight (0 otherwise). The caller broadcasts it in a heartbeat.
  std::uint64_t start_round() {
    if (pending_.empty() || pending_.back().round <= sent_ || sent_ > confirmed_)
      return 0;
    acks_.clear();
    return ++sent_;
  }

  /// The latest round announced (heartbeats repeat it, so a lost one is re-sent).
  std::uint64_t current_round() const { return sent_; }

  /// A member (the leader included) acknowledged `round` at this ballot.
  void on_ack(node_id from, std::uint64_t round) {
    if (round == 0 || round > sent_ || round <= confirmed_)
      return;
    auto& r = acks_[from];
    r = std::max(r, round);
    std::size_t count = 0;
    for (auto& [member, acked] : acks_)
      count += acked >= sent_ ? 1 : 0;
    if (count >= quorum_)
      confirmed_ = sent_;
  }

  /// Reads that may be served now, in arrival order.
  std::vector<std::uint64_t> take_ready(slot_index commit) {
    std::vector<std::uint64_t> ids;
    while (!pending_.empty() && pending_.front().round <= confirmed_ &&
           pending_.front().index <= commit) {
      ids.push_back(pending_.front().id);
      pending_.pop_front();
    }
    return ids;
  }

  /// Leadership ends: every waiting read, to be answered not_leader.
  std::vector<std::uint64_t> take_all() {
    std::vector<std::uint64_t> ids;
    for (auto& p : pending_)
      ids.push_back(p.id);
    pending_.clear();
    acks_.clear();
    sent_ = confirmed_ = 0;
    return ids;
  }

 private:
  struct waiting_read {
    std::uint64_t id;
    slot_index index;
    std::uint64_t round;
  };
  std::size_t quorum_;
  std::deque<waiting_read> pending_;
  std::map<node_id, std::uint64_t> acks_;
  std::uint64_t sent_ = 0;
  std::uint64_t confirmed_ = 0;
};

}  // namespace ballot::paxos
