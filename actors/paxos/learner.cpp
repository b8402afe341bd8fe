#include "actors/paxos/learner.hpp"

#include "actors/paxos/split_map.hpp"

namespace ballot::paxos {

learner::learner(const durable_state& disk, state_machine& sm, std::size_t dedup_window,
                 std::uint64_t dedup_ttl_ms, std::uint64_t dedup_max_step_ms,
                 paxos::membership initial)
    : sm_(sm),
      members_(std::move(initial)),
      dedup_window_(dedup_window > 0 ? dedup_window : 1),
      dedup_ttl_ms_(dedup_ttl_ms),
      dedup_max_step_ms_(dedup_max_step_ms),
      log_time_(sm.log_time_ms()),
      chosen_(disk.chosen) {
  if (disk.snap)
    restore(*disk.snap);
  std::vector<applied> ignored;
  apply_contiguous(ignored);
}

void learner::restore(const paxos::snapshot& snap) {
  sm_.restore(snap.machine.bytes());
  // A snapshot from before membership was replicated keeps the bootstrap
  // configuration, which is what its cluster ran with.
  if (!snap.members.empty())
    if (auto m = paxos::membership::decode(members_.alpha(), snap.members))
      members_ = std::move(*m);
  clients_.clear();
  by_age_.clear();
  for (const auto& c : snap.clients) {
    // A row of membership changes from before their tokens: a change is
    // deduplicated by its token now (membership::apply), never here.
    if (c.client == membership_client)
      continue;
    auto& entry = clients_[c.client];
    for (std::size_t i = 0; i < c.results.size(); ++i) {
      auto fp = i < c.fingerprints.size() ? c.fingerprints[i] : 0;
      entry.results.put(c.results[i].first, {fp, c.results[i].second});
    }
    entry.forgotten = c.forgotten;
#ifndef BALLOT_MUTANT_DEDUP_AGE_NOT_RESTORED
    entry.last_active = c.last_active_ms;
#endif
    by_age_.emplace(entry.last_active, c.client);
  }
  // Jumps are measured from the log time the snapshot's state reached, as
  // every replica that applied the slots instead measured them.
  log_time_ = sm_.log_time_ms();
  commit_ = compacted_ = snap.last;
  chosen_.erase(chosen_.begin(), chosen_.upper_bound(snap.last));
  applied_bytes_ = 0;
}

std::optional<paxos::snapshot> learner::make_snapshot() const {
  // A machine that can freeze its state costs this thread the capture only;
  // the bytes are made where they are needed (issue 9). Else they are made now.
  machine_image machine;
  if (auto frozen = sm_.freeze()) {
    machine = machine_image(std::move(frozen));
  } else if (auto bytes = sm_.snapshot()) {
    machine = std::move(*bytes);
  } else {
    return std::nullopt;
  }
  paxos::snapshot snap{commit_, std::move(machine), {}, members_.encode()};
#ifndef BALLOT_MUTANT_SNAPSHOT_WITHOUT_DEDUP
  // The rows are shared, not copied (issue 14): the records are made where
  // the snapshot is written or sent, and a row is copied here only when its
  // client's next command changes it.
  std::vector<dedup_image::captured_row> rows;
  rows.reserve(clients_.size());
  for (const auto& [client, entry] : clients_)
    rows.push_back({client, entry.forgotten, entry.last_active, entry.results});
  snap.clients = dedup_image(std::move(rows));
#endif
  return snap;
}

std::optional<paxos::snapshot> learner::compact(std::map<slot_index, value>& retired) {
  auto snap = make_snapshot();
  if (!snap)
    return std::nullopt;
  compacted_ = commit_;
  retired = split_through(chosen_, commit_);
  applied_bytes_ = 0;
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

void learner::touch(std::uint64_t client, dedup_entry& rec, std::uint64_t now) {
#ifdef BALLOT_MUTANT_DEDUP_AGE_FROM_FIRST
  // The mutant ages a client from its first command, active or not.
  if (by_age_.count({rec.last_active, client}) != 0)
    return;
#endif
  // The node moves to its new place: no free and allocation per command.
  auto node = by_age_.extract({rec.last_active, client});
  rec.last_active = now;
  if (node.empty()) {
    by_age_.emplace(rec.last_active, client);
    return;
  }
  node.value() = {rec.last_active, client};
  by_age_.insert(std::move(node));
}

void learner::follow_log_time() {
  auto now = sm_.log_time_ms();
  if (now <= log_time_)
    return;
  auto step = now - log_time_;
  log_time_ = now;
#ifndef BALLOT_MUTANT_DEDUP_UNBOUNDED_STEP
  if (dedup_max_step_ms_ == 0 || step <= dedup_max_step_ms_ || by_age_.empty())
    return;
  // Everybody is younger by the excess: the order stays, the ages shift.
  auto excess = step - dedup_max_step_ms_;
  std::set<std::pair<std::uint64_t, std::uint64_t>> shifted;
  for (const auto& [at, client] : by_age_) {
    auto& rec = clients_[client];
    rec.last_active = std::min(now, at + excess);
    shifted.emplace_hint(shifted.end(), rec.last_active, client);
  }
  by_age_ = std::move(shifted);
#else
  (void)step;
#endif
}

void learner::expire_idle() {
  auto now = sm_.log_time_ms();
  if (dedup_ttl_ms_ == 0 || now <= dedup_ttl_ms_)
    return;
  while (!by_age_.empty() && by_age_.begin()->first < now - dedup_ttl_ms_) {
    clients_.erase(by_age_.begin()->second);
    by_age_.erase(by_age_.begin());
  }
}

bool learner::unknown_and_late(std::uint64_t client, std::uint64_t seq) const {
#ifdef BALLOT_MUTANT_DEDUP_UNKNOWN_APPLIES
  (void)client;
  (void)seq;
  return false;
#else
  // Only a table that evicts can have forgotten a client.
  return dedup_ttl_ms_ != 0 && seq > dedup_window_ && clients_.count(client) == 0;
#endif
}

void learner::apply_contiguous(std::vector<applied>& done) {
  for (auto it = chosen_.find(commit_ + 1); it != chosen_.end() && it->first == commit_ + 1; ++it) {
    for (const auto& cmd : it->second.commands) {
      applied out{cmd.client, cmd.seq, {}, false, false, false, false};
#ifndef BALLOT_MUTANT_ACCEPT_SEQ_ZERO
      // A request id must name the command: seq 0 is "no id", never applied.
      if (cmd.seq == 0) {
        out.invalid = true;
        done.push_back(std::move(out));
        continue;
      }
#endif
      // A membership change is deduplicated by its token (membership::apply),
      // not by a client row: its request id is that token, random, unordered.
      if (cmd.client == membership_client) {
        auto change = decode_change(cmd.payload);
        out.result = change ? members_.apply(it->first, *change) : "refused: malformed change";
        done.push_back(std::move(out));
        continue;
      }
#ifndef BALLOT_MUTANT_NO_DEDUP
      // Possibly evicted: it may have applied before, so it must not now.
      if (unknown_and_late(cmd.client, cmd.seq)) {
        out.expired = true;
        done.push_back(std::move(out));
        continue;
      }
#endif
      auto fp = cmd.fingerprint != 0 ? cmd.fingerprint : sm_.fingerprint(cmd.payload);
      auto& rec = clients_[cmd.client];
#ifndef BALLOT_MUTANT_NO_DEDUP
      if (cmd.seq <= rec.forgotten) {
        out.expired = true;
        done.push_back(std::move(out));
        touch(cmd.client, rec, sm_.log_time_ms());
        continue;
      }
      if (const auto* r = rec.results.find(cmd.seq)) {
#ifndef BALLOT_MUTANT_REUSED_ID_ACKED
        if (r->fingerprint != 0 && r->fingerprint != fp) {
          out.reused = true;
          done.push_back(std::move(out));
          continue;
        }
#endif
        out.duplicate = true;
        out.result = r->bytes;
        done.push_back(std::move(out));
        continue;
      }
#endif
      out.result = sm_.apply(cmd.payload);
      follow_log_time();
      rec.results.put(cmd.seq, {fp, out.result});
      if (rec.results.size() > dedup_window_)
        rec.forgotten = rec.results.pop_oldest();
      touch(cmd.client, rec, sm_.log_time_ms());
      done.push_back(std::move(out));
    }
    ++commit_;
    applied_bytes_ += payload_bytes(it->second);
    members_.prune(commit_);
    expire_idle();
  }
}

const value* learner::chosen(slot_index slot) const {
  auto it = chosen_.find(slot);
  return it == chosen_.end() ? nullptr : &it->second;
}

std::vector<chosen_entry> learner::chosen_from(slot_index from, std::size_t limit,
                                               std::size_t max_bytes) const {
  std::vector<chosen_entry> result;
  std::size_t bytes = 0;
  for (auto it = chosen_.find(from);
       it != chosen_.end() && it->first == from + result.size() && result.size() < limit; ++it) {
    auto size = payload_bytes(it->second);
    if (!result.empty() && bytes + size > max_bytes)
      break;
    bytes += size;
    result.push_back({it->first, it->second});
  }
  return result;
}

learner::seen learner::lookup(std::uint64_t client, std::uint64_t seq, std::uint64_t fingerprint,
                              const std::string** result) const {
  auto it = clients_.find(client);
  if (it == clients_.end())
    return seen::no;
  if (seq <= it->second.forgotten)
    return seen::expired;
  const auto* r = it->second.results.find(seq);
  if (r == nullptr)
    return seen::no;
#ifndef BALLOT_MUTANT_REUSED_ID_ACKED
  if (r->fingerprint != 0 && r->fingerprint != fingerprint)
    return seen::reused;
#endif
  *result = &r->bytes;
  return seen::applied;
}

const std::string* learner::applied_result(std::uint64_t client, std::uint64_t seq) const {
  auto it = clients_.find(client);
  if (it == clients_.end())
    return nullptr;
  const auto* r = it->second.results.find(seq);
  return r == nullptr ? nullptr : &r->bytes;
}

bool learner::expired(std::uint64_t client, std::uint64_t seq) const {
  auto it = clients_.find(client);
  return it != clients_.end() && seq <= it->second.forgotten;
}

}  // namespace ballot::paxos
