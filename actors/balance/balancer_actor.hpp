#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/atom.hpp"
#include "caf/error.hpp"
#include "caf/fwd.hpp"

#include "actors/balance/core_config.hpp"
#include "actors/balance/errors.hpp"
#include "actors/balance/policies/policy.hpp"

/// The balancer actor: one `balancer_core` (policy, back-pressure, ejection,
/// slow start, timeouts, retries) in front of worker actors, local or CAF
/// proxies of actors in other processes.
///
/// Its interface (atoms and types from "actors/balance/type_ids.hpp"):
///
///   balance_request{key, idempotent, payload} -> whatever the worker replies
///       The chosen worker receives `payload` as is (a request with the
///       balancer's attempt timeout); its reply goes back unchanged. Instead
///       of a reply the client may get a `caf::error` of category "balance"
///       (`to_failure` reads it): overloaded and no_backends at once, timeout,
///       worker_error (the worker's own error, rendered into the message),
///       worker_down, retry_budget_exhausted, shutdown. Every request is
///       answered within the balancer's request_timeout.
///   (add_worker_atom, caf::actor worker, uint32_t weight) -> std::string name
///   (add_worker_atom, std::string name, caf::actor worker, uint32_t weight) -> std::string
///   (add_worker_atom, std::string name, caf::actor worker, uint32_t weight,
///    uint32_t max_outstanding) -> std::string
///       Adds a worker (slow start) and monitors it. Without a name, the
///       worker's address names it. Adding a name that is down (its actor
///       died) brings it back with the new handle: that is how a restarted
///       worker process rejoins. A name that is up already: an error.
///   (remove_worker_atom, std::string name | caf::actor worker) -> bool
///       For good: no new requests, those in flight finish.
///   (reweight_atom, std::string name | caf::actor worker, uint32_t weight) -> bool
///   (balance_stats_atom) -> core_stats
///
/// A worker whose actor terminates (a `down_msg`, e.g. its process was
/// killed and the middleman lost the connection) leaves at once: its
/// requests in flight are retried elsewhere if idempotent, else answered
/// with worker_down. Requests never pile up in the balancer: past the
/// per-worker limits and the bounded queue they are refused at once.
///
/// Workers must answer every request with a reply or an error; a reply of
/// any type is relayed (so a worker must not itself answer with CAF's
/// `unexpected_response` error, which the balancer uses internally to
/// receive replies of any type).
namespace ballot::balance {

struct worker_spec {
  /// For people and for `add_worker_atom` by name; empty: the actor's address.
  std::string name;
  caf::actor worker;
  std::uint32_t weight = 1;
  /// Overrides `balancer_config::limits.max_outstanding_per_backend`.
  std::optional<std::uint32_t> max_outstanding;
};

struct balancer_config {
  policy_kind policy = policy_kind::least_outstanding;
  policy_options policy_opts;
  core_config limits;
  /// The initial workers; they start at full weight.
  std::vector<worker_spec> workers;
};

/// Spawns a balancer. Throws std::invalid_argument on an invalid handle or
/// a duplicate name among `cfg.workers`. Stop it with an exit message: the
/// requests still open get `errc::shutdown`.
caf::actor spawn_balancer(caf::actor_system& sys, balancer_config cfg);

/// Announces the balancer's message types (`caf::id_block::ballot_balance`)
/// and the "balance" error category, so that `actor_system::render` prints
/// balance errors. The types inside payloads are the program's to announce.
void configure(caf::actor_system_config& cfg);

/// The category of the balancer's `caf::error`s.
constexpr caf::atom_value error_category = caf::atom("balance");

caf::error make_caf_error(const failure& f);

/// The balancer's failure inside `err`, or nullopt if `err` is another error.
std::optional<failure> to_failure(const caf::error& err);

}  // namespace ballot::balance
