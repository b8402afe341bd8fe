#include "actors/paxos/proposer.hpp"

namespace ballot::paxos {

proposer::proposer(const config& cfg) : cfg_(cfg) {
  // nop
}

prepare proposer::start(ballot_number b, slot_index first_open) {
  step_down();
  role_ = role::candidate;
  ballot_ = b;
  first_open_ = first_open;
  return prepare{b, first_open};
}

bool proposer::on_promise(node_id from, const promise& p) {
  if (role_ != role::candidate || p.ballot != ballot_)
    return false;
  promises_[from] = p;
  return promises_.size() == cfg_.quorum();
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

accept proposer::propose_at(slot_index slot, paxos::value val, slot_index commit) {
  auto& st = inflight_[slot];
  st.val = std::move(val);
  st.votes.clear();
  if (slot >= next_slot_)
    next_slot_ = slot + 1;
  return accept{ballot_, slot, st.val, commit};
}

std::vector<accept> proposer::fill(slot_index commit) {
  std::vector<accept> result;
  if (role_ != role::leader)
    return result;
  while (!pending_.empty() && inflight_.size() < cfg_.window) {
    paxos::value batch;
    while (!pending_.empty() && batch.commands.size() < cfg_.max_batch) {
      batch.commands.push_back(std::move(pending_.front()));
      pending_.pop_front();
    }
    result.push_back(propose_at(next_slot_, std::move(batch), commit));
  }
  return result;
}

std::optional<chosen_entry> proposer::on_accepted(node_id from, const accepted& a) {
  if (role_ != role::leader || a.ballot != ballot_)
    return std::nullopt;
  auto it = inflight_.find(a.slot);
  if (it == inflight_.end())
    return std::nullopt;
  it->second.votes.insert(from);
  if (it->second.votes.size() < cfg_.quorum())
    return std::nullopt;
  chosen_entry result{a.slot, std::move(it->second.val)};
  inflight_.erase(it);
  return result;
}

std::vector<std::pair<node_id, message>> proposer::unanswered(slot_index commit) const {
  std::vector<std::pair<node_id, message>> result;
  for (auto m : cfg_.members) {
    if (role_ == role::candidate && promises_.count(m) == 0)
      result.emplace_back(m, prepare{ballot_, first_open_});
    if (role_ != role::leader)
      continue;
    for (const auto& [slot, st] : inflight_)
      if (st.votes.count(m) == 0)
        result.emplace_back(m, accept{ballot_, slot, st.val, commit});
  }
  return result;
}

void proposer::step_down() {
  role_ = role::follower;
  promises_.clear();
  inflight_.clear();
  pending_.clear();
}

}  // namespace ballot::paxos
