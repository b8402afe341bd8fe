#pragma once

#include "caf/meta/type_name.hpp"

#include "actors/balance/request.hpp"
#include "actors/balance/stats.hpp"

/// CAF 0.17 `inspect` overloads for the balancer's message types, next to the
/// types' namespace for argument-dependent lookup; the pure structs stay free
/// of CAF.
namespace ballot::balance {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, balance_request& x) {
  return f(caf::meta::type_name("ballot.balance.request"), x.key, x.idempotent, x.payload);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, backend_stats& x) {
  return f(caf::meta::type_name("ballot.balance.backend_stats"), x.id, x.name, x.weight,
           x.effective_weight, x.max_outstanding, x.outstanding, x.up, x.ejected, x.draining,
           x.slow_start, x.ejected_until_ms, x.ejections, x.consecutive_failures, x.served,
           x.failures);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, core_stats& x) {
  return f(caf::meta::type_name("ballot.balance.stats"), x.backends, x.queued, x.in_flight,
           x.retries_in_flight, x.submitted, x.succeeded, x.retries, x.overloaded, x.no_backends,
           x.timeouts, x.worker_errors, x.worker_down, x.budget_exhausted);
}

}  // namespace ballot::balance
