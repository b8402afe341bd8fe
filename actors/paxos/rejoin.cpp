#include "actors/paxos/rejoin.hpp"

#include <algorithm>
#include <utility>

namespace ballot::paxos {

rejoin::rejoin(mode m, node_id self, std::vector<node_id> members, std::size_t quorum,
               std::uint64_t nonce, std::uint64_t settle_ticks)
    : mode_(m),
      self_(self),
      members_(std::move(members)),
      quorum_(quorum),
      nonce_(nonce),
      settle_ticks_(settle_ticks) {
  // A single-member group has nobody to ask: what it lost is lost, and
  // waiting would not bring it back.
  if (members_.size() <= 1)
    mode_ = mode::normal;
}

bool rejoin::may_promise() const {
#ifdef BALLOT_MUTANT_PROMISE_BEFORE_CAUGHT_UP
  return normal() || restored_;
#else
  return normal();
#endif
}

std::vector<node_id> rejoin::unanswered() const {
  std::vector<node_id> out;
  if (normal() || restored_)
    return out;
  for (auto m : members_)
    if (m != self_ && reports_.count(m) == 0)
      out.push_back(m);
  return out;
}

rejoin::decision rejoin::on_report(node_id from, const state_report& r) {
  if (normal() || restored_ || r.nonce != nonce_ || from == self_ ||
      std::find(members_.begin(), members_.end(), from) == members_.end())
    return {};
  reports_[from] = r;
  return decide();
}

rejoin::decision rejoin::on_tick(std::uint64_t now) {
  now_ = now;
  if (normal() || restored_ || now_ < settle_ticks_)
    return {};
  return decide();
}

rejoin::decision rejoin::decide() {
  decision d;
  if (now_ < settle_ticks_)
    return d;
  if (mode_ == mode::fresh) {
    bool cluster_has_state =
      std::any_of(reports_.begin(), reports_.end(), [](auto& kv) { return kv.second.has_state; });
    if (!cluster_has_state) {
      if (reports_.size() >= std::min(quorum_, members_.size() - 1)) {
        mode_ = mode::normal;
        d.normal = true;
      }
      return d;
    }
    mode_ = mode::repairing;
    d.began_repair = true;
  }
#ifdef BALLOT_MUTANT_REPAIR_WITH_QUORUM
  if (reports_.size() + 1 < quorum_)
#else
  if (reports_.size() + 1 < members_.size())
#endif
    return d;
  // Members that lost state (this one included) cannot vouch for a slot.
  // Every chosen slot was voted by a quorum, so with fewer of them than a
  // quorum some intact member holds each such vote. With a quorum of them,
  // only a cluster that never voted (a new one, with lonely candidacies) is
  // safe to rejoin; a member that restarted holds no live candidacy either.
  blocked_by_.reset();
  std::size_t lost = 1;
  slot_index highest = 0;
  for (auto& [m, r] : reports_) {
    if (!r.intact) {
      ++lost;
      blocked_by_ = m;
    }
    highest = std::max({highest, r.highest, r.commit});
  }
  if (lost >= quorum_ && highest > 0) {
    // Ask the others again later; they may have been restored by an operator.
    for (auto it = reports_.begin(); it != reports_.end();)
      it = it->second.intact ? std::next(it) : reports_.erase(it);
    return d;
  }
  blocked_by_.reset();
  ballot_number promised;
  slot_index best_commit = 0;
  for (auto& [m, r] : reports_) {
    promised = std::max(promised, r.promised);
    target_ = std::max({target_, r.highest, r.commit});
    if (!best_ || r.commit > best_commit) {
      best_ = m;
      best_commit = r.commit;
    }
  }
  restored_ = true;
  d.restore = promised;
  return d;
}

bool rejoin::on_commit(slot_index commit) {
  if (!catching_up() || commit < target_)
    return false;
  mode_ = mode::normal;
  return true;
}

}  // namespace ballot::paxos
