#pragma once

#include <optional>
#include <string>
#include <vector>

#include "actors/paxos/state_machine.hpp"
#include "tests/sim/oracle.hpp"

namespace ballot::sim {

/// A state machine whose result is the command's position in its log: if two
/// replicas ever disagree on order, or a retry applies twice, results differ.
class recording_machine : public paxos::state_machine {
 public:
  recording_machine(oracle& o, paxos::node_id node) : oracle_(o), node_(node) {}

  std::string apply(const std::string& payload) override {
    if (!payload.empty() && (payload[0] == 'L' || payload[0] == 'Z'))
      oracle_.fail(
        "node " + std::to_string(node_) + " applied " + payload +
        (payload[0] == 'L' ? ", a write under a reused request id" : ", a write with seq 0"));
    log_.push_back(payload);
    oracle_.on_applied(node_, log_.size(), payload, std::to_string(log_.size()));
    return std::to_string(log_.size());
  }

  const std::vector<std::string>& log() const { return log_; }

  std::optional<std::string> snapshot() const override {
    std::string out;
    for (auto& p : log_)
      out += p + "\n";
    return out;
  }

  /// A snapshot is the whole log so far: checking it against the history
  /// proves a transferred or reloaded snapshot holds the right state.
  void restore(const std::string& snap) override {
    log_.clear();
    for (std::size_t start = 0; start < snap.size();) {
      auto end = snap.find('\n', start);
      log_.push_back(snap.substr(start, end - start));
      oracle_.on_applied(node_, log_.size(), log_.back(), std::to_string(log_.size()));
      start = end + 1;
    }
  }

 private:
  oracle& oracle_;
  paxos::node_id node_;
  std::vector<std::string> log_;
};

}  // namespace ballot::sim
