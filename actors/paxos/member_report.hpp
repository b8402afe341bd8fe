#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "actors/paxos/membership.hpp"

/// What a leader tells an operator (and a joining node) about the
/// membership: `ballotctl member list`, and what `ballotd --join` needs to
/// replay the log from slot 1 (the bootstrap configuration and alpha).
/// Carried as the answer of a linearizable read (`members_query`), so it is
/// the leader's applied view at one point of the log.
namespace ballot::paxos {

struct member_report {
  std::uint64_t alpha = 0;
  slot_index commit = 0;
  node_id leader = 0;
  /// The configuration of slot 1 (`--peers` at bootstrap).
  configuration bootstrap;
  /// After every change applied so far (changes still in their alpha window
  /// included).
  configuration current;
  /// Slots each member is behind the leader (members it heard from).
  std::map<node_id, slot_index> lag;
};

/// The read query a replica answers with its `member_report` (never a key:
/// the state machine's queries are encoded requests, which this is not).
std::string members_query();
bool is_members_query(std::string_view query);

/// Text, one line per fact; decode returns nullopt for malformed bytes.
std::string encode(const member_report& r);
std::optional<member_report> decode_member_report(const std::string& bytes);

/// A promote refused because the learner is still far behind: retryable,
/// unlike the other refusals (see membership::apply, replica::change_members).
bool is_lag_refusal(const std::string& result);

/// Every member of every configuration `m` holds (a removed member stays
/// until no slot after the commit index uses a configuration naming it),
/// with its newest addresses and role: whom the peer port must reach.
std::map<node_id, member> roster_of(const membership& m);

}  // namespace ballot::paxos
