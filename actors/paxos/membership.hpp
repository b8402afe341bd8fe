#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/paxos/types.hpp"

/// The cluster's membership as replicated state (see RECONFIGURATION.md):
/// Lamport's alpha-window. A change command chosen in slot c governs slots
/// from c + alpha on, so the configuration of slot s is fixed by the commands
/// chosen up to slot s - alpha, and a leader that never proposes past its
/// commit index + alpha always knows the configuration of the slots it uses.
namespace ballot::paxos {

/// The client id the core reserves for membership commands: the learner
/// applies a command of this client to the membership, never to the state
/// machine, and a leader refuses it from anyone but `replica::change_members`.
inline constexpr std::uint64_t membership_client = ~std::uint64_t{0} - 1;

enum class member_role : std::uint8_t { voter, learner };

struct member {
  node_id id = 0;
  std::string peer;    ///< host:port of its peer listener
  std::string client;  ///< host:port of its client listener
  member_role role = member_role::voter;

  friend bool operator==(const member& a, const member& b) {
    return a.id == b.id && a.peer == b.peer && a.client == b.client && a.role == b.role;
  }
};

/// One configuration: every member (voters and learners), and the id the
/// next added member gets (ids are never reused).
struct configuration {
  std::vector<member> members;
  node_id next_id = 1;

  const member* find(node_id id) const;
  bool is_voter(node_id id) const;
  std::vector<node_id> voters() const;
  std::vector<node_id> ids() const;
  /// A majority of the voters.
  std::size_t quorum() const;

  friend bool operator==(const configuration& a, const configuration& b) {
    return a.members == b.members && a.next_id == b.next_id;
  }
};

/// The quorum of `voters` voters (a majority).
std::size_t quorum_of(std::size_t voters);

/// A change an operator asks for.
struct member_change {
  enum class kind : std::uint8_t { add_learner, promote, remove };
  kind what = kind::add_learner;
  node_id id = 0;      ///< promote, remove
  std::string peer;    ///< add_learner
  std::string client;  ///< add_learner
  /// The asker's id for this change, the same on every retry (0: none), and
  /// the command's request id: a retry after a lost answer is answered as
  /// the first try was instead of applying twice (membership::apply).
  std::uint64_t token = 0;
};

/// The payload of a membership command, and back (nullopt: not one).
std::string encode(const member_change& c);
std::optional<member_change> decode_change(const std::string& payload);

/// Whether an address may go into the membership (bounded, no separators).
bool valid_address(const std::string& host_port);

/// The configurations by the first slot each governs. Deterministic: every
/// replica that applied the same log holds the same epochs.
class membership {
 public:
  /// `initial` governs slot 1 (the cluster `--peers` bootstrapped).
  membership(std::uint64_t alpha, configuration initial);

  std::uint64_t alpha() const { return alpha_; }
  /// The configuration of `slot`. Exact for every slot up to the commit
  /// index + alpha; past it, a later change may still take effect.
  const configuration& at(slot_index slot) const;
  /// The configuration after every change applied so far.
  const configuration& latest() const { return epochs_.rbegin()->second; }
  /// Every member of every configuration held (whom heartbeats go to, and
  /// whose messages are taken).
  std::vector<node_id> everyone() const;
  /// The last slot from `from` on whose voters are those of `from`
  /// (UINT64_MAX when no known change alters them).
  slot_index same_voters_until(slot_index from) const;

  /// Applies the change chosen in `slot` (all slots before it applied). The
  /// result is what the operator is told: "ok <id>" or "refused: why". A
  /// change whose token one of the last `remembered_changes` changes had
  /// changes nothing: the same change answers as that one did, another is
  /// refused.
  std::string apply(slot_index slot, const member_change& c);
  static constexpr std::size_t remembered_changes = 64;

  /// Drops epochs that no slot after `commit` uses.
  void prune(slot_index commit);

  /// The epochs and the remembered tokens as bytes for a snapshot, and
  /// back; decode returns nullopt for malformed bytes. An empty string (a snapshot from before
  /// membership was replicated) is not decoded: the caller keeps the
  /// bootstrap configuration.
  std::string encode() const;
  static std::optional<membership> decode(std::uint64_t alpha, const std::string& bytes);

  const std::map<slot_index, configuration>& epochs() const { return epochs_; }

 private:
  std::string apply_change(slot_index slot, const member_change& c);

  std::uint64_t alpha_;
  std::map<slot_index, configuration> epochs_;
  /// The last changes with a token and their results, oldest first (at
  /// most `remembered_changes`): changes come minutes apart, so 64 outlive
  /// any retry.
  struct remembered {
    member_change change;
    std::string result;
  };
  std::deque<remembered> recent_;
};

}  // namespace ballot::paxos
