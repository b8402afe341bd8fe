#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/ballotd/options.hpp"

/// What a node that joined a running cluster keeps in `<data-dir>/join`
/// (see join.hpp), and the rules that decide it. Pure: no network, no disk.
namespace ballot::ballotd {

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

}  // namespace ballot::ballotd
