#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "actors/paxos/ready.hpp"
#include "actors/paxos/state_machine.hpp"

namespace ballot::paxos {

/// The learner role: knows which slots are chosen and applies them, strictly
/// in slot order, to the state machine. It also owns the per-client dedup
/// table, which is part of the replicated state (every replica derives the
/// same table from the same log), so a retried command applies exactly once.
class learner {
 public:
  /// The outcome of applying one command of a chosen slot.
  struct applied {
    std::uint64_t client = 0;
    std::uint64_t seq = 0;
    std::string result;
    bool duplicate = false;  ///< a retry of a command already applied
  };

  /// Rebuilds the state machine by replaying the chosen prefix on disk.
  learner(const durable_state& disk, state_machine& sm);

  /// Records `slot` as chosen (for the driver to persist) and applies every
  /// newly contiguous slot. Applied commands are appended to `done`.
  /// Returns false if the slot was already known.
  bool learn(slot_index slot, const value& val, ready& out, std::vector<applied>& done);

  /// Highest slot s such that every slot in 1..s is chosen (and applied).
  slot_index commit_index() const { return commit_; }

  /// Highest slot known to be chosen (there may be gaps below it).
  slot_index last_known() const { return chosen_.empty() ? 0 : chosen_.rbegin()->first; }

  /// The chosen value of `slot`, or nullptr when it is not known here.
  const value* chosen(slot_index slot) const;

  /// Chosen values from `from` on, contiguous, at most `limit` of them.
  std::vector<chosen_entry> chosen_from(slot_index from, std::size_t limit) const;

  /// If (client, seq) was already applied, its result (empty if the client
  /// has since moved past it); used to answer a retry without a new slot.
  const std::string* applied_result(std::uint64_t client, std::uint64_t seq) const;

 private:
  void apply_contiguous(std::vector<applied>& done);

  struct client_record {
    std::uint64_t seq = 0;
    std::string result;
  };

  state_machine& sm_;
  std::map<slot_index, value> chosen_;
  slot_index commit_ = 0;
  std::map<std::uint64_t, client_record> clients_;
  std::string empty_;
};

}  // namespace ballot::paxos
