#include "actors/paxos/proposer.hpp"

#include <algorithm>

namespace ballot::paxos {

proposer::proposer(const config& cfg) : cfg_(cfg) {
  // nop
}

prepare proposer::start(ballot_number b, slot_index first_open) {
  step_down();
  role_ = role::candidate;
  ballot_ = b;
  first_open_ = first_open;
  prepare_sent_ = now_;
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

namespace {

/// The bytes a value costs in flight (its payloads; the framing is small).
std::size_t value_bytes(const paxos::value& val) {
  std::size_t n = 0;
  for (const auto& c : val.commands)
    n += c.payload.size();
  return n;
}

}  // namespace

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
  st.bytes = value_bytes(st.val);
  inflight_bytes_ += st.bytes;
  st.votes.clear();
  st.sent.clear();
  for (auto m : cfg_.members)
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
  auto room = [&](bool small) {
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

void proposer::erase_inflight(std::map<slot_index, slot_state>::iterator it) {
  inflight_bytes_ -= it->second.bytes;
  inflight_.erase(it);
}

void proposer::forget(slot_index slot) {
  if (auto it = inflight_.find(slot); it != inflight_.end())
    erase_inflight(it);
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
  for (auto m : cfg_.members) {
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
}

}  // namespace ballot::paxos

namespace ballot::paxos {

bool proposer::promised_by_others() const {
  return std::any_of(promises_.begin(), promises_.end(),
                     [&](auto& kv) { return kv.first != cfg_.id; });
}

}  // namespace ballot::paxos
