#include "actors/paxos/proposer.hpp"

#include <algorithm>

namespace ballot::paxos {

proposer::proposer(const config& cfg) : cfg_(cfg) {
  // nop
}

prepare proposer::start(ballot_number b, slot_index first_open, std::vector<node_id> voters,
                        bool keep_queue) {
  auto pending = std::move(pending_);
  auto large = std::move(pending_large_);
  auto bytes = pending_bytes_;
  step_down();
  if (keep_queue) {
    pending_ = std::move(pending);
    pending_large_ = std::move(large);
    pending_bytes_ = bytes;
  }
  voters_ = voters.empty() ? cfg_.members : std::move(voters);
  role_ = role::candidate;
  ballot_ = b;
  first_open_ = first_open;
  prepare_sent_ = now_;
  return prepare{b, first_open};
}

bool proposer::on_promise(node_id from, const promise& p) {
  if (role_ != role::candidate || p.ballot != ballot_)
    return false;
  // Only the voters of the first open slot answer for it.
  if (!is_voter(from))
    return false;
  promises_[from] = p;
  return promises_.size() == quorum_of(voters_.size());
}

std::vector<proposer::recovered_slot> proposer::recovery() const {
  std::vector<recovered_slot> result;
#ifndef BALLOT_MUTANT_SKIP_RECOVERY
  struct best_vote {
    recovered_slot slot;
    ballot_number ballot;
  };
  std::map<slot_index, best_vote> best;
  for (const auto& [from, p] : promises_) {
    for (const auto& e : p.entries) {
      if (e.slot < first_open_)
        continue;
      auto [it, fresh] = best.try_emplace(e.slot, best_vote{{e.slot, e.val, e.chosen}, e.ballot});
      auto& b = it->second;
      if (fresh || b.slot.chosen)
        continue;
      if (e.chosen || e.ballot > b.ballot)
        b = best_vote{{e.slot, e.val, e.chosen}, e.ballot};
    }
  }
  if (best.empty())
    return result;
  for (slot_index s = first_open_; s <= best.rbegin()->first; ++s) {
    auto it = best.find(s);
    result.push_back(it != best.end() ? it->second.slot : recovered_slot{s, {}, false});
  }
#endif
  return result;
}

void proposer::lead(slot_index next_slot) {
  role_ = role::leader;
  promises_.clear();
  next_slot_ = next_slot;
}

bool proposer::enqueue(command cmd) {
  if (queued() > 0 && (queued() >= cfg_.max_pending ||
                       pending_bytes_ + cmd.payload.size() > cfg_.max_pending_bytes))
    return false;
  pending_bytes_ += cmd.payload.size();
  (cmd.payload.size() <= cfg_.small_command_bytes ? pending_ : pending_large_)
    .push_back(std::move(cmd));
  return true;
}

accept proposer::propose_at(slot_index slot, paxos::value val, slot_index commit) {
  auto& st = inflight_[slot];
  inflight_bytes_ -= st.bytes;
  st.val = std::move(val);
  st.bytes = payload_bytes(st.val);
  inflight_bytes_ += st.bytes;
  st.votes.clear();
  st.sent.clear();
  for (auto m : voters_)
    st.sent[m] = now_;
  if (slot >= next_slot_)
    next_slot_ = slot + 1;
  return accept{ballot_, slot, st.val, commit};
}

std::vector<accept> proposer::fill(slot_index commit) {
  std::vector<accept> result;
  if (role_ != role::leader)
    return result;
  // Slots open while the window has room in count and in bytes; one slot is
  // always allowed, so a command larger than the byte budgets still goes.
  // Small commands go first, in slots of their own, and may use twice the
  // byte window: a burst of large values must not make a small write wait
  // behind them, nor share their slot (concurrent commands have no order yet).
  // Recovered values wait for the limit, in slot order.
  while (!held_.empty() && held_.begin()->first <= limit_) {
    auto slot = held_.begin()->first;
    auto val = std::move(held_.begin()->second);
    held_.erase(held_.begin());
    if (slot > commit)
      result.push_back(propose_at(slot, std::move(val), commit));
  }
  auto room = [&](bool small) {
#ifndef BALLOT_MUTANT_NO_ALPHA_BOUND
    // Past the limit the configuration is not known (or is not this
    // leader's), and neither are held recovered slots to be skipped.
    if (next_slot_ > limit_ || !held_.empty())
      return false;
#endif
    auto bytes = small ? 2 * cfg_.max_inflight_bytes : cfg_.max_inflight_bytes;
    return inflight_.size() < cfg_.window && (inflight_.empty() || inflight_bytes_ < bytes);
  };
  while (queued() > 0) {
    bool small = !pending_.empty();
    if (!room(small))
      break;
    auto& lane = small ? pending_ : pending_large_;
    paxos::value batch;
    std::size_t bytes = 0;
    while (!lane.empty() && batch.commands.size() < cfg_.max_batch) {
      auto size = lane.front().payload.size();
      if (!batch.commands.empty() && bytes + size > cfg_.max_batch_bytes)
        break;
      bytes += size;
      pending_bytes_ -= size;
      batch.commands.push_back(std::move(lane.front()));
      lane.pop_front();
    }
    result.push_back(propose_at(next_slot_, std::move(batch), commit));
  }
  return result;
}

std::vector<accept> proposer::fill_noops(slot_index commit, slot_index upto) {
  std::vector<accept> result;
  while (role_ == role::leader && held_.empty() && queued() == 0 && next_slot_ <= upto &&
         next_slot_ <= limit_ && inflight_.size() < cfg_.window)
    result.push_back(propose_at(next_slot_, {}, commit));
  return result;
}

void proposer::erase_inflight(std::map<slot_index, slot_state>::iterator it) {
  inflight_bytes_ -= it->second.bytes;
  inflight_.erase(it);
}

void proposer::forget(slot_index slot) {
  held_.erase(slot);
  if (auto it = inflight_.find(slot); it != inflight_.end())
    erase_inflight(it);
}

std::optional<chosen_entry> proposer::on_accepted(node_id from, const accepted& a) {
  if (role_ != role::leader || a.ballot != ballot_)
    return std::nullopt;
  auto it = inflight_.find(a.slot);
  if (it == inflight_.end())
    return std::nullopt;
#ifndef BALLOT_MUTANT_COUNT_LEARNER_VOTE
  // A learner (or a member that left) votes too, but only the voters count.
  if (!is_voter(from))
    return std::nullopt;
#endif
  it->second.votes.insert(from);
  if (it->second.votes.size() < quorum_of(voters_.size()))
    return std::nullopt;
  chosen_entry result{a.slot, std::move(it->second.val)};
  erase_inflight(it);
  return result;
}

std::vector<std::pair<node_id, message>> proposer::unanswered(slot_index commit) {
  std::vector<std::pair<node_id, message>> result;
  // A prepare is small but its promise may carry every vote of an acceptor:
  // it is repeated as rarely as a phase 2a.
  bool prepare_due = role_ == role::candidate && now_ >= prepare_sent_ + cfg_.resend_interval;
  if (prepare_due)
    prepare_sent_ = now_;
  for (auto m : voters_) {
    if (prepare_due && promises_.count(m) == 0)
      result.emplace_back(m, prepare{ballot_, first_open_});
    if (role_ != role::leader)
      continue;
    std::size_t budget = 0;
    for (auto& [slot, st] : inflight_) {
      if (st.votes.count(m) != 0)
        continue;
      auto& last = st.sent[m];
      if (now_ < last + cfg_.resend_interval)
        continue;
      if (budget > 0 && budget + st.bytes > cfg_.resend_bytes)
        break;
      budget += st.bytes;
      last = now_;
      result.emplace_back(m, accept{ballot_, slot, st.val, commit});
    }
  }
  return result;
}

void proposer::step_down() {
  role_ = role::follower;
  promises_.clear();
  inflight_.clear();
  inflight_bytes_ = 0;
  pending_.clear();
  pending_large_.clear();
  pending_bytes_ = 0;
  held_.clear();
}

}  // namespace ballot::paxos

namespace ballot::paxos {

bool proposer::is_voter(node_id n) const {
  return std::find(voters_.begin(), voters_.end(), n) != voters_.end();
}

void proposer::hold(slot_index slot, paxos::value val) {
  held_[slot] = std::move(val);
  if (slot >= next_slot_)
    next_slot_ = slot + 1;
}

bool proposer::promised_by_others() const {
  return std::any_of(promises_.begin(), promises_.end(),
                     [&](auto& kv) { return kv.first != cfg_.id; });
}

}  // namespace ballot::paxos
