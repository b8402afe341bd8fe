#include "actors/paxos/learner.hpp"

namespace ballot::paxos {

learner::learner(const durable_state& disk, state_machine& sm, std::size_t dedup_window)
    : sm_(sm), dedup_window_(dedup_window > 0 ? dedup_window : 1), chosen_(disk.chosen) {
  if (disk.snap)
    restore(*disk.snap);
  std::vector<applied> ignored;
  apply_contiguous(ignored);
}

void learner::restore(const paxos::snapshot& snap) {
  sm_.restore(snap.machine);
  clients_.clear();
  for (const auto& c : snap.clients) {
    auto& entry = clients_[c.client];
    entry.results.insert(c.results.begin(), c.results.end());
    entry.forgotten = c.forgotten;
  }
  commit_ = compacted_ = snap.last;
  chosen_.erase(chosen_.begin(), chosen_.upper_bound(snap.last));
}

std::optional<paxos::snapshot> learner::make_snapshot() const {
  auto machine = sm_.snapshot();
  if (!machine)
    return std::nullopt;
  paxos::snapshot snap{commit_, std::move(*machine), {}};
#ifndef BALLOT_MUTANT_SNAPSHOT_WITHOUT_DEDUP
  for (const auto& [client, entry] : clients_)
    snap.clients.push_back({client, {entry.results.begin(), entry.results.end()}, entry.forgotten});
#endif
  return snap;
}

std::optional<paxos::snapshot> learner::compact() {
  auto snap = make_snapshot();
  if (!snap)
    return std::nullopt;
  compacted_ = commit_;
  chosen_.erase(chosen_.begin(), chosen_.upper_bound(commit_));
  return snap;
}

bool learner::install(const paxos::snapshot& snap, std::vector<applied>& done) {
  if (snap.last <= commit_)
    return false;
  restore(snap);
  apply_contiguous(done);
  return true;
}

bool learner::learn(slot_index slot, const value& val, ready& out, std::vector<applied>& done) {
  if (slot <= commit_ || chosen_.count(slot) != 0)
    return false;
  chosen_.emplace(slot, val);
  out.chosen.push_back({slot, val});
  apply_contiguous(done);
  return true;
}

void learner::apply_contiguous(std::vector<applied>& done) {
  for (auto it = chosen_.find(commit_ + 1); it != chosen_.end() && it->first == commit_ + 1; ++it) {
    for (const auto& cmd : it->second.commands) {
      auto& rec = clients_[cmd.client];
#ifndef BALLOT_MUTANT_NO_DEDUP
      if (cmd.seq <= rec.forgotten) {
        done.push_back({cmd.client, cmd.seq, {}, false, true});
        continue;
      }
      if (auto it = rec.results.find(cmd.seq); it != rec.results.end()) {
        done.push_back({cmd.client, cmd.seq, it->second, true, false});
        continue;
      }
#endif
      auto& result = rec.results[cmd.seq] = sm_.apply(cmd.payload);
      done.push_back({cmd.client, cmd.seq, result, false, false});
      if (rec.results.size() > dedup_window_) {
        rec.forgotten = rec.results.begin()->first;
        rec.results.erase(rec.results.begin());
      }
    }
    ++commit_;
  }
}

const value* learner::chosen(slot_index slot) const {
  auto it = chosen_.find(slot);
  return it == chosen_.end() ? nullptr : &it->second;
}

std::vector<chosen_entry> learner::chosen_from(slot_index from, std::size_t limit) const {
  std::vector<chosen_entry> result;
  for (auto it = chosen_.find(from);
       it != chosen_.end() && it->first == from + result.size() && result.size() < limit; ++it)
    result.push_back({it->first, it->second});
  return result;
}

const std::string* learner::applied_result(std::uint64_t client, std::uint64_t seq) const {
  auto it = clients_.find(client);
  if (it == clients_.end())
    return nullptr;
  auto r = it->second.results.find(seq);
  return r == it->second.results.end() ? nullptr : &r->second;
}

bool learner::expired(std::uint64_t client, std::uint64_t seq) const {
  auto it = clients_.find(client);
  return it != clients_.end() && seq <= it->second.forgotten;
}

}  // namespace ballot::paxos
