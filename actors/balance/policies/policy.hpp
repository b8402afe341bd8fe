#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// Load-balancing policies: pure code (no CAF, no clocks, no threads). A
/// balancer actor owns one policy and asks it for a backend per request; the
/// balancer, not the policy, tracks health and load and tells the policy
/// through `load_view` what it may pick.
namespace ballot::balance {

/// Names one backend (worker) for the lifetime of the balancer; the balancer
/// maps ids to actors. Ids are stable across `update` calls, so hashing
/// policies keep their keys on backends that stay.
using backend_id = std::uint64_t;

struct backend {
  backend_id id = 0;
  /// Relative share of requests; at least 1. Slow start lowers it for a while.
  std::uint32_t weight = 1;
};

/// What a policy may know about the balancer's live state at pick time.
class load_view {
 public:
  virtual ~load_view() = default;
  /// Requests sent to `id` and not yet answered.
  virtual std::uint32_t outstanding(backend_id id) const = 0;
  /// False while `id` may not take a request (ejected, at its concurrency
  /// limit); a policy never picks an unavailable backend.
  virtual bool available(backend_id id) const = 0;
};

enum class policy_kind : std::uint8_t {
  random,
  round_robin,
  weighted_round_robin,  ///< NGINX's smooth weighted round robin
  least_outstanding,     ///< fewest outstanding (ties: lower load/weight, then in turn after the last pick)
  power_of_two,          ///< two random picks (by weight), the less loaded relative to weight
  ring_hash,             ///< consistent hashing ring with virtual nodes and bounded load
  maglev,                ///< Maglev lookup table
};

struct policy_options {
  std::uint64_t seed = 1;
  /// ring_hash: no backend gets more than ceil((1 + epsilon) * average)
  /// outstanding requests; the pick walks on along the ring instead.
  double epsilon = 0.25;
  /// ring_hash: virtual nodes per unit of weight.
  std::uint32_t vnodes = 100;
  /// maglev: table size, a prime well above the number of backends.
  std::uint32_t maglev_table_size = 65537;
};

class policy {
 public:
  virtual ~policy() = default;

  /// Replaces the backend set: ids unique, weights >= 1 (0 is treated as 1).
  /// Called at start and whenever backends join, leave or change weight.
  virtual void update(const std::vector<backend>& backends) = 0;

  /// Picks an available backend for a request with hash `key` (hashing
  /// policies route by it; the others ignore it). nullopt when no backend is
  /// available. Not const: round robin and random advance their state.
  virtual std::optional<backend_id> pick(std::uint64_t key, const load_view& load) = 0;

  virtual policy_kind kind() const = 0;
};

std::unique_ptr<policy> make_policy(policy_kind kind, const policy_options& opts = {});

/// "random", "round-robin", "weighted-round-robin", "least-outstanding",
/// "power-of-two", "ring-hash", "maglev".
const char* to_string(policy_kind kind);

/// Parses a name of `to_string` (also "p2c", "wrr", "rr"); nullopt if unknown.
std::optional<policy_kind> parse_policy_kind(std::string_view name);

/// All kinds, in declaration order (for reports and tests).
std::vector<policy_kind> all_policy_kinds();

/// A stable 64-bit hash of a request key (for hashing policies).
std::uint64_t hash_key(std::string_view key);

}  // namespace ballot::balance
