#include "tests/sim/oracle.hpp"

#include <algorithm>
#include <sstream>

namespace ballot::sim {

namespace {

std::string describe(const value& v) {
  if (v.is_noop())
    return "no-op";
  std::ostringstream out;
  out << "[";
  for (std::size_t i = 0; i < v.commands.size(); ++i)
    out << (i ? " " : "") << oracle::identity(v.commands[i].payload);
  out << "]";
  return out.str();
}

std::string describe(const ballot_number& b) {
  return "(" + std::to_string(b.round) + "," + std::to_string(b.node) + ")";
}

}  // namespace

std::string oracle::key(std::uint64_t client, std::uint64_t seq) {
  return std::to_string(client) + ":" + std::to_string(seq);
}

void oracle::fail(std::string what) {
  if (!violation_)
    violation_ = std::move(what);
}

std::string oracle::identity(const std::string& payload) {
  return payload.substr(0, payload.find('|'));
}

void oracle::on_submitted(const paxos::command& cmd) {
  submitted_[key(cmd.client, cmd.seq)].insert(cmd.payload);
}

void oracle::on_submitted_lie(const paxos::command& cmd) {
  lies_[key(cmd.client, cmd.seq)].insert(cmd.payload);
}

oracle::oracle(std::size_t nodes, std::uint64_t alpha)
    : truth_(alpha, [nodes] {
        paxos::configuration c;
        for (node_id id = 1; id <= nodes; ++id)
          c.members.push_back({id, {}, {}, paxos::member_role::voter});
        return c;
      }()) {}

void oracle::on_vote(node_id node, slot_index slot, const ballot_number& ballot, const value& val) {
  // Only proposed values are chosen: every command in a vote was submitted.
  for (const auto& cmd : val.commands) {
    auto it = submitted_.find(key(cmd.client, cmd.seq));
    auto lie = lies_.find(key(cmd.client, cmd.seq));
    if ((it == submitted_.end() || it->second.count(cmd.payload) == 0) &&
        (lie == lies_.end() || lie->second.count(cmd.payload) == 0))
      return fail("node " + std::to_string(node) + " voted in slot " + std::to_string(slot) +
                  " for a command no client submitted: " + cmd.payload.str());
  }
  auto [it, fresh] = votes_[slot].try_emplace(ballot, ballot_votes{val, {}});
  // A ballot belongs to one proposer, which proposes one value per slot.
  if (!fresh && it->second.val != val)
    return fail("two values at ballot " + describe(ballot) + " in slot " + std::to_string(slot) +
                ": " + describe(it->second.val) + " and " + describe(val));
  it->second.voters.insert(node);
  // The configuration of a slot is known once every slot alpha before it is
  // chosen; until then its votes wait (advance evaluates them).
  if (slot <= prefix_ + truth_.alpha())
    evaluate(slot, ballot);
}

void oracle::evaluate(slot_index slot, const ballot_number& ballot) {
  auto& bv = votes_[slot][ballot];
  const auto& val = bv.val;
  // Chosen: a quorum of the VOTERS of the slot's configuration, whoever
  // else (learners, members that left) voted too.
  const auto& cfg = truth_.at(slot);
  std::size_t count = 0;
  for (auto v : bv.voters)
    count += cfg.is_voter(v) ? 1 : 0;
  if (count < cfg.quorum())
    return;
  // At most one value is chosen per slot, across configurations.
  auto [c, first] = chosen_.try_emplace(slot, val);
  if (!first && c->second != val)
    return fail("slot " + std::to_string(slot) + " chose two values: " + describe(c->second) +
                " and then " + describe(val) + " at ballot " + describe(ballot));
  for (const auto& cmd : val.commands)
    chosen_commands_.insert(key(cmd.client, cmd.seq));
  if (first && slot == prefix_ + 1)
    advance();
}

void oracle::advance() {
  while (!violation_) {
    auto it = chosen_.find(prefix_ + 1);
    if (it == chosen_.end())
      return;
    for (const auto& cmd : it->second.commands)
      if (cmd.client == paxos::membership_client)
        // A change applies once per token, whatever the replicas do.
        if (auto change = paxos::decode_change(cmd.payload);
            change && change->token != 0 && change_results_.count(change->token) == 0)
          change_results_.emplace(change->token, truth_.apply(it->first, *change));
    ++prefix_;
    // Slot prefix_ + alpha now has a known configuration.
    auto newly = prefix_ + truth_.alpha();
    if (auto v = votes_.find(newly); v != votes_.end()) {
      std::vector<ballot_number> ballots;
      for (auto& [b, bv] : v->second)
        ballots.push_back(b);
      for (auto& b : ballots)
        evaluate(newly, b);
    }
    auto waiting = std::move(waiting_learns_);
    waiting_learns_.clear();
    for (auto& [node, slot, val] : waiting)
      on_learned(node, slot, val);
  }
}

void oracle::on_learned(node_id node, slot_index slot, const value& val) {
  if (slot > prefix_ + truth_.alpha()) {
    waiting_learns_.emplace_back(node, slot, val);
    return;
  }
  auto it = chosen_.find(slot);
  if (it == chosen_.end())
    return fail("node " + std::to_string(node) + " learned slot " + std::to_string(slot) + " = " +
                describe(val) + " but no quorum of its configuration (voters " +
                [&] {
                  std::string v;
                  for (auto id : truth_.at(slot).voters())
                    v += (v.empty() ? "" : ",") + std::to_string(id);
                  return v;
                }() +
                ") durably voted for it");
  if (it->second != val)
    return fail("node " + std::to_string(node) + " learned slot " + std::to_string(slot) + " = " +
                describe(val) + " but " + describe(it->second) + " was chosen");
}

void oracle::on_applied(node_id node, std::size_t index, const std::string& payload,
                        const std::string& result) {
  auto id = identity(payload);
  if (index <= history_.size()) {
    if (history_[index - 1] != payload)
      fail("node " + std::to_string(node) + " applied " + id + " as command #" +
           std::to_string(index) + " where another replica applied " +
           identity(history_[index - 1]));
    else if (results_[index - 1] != result)
      fail("node " + std::to_string(node) + " applied " + id + " as command #" +
           std::to_string(index) + " with another result than another replica");
    return;
  }
  if (index != history_.size() + 1)
    return fail("node " + std::to_string(node) + " skipped commands before #" +
                std::to_string(index));
  // Each command applies once.
  if (!position_.emplace(id, index).second)
    return fail("command " + id + " applied twice (#" + std::to_string(position_[id]) + " and #" +
                std::to_string(index) + ")");
  history_.push_back(payload);
  results_.push_back(result);
}

void oracle::on_acked(std::uint64_t client, std::uint64_t seq, const std::string& result) {
  auto k = key(client, seq);
  // An acknowledged command is in a chosen slot, so it can never be lost.
  if (chosen_commands_.count(k) == 0)
    return fail("client " + std::to_string(client) + " got an OK for seq " + std::to_string(seq) +
                " but no chosen slot holds it");
  auto pos = position_.find(identity(*submitted_[k].begin()));
  if (pos == position_.end())
    return fail("client " + std::to_string(client) + " got an OK for seq " + std::to_string(seq) +
                " before any replica applied it");
  // The result is the one the history gave the command (exactly-once); for
  // the recording machine that is its position in the history.
  if (result != results_[pos->second - 1])
    return fail("client " + std::to_string(client) + " seq " + std::to_string(seq) +
                " got another result than command #" + std::to_string(pos->second) +
                " gave when it applied" +
                (result.size() < 16 ? " (" + result + " vs " + results_[pos->second - 1] + ")"
                                    : std::string{}));
  acked_.insert(k);
  newest_acked_ = std::max(newest_acked_, pos->second);
}

void oracle::on_read(std::uint64_t client, std::size_t floor, std::size_t seen) {
  // Linearizable: a read observes every write acknowledged before it began.
  if (seen < floor)
    fail("client " + std::to_string(client) + " read a state with " + std::to_string(seen) +
         " commands applied, but command #" + std::to_string(floor) +
         " was acknowledged before the read began (stale read)");
}

bool oracle::check_commits(const std::map<node_id, slot_index>& commit_indexes) {
  if (!waiting_learns_.empty()) {
    auto& [node, slot, val] = waiting_learns_.front();
    fail("node " + std::to_string(node) + " learned slot " + std::to_string(slot) + " = " +
         describe(val) + " but the slots that fix its configuration were never all chosen");
    return false;
  }
  slot_index first = commit_indexes.begin()->second;
  for (const auto& [node, commit] : commit_indexes)
    if (commit != first) {
      fail("after healing, node " + std::to_string(node) + " has commit index " +
           std::to_string(commit) + " but node " + std::to_string(commit_indexes.begin()->first) +
           " has " + std::to_string(first));
      return false;
    }
  return true;
}

void oracle::check_final(const std::map<node_id, std::size_t>& applied_counts,
                         const std::map<node_id, slot_index>& commit_indexes) {
  if (!check_commits(commit_indexes))
    return;
  // Every acknowledged command is in the history, so a replica that applied
  // the whole history (each step checked by on_applied) applied it.
  for (const auto& [node, count] : applied_counts)
    if (count != history_.size())
      return fail("after healing, node " + std::to_string(node) + " applied " +
                  std::to_string(count) + " commands, the history has " +
                  std::to_string(history_.size()));
}

void oracle::check_final(const std::map<node_id, std::vector<std::string>>& applied_logs,
                         const std::map<node_id, slot_index>& commit_indexes) {
  if (!check_commits(commit_indexes))
    return;
  for (const auto& [node, log] : applied_logs) {
    if (log != history_)
      return fail("after healing, node " + std::to_string(node) + " applied " +
                  std::to_string(log.size()) + " commands, the history has " +
                  std::to_string(history_.size()));
    std::set<std::string> present;
    for (const auto& payload : log)
      present.insert(identity(payload));
    for (const auto& k : acked_)
      if (auto id = identity(*submitted_[k].begin()); present.count(id) == 0)
        return fail("acknowledged command " + id + " is missing on node " + std::to_string(node));
  }
}

}  // namespace ballot::sim
