#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/paxos/state_machine.hpp"
#include "tests/sim/oracle.hpp"

namespace ballot::sim {

/// A state machine whose result is the command's position in its log: if two
/// replicas ever disagree on order, or a retry applies twice, results differ.
///
/// In the runs that evict idle clients (see simulation.cpp), the leader
/// stamps its lease clock into each payload ("c1.5|<ms>"): the largest stamp
/// applied is the log time the dedup table ages clients by, and a command's
/// fingerprint leaves the stamp out (a retry may be stamped by another leader).
class recording_machine : public paxos::state_machine {
 public:
  recording_machine(oracle& o, paxos::node_id node) : oracle_(o), node_(node) {}

  std::string apply(const std::string& payload) override {
    if (!payload.empty() && (payload[0] == 'L' || payload[0] == 'Z'))
      oracle_.fail(
        "node " + std::to_string(node_) + " applied " + payload +
        (payload[0] == 'L' ? ", a write under a reused request id" : ", a write with seq 0"));
    follow(payload);
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
    log_time_ = 0;
    for (std::size_t start = 0; start < snap.size();) {
      auto end = snap.find('\n', start);
      log_.push_back(snap.substr(start, end - start));
      follow(log_.back());
      oracle_.on_applied(node_, log_.size(), log_.back(), std::to_string(log_.size()));
      start = end + 1;
    }
  }

  std::uint64_t log_time_ms() const override { return log_time_; }

  std::uint64_t fingerprint(const std::string& payload) const override {
    auto id = oracle::identity(payload);
    return fingerprint_bytes(id.data(), id.size());
  }

  /// The leader stamps `now_ms` into `payload` as it proposes it.
  void stamp(paxos::shared_payload& payload, std::uint64_t now_ms) const override {
    auto& bytes = payload.edit();
    bytes = oracle::identity(bytes) + "|" + std::to_string(now_ms);
  }

 private:
  /// Log time is the largest stamp applied (a lagging leader's is older).
  void follow(const std::string& payload) {
    auto bar = payload.find('|');
    if (bar != std::string::npos && bar + 1 < payload.size())
      log_time_ = std::max<std::uint64_t>(log_time_, std::stoull(payload.substr(bar + 1)));
  }

  oracle& oracle_;
  paxos::node_id node_;
  std::vector<std::string> log_;
  std::uint64_t log_time_ = 0;
};

}  // namespace ballot::sim
