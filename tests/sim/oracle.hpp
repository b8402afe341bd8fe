#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "actors/paxos/membership.hpp"
#include "actors/paxos/types.hpp"

namespace ballot::sim {

using paxos::ballot_number;
using paxos::node_id;
using paxos::slot_index;
using paxos::value;

/// The simulator's global view, fed with every durable vote, every learned
/// slot, every applied command and every client acknowledgement. Each
/// `on_...` call checks the invariants it can break; the first violation is
/// kept and the run stops there.
class oracle {
 public:
  /// `nodes` voters 1..nodes bootstrap the cluster; `alpha` as the replicas
  /// use it (see RECONFIGURATION.md): the oracle computes the configuration
  /// of each slot from the chosen log itself.
  explicit oracle(std::size_t nodes, std::uint64_t alpha = 1);

  /// Whether (client, seq) is in a chosen slot (membership changes, which
  /// never reach a state machine).
  bool chosen(std::uint64_t client, std::uint64_t seq) const {
    return chosen_commands_.count(key(client, seq)) != 0;
  }
  /// The configuration of the slot after the chosen prefix (what a change
  /// asked now applies to).
  const paxos::configuration& latest_configuration() const { return truth_.latest(); }
  /// What the change with this token answered when it was first applied
  /// (nullopt: never applied). Every answer to it must be that one.
  std::optional<std::string> change_result(std::uint64_t token) const {
    auto it = change_results_.find(token);
    return it == change_results_.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  /// Whether a chosen change has not taken effect yet (its epoch starts
  /// after the slot following the chosen prefix).
  bool change_pending() const { return truth_.epochs().rbegin()->first > prefix_ + 1; }
  /// Every slot up to here is chosen.
  slot_index chosen_prefix() const { return prefix_; }

  /// A client submitted this command (only such commands may be chosen). A
  /// leader that rewrites a command's payload (stamps its clock into it)
  /// submits the rewritten copy too: either may then be chosen.
  void on_submitted(const paxos::command& cmd);
  /// A command that reuses another's request id, or has seq 0.
  void on_submitted_lie(const paxos::command& cmd);
  /// `node` durably voted for `val` at `ballot` in `slot`.
  void on_vote(node_id node, slot_index slot, const ballot_number& ballot, const value& val);
  /// `node` learned that `val` is chosen in `slot`.
  void on_learned(node_id node, slot_index slot, const value& val);
  /// `node`'s state machine applied `payload` as its `index`-th command
  /// (1-based; a restarted node replays from 1) and answered `result`.
  /// Replicas must agree on both. A payload's identity (what may apply only
  /// once) is the payload itself, or its prefix up to the first '|' when it
  /// has one (the lock workload's "client:seq|" envelope, whose rest a
  /// leader may re-stamp).
  void on_applied(node_id node, std::size_t index, const std::string& payload,
                  const std::string& result);
  /// A client got an OK reply with `result` for (client, seq).
  void on_acked(std::uint64_t client, std::uint64_t seq, const std::string& result);
  /// A linearizable read saw `seen` commands applied; `floor` is the history
  /// position of the newest write acknowledged before the read began.
  void on_read(std::uint64_t client, std::size_t floor, std::size_t seen);
  std::size_t newest_acked_position() const { return newest_acked_; }
  /// Liveness and convergence at the end of a run.
  void check_final(const std::map<node_id, std::vector<std::string>>& applied_logs,
                   const std::map<node_id, slot_index>& commit_indexes);
  /// The same for state machines that keep no log of their own: every live
  /// replica applied the whole history (and so every acknowledged command).
  void check_final(const std::map<node_id, std::size_t>& applied_counts,
                   const std::map<node_id, slot_index>& commit_indexes);
  /// What may apply only once: `payload` up to its first '|', or all of it.
  static std::string identity(const std::string& payload);

  const std::optional<std::string>& violation() const { return violation_; }
  std::size_t chosen_slots() const { return chosen_.size(); }
  std::size_t acked() const { return acked_.size(); }
  std::size_t applied() const { return history_.size(); }

  void fail(std::string what);

 private:
  static std::string key(std::uint64_t client, std::uint64_t seq);
  /// Every live replica reached the same commit index (else fails).
  bool check_commits(const std::map<node_id, slot_index>& commit_indexes);

  /// Evaluates slot `slot`, ballot `b` against the quorum of the slot's
  /// configuration, which must be known.
  void evaluate(slot_index slot, const ballot_number& b);
  /// Applies newly contiguous chosen slots to `truth_` and evaluates the
  /// votes and learns that waited for their configuration.
  void advance();

  /// The membership of the chosen log (never pruned: old slots keep theirs).
  paxos::membership truth_;
  /// Every slot up to here is chosen and applied to `truth_`.
  slot_index prefix_ = 0;
  /// Each change's token -> the result of its first application (applied
  /// once per token, as the replicas must).
  std::map<std::uint64_t, std::string> change_results_;
  /// Learns of slots whose configuration was not known yet.
  std::vector<std::tuple<node_id, slot_index, value>> waiting_learns_;
  std::optional<std::string> violation_;
  /// Every submitted command, by "client:seq", with its payload.
  std::map<std::string, std::set<std::string>> submitted_;
  /// Commands sent under another command's request id or with seq 0: they
  /// may be proposed and voted for, but never applied nor acknowledged.
  std::map<std::string, std::set<std::string>> lies_;
  struct ballot_votes {
    value val;
    std::set<node_id> voters;
  };
  std::map<slot_index, std::map<ballot_number, ballot_votes>> votes_;
  std::map<slot_index, value> chosen_;
  /// Commands in chosen slots, by "client:seq".
  std::set<std::string> chosen_commands_;
  /// The one sequence of payloads every replica must apply (longest seen).
  std::vector<std::string> history_;
  /// The result of each command of the history (as the first replica gave it).
  std::vector<std::string> results_;
  /// Position in the history of each identity.
  std::map<std::string, std::size_t> position_;
  std::set<std::string> acked_;
  std::size_t newest_acked_ = 0;
};

}  // namespace ballot::sim
