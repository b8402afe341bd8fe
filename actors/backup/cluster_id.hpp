#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

/// The cluster id (README "Cluster identity"): 32 bytes every peer hello
/// carries, so members of two clusters never mix. Derivation only (pure);
/// the file that keeps it is runtime/ballotd/cluster_id_file.
namespace ballot::backup {

constexpr std::size_t cluster_id_bytes = 32;

/// At bootstrap: SHA-256 of the operator's token and the sorted member ids,
/// in the spirit of etcd's --initial-cluster-token. Addresses are left out
/// on purpose: members may reach each other by different addresses (a NAT,
/// a proxy, a network namespace), and every member must derive the same id.
/// So clusters with the same member ids tell each other apart only by their
/// tokens: give each cluster its own.
std::string derive_cluster_id(const std::string& token, const std::set<std::uint32_t>& members);

/// For a cluster restored from a backup: SHA-256 of the old id and the
/// backup's checksum, so every member restored from one file agrees without
/// talking, and none of them is a member of the old cluster.
std::string restored_cluster_id(const std::string& old_id, const std::string& backup_checksum);

/// 64 hex digits, or nullopt with `why` set.
std::optional<std::string> parse_cluster_id(const std::string& hex, std::string& why);

}  // namespace ballot::backup
