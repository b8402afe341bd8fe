#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/paxos/membership.hpp"
#include "runtime/ballotd/options.hpp"

/// `ballotd --join` (README "Changing the membership"): a node that joins a
/// running cluster learns from it, once, what it needs to replay the log
/// from slot 1 (the bootstrap voters and alpha), whom to reach (the current
/// members' peer addresses) and the cluster id, and gets its member id (it
/// adds itself as a learner unless --id names the learner an operator
/// added). All of it goes into `<data-dir>/join` (written durably) before
/// the node takes part, so a restart needs the cluster for nothing.
namespace ballot::ballotd {

constexpr const char* join_file_name = "join";

struct join_plan {
  std::uint32_t id = 0;
  std::uint64_t alpha = 0;
  /// The configuration of slot 1 (ids; addresses as the cluster knew them).
  std::vector<std::uint32_t> bootstrap;
  /// Peer addresses by member id, this node's own included.
  std::map<std::uint32_t, endpoint> peers;
  std::string cluster_id;  ///< raw bytes
};

/// The plan as `<data-dir>/join` holds it, and back (nullopt: malformed,
/// with `error` saying where).
std::string encode(const join_plan& p);
std::optional<join_plan> decode_join_plan(const std::string& text, std::string& error);

/// What the cluster said, as the client library reports it.
struct member_entry {
  std::uint32_t id = 0;
  bool learner = false;
  std::string peer;
};
struct cluster_facts {
  std::vector<member_entry> members;
  std::vector<std::uint32_t> bootstrap;
  std::uint64_t alpha = 0;
  std::string cluster_id;
};

/// Pure: the plan for `self_id` (0: not added yet) at `peer_address` given
/// what the cluster said; nullopt with `error` when this node must not join
/// that way (the id is not a member, its address differs, it is a voter: a
/// wiped voter must never come back under its old id).
std::optional<join_plan> plan_join(const cluster_facts& facts, std::uint32_t self_id,
                                   const endpoint& peer_address, std::string& error);

/// Reads `<data-dir>/join`, or (none there) asks the cluster at --join and
/// writes it. Returns the plan, or the exit code after printing why
/// (2: the flags or the cluster refuse; 3: the file is damaged or cannot be
/// written; 3: the cluster cannot be reached).
struct join_outcome {
  std::optional<join_plan> plan;
  int code = 0;
};
join_outcome prepare_join(const options& o);

}  // namespace ballot::ballotd
