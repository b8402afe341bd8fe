#pragma once

#include <cstddef>
#include <cstdint>

#include "actors/balance/policies/policy.hpp"

namespace ballot::balance {

/// Maglev hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software
/// Network Load Balancer", NSDI 2016): a lookup table of M entries (M prime),
/// each naming a backend; a key goes to entry `key mod M`.
///
/// Every backend has its own permutation of the entries, given by two hashes
/// of its id: offset in [0, M) and skip in [1, M) (M prime, so
/// offset + j * skip visits every entry). Backends take turns claiming the
/// next entry of their permutation that is still free until the table is
/// full. With equal weights each backend claims one entry per round, so the
/// entry counts differ by at most one (floor(M/N) or ceil(M/N)); when a
/// backend leaves, the others mostly claim the same entries as before, so
/// few keys move beyond the leaver's own (the paper's "minimal disruption",
/// which is close to but not exactly minimal).
///
/// Weights: a backend claims `weight / max weight` turns per round on average
/// (an integer credit, so equal weights stay exactly one per round), and every
/// backend claims at least once.
///
/// Unavailable backend: the pick probes the following entries until one
/// names an available backend. Entries are spread pseudo-randomly, so the
/// unavailable backend's keys spread over the others, and each key always
/// lands on the same fallback (deterministic).
///
/// The seed plays no part: the table depends on backend ids only, so every
/// balancer builds the same table. A rebuild costs O(M log M) on update; a
/// pick costs one division and one table read.
class maglev_policy final : public policy {
 public:
  /// `table_size` is rounded up to a prime (and to at least the number of
  /// backends).
  explicit maglev_policy(std::uint32_t table_size) : requested_size_(table_size) {}

  void update(const std::vector<backend>& backends) override;
  std::optional<backend_id> pick(std::uint64_t key, const load_view& load) override;
  policy_kind kind() const override { return policy_kind::maglev; }

  /// The table: for each entry, the backend it names (empty with no backends).
  std::vector<backend_id> table() const;

  /// M, the table size in use.
  std::size_t table_size() const { return entries_.size(); }

  /// The backend of `key`'s entry, ignoring availability; for tests and reports.
  std::optional<backend_id> home(std::uint64_t key) const;

  /// The smallest prime >= n (n >= 2).
  static std::uint32_t next_prime(std::uint32_t n);

 private:
  std::uint32_t requested_size_;
  std::vector<backend> backends_;       ///< sorted by id
  std::vector<std::uint32_t> entries_;  ///< index into backends_
};

}  // namespace ballot::balance
