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
    out << (i ? " " : "") << v.commands[i].payload;
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

void oracle::on_submitted(const paxos::command& cmd) {
  submitted_.emplace(key(cmd.client, cmd.seq), cmd.payload);
}

void oracle::on_vote(node_id node, slot_index slot, const ballot_number& ballot, const value& val) {
  // Only proposed values are chosen: every command in a vote was submitted.
  for (const auto& cmd : val.commands) {
    auto it = submitted_.find(key(cmd.client, cmd.seq));
    if (it == submitted_.end() || it->second != cmd.payload)
      return fail("node " + std::to_string(node) + " voted in slot " + std::to_string(slot) +
                  " for a command no client submitted: " + cmd.payload);
  }
  auto [it, fresh] = votes_[slot].try_emplace(ballot, ballot_votes{val, {}});
  // A ballot belongs to one proposer, which proposes one value per slot.
  if (!fresh && it->second.val != val)
    return fail("two values at ballot " + describe(ballot) + " in slot " + std::to_string(slot) +
                ": " + describe(it->second.val) + " and " + describe(val));
  it->second.voters.insert(node);
  if (it->second.voters.size() < majority_)
    return;
  // At most one value is chosen per slot.
  auto [c, first] = chosen_.try_emplace(slot, val);
  if (!first && c->second != val)
    return fail("slot " + std::to_string(slot) + " chose two values: " + describe(c->second) +
                " and then " + describe(val) + " at ballot " + describe(ballot));
  for (const auto& cmd : val.commands)
    chosen_commands_.insert(key(cmd.client, cmd.seq));
}

void oracle::on_learned(node_id node, slot_index slot, const value& val) {
  auto it = chosen_.find(slot);
  if (it == chosen_.end())
    return fail("node " + std::to_string(node) + " learned slot " + std::to_string(slot) + " = " +
                describe(val) + " but no majority durably voted for it");
  if (it->second != val)
    return fail("node " + std::to_string(node) + " learned slot " + std::to_string(slot) + " = " +
                describe(val) + " but " + describe(it->second) + " was chosen");
}

void oracle::on_applied(node_id node, std::size_t index, const std::string& payload) {
  if (index <= history_.size()) {
    if (history_[index - 1] != payload)
      fail("node " + std::to_string(node) + " applied " + payload + " as command #" +
           std::to_string(index) + " where another replica applied " + history_[index - 1]);
    return;
  }
  if (index != history_.size() + 1)
    return fail("node " + std::to_string(node) + " skipped commands before #" +
                std::to_string(index));
  // Each command applies once.
  if (!position_.emplace(payload, index).second)
    return fail("command " + payload + " applied twice (#" + std::to_string(position_[payload]) +
                " and #" + std::to_string(index) + ")");
  history_.push_back(payload);
}

void oracle::on_acked(std::uint64_t client, std::uint64_t seq, const std::string& result) {
  auto k = key(client, seq);
  // An acknowledged command is in a chosen slot, so it can never be lost.
  if (chosen_commands_.count(k) == 0)
    return fail("client " + std::to_string(client) + " got an OK for seq " + std::to_string(seq) +
                " but no chosen slot holds it");
  auto pos = position_.find(submitted_[k]);
  if (pos == position_.end())
    return fail("client " + std::to_string(client) + " got an OK for seq " + std::to_string(seq) +
                " before any replica applied it");
  // The result is the command's position in the one history (exactly-once).
  if (result != std::to_string(pos->second))
    return fail("client " + std::to_string(client) + " seq " + std::to_string(seq) +
                " got result " + result + " but the command is #" + std::to_string(pos->second));
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

void oracle::check_final(const std::map<node_id, std::vector<std::string>>& applied_logs,
                         const std::map<node_id, slot_index>& commit_indexes) {
  slot_index first = commit_indexes.begin()->second;
  for (const auto& [node, commit] : commit_indexes)
    if (commit != first)
      return fail("after healing, node " + std::to_string(node) + " has commit index " +
                  std::to_string(commit) + " but node " +
                  std::to_string(commit_indexes.begin()->first) + " has " + std::to_string(first));
  for (const auto& [node, log] : applied_logs) {
    if (log != history_)
      return fail("after healing, node " + std::to_string(node) + " applied " +
                  std::to_string(log.size()) + " commands, the history has " +
                  std::to_string(history_.size()));
    std::set<std::string> present(log.begin(), log.end());
    for (const auto& k : acked_)
      if (present.count(submitted_[k]) == 0)
        return fail("acknowledged command " + submitted_[k] + " is missing on node " +
                    std::to_string(node));
  }
}

}  // namespace ballot::sim
