#pragma once

#include <vector>

#include "caf/type_id.hpp"

#include "actors/balance/inspect.hpp"
#include "actors/balance/request.hpp"
#include "actors/balance/stats.hpp"
#include "actors/replica/type_ids.hpp"

/// Type IDs and atoms of the balancer actor, in their own block right after
/// the `ballot` block. A program announces them with
/// `ballot::balance::configure(cfg)` (balancer_actor.hpp), which also
/// registers the "balance" error category; every process that exchanges
/// balancer messages through the middleman must do so.
// clang-format off
CAF_BEGIN_TYPE_ID_BLOCK(ballot_balance, caf::id_block::ballot::end)

  CAF_ADD_TYPE_ID(ballot_balance, (ballot::balance::balance_request))
  CAF_ADD_TYPE_ID(ballot_balance, (ballot::balance::backend_stats))
  CAF_ADD_TYPE_ID(ballot_balance, (std::vector<ballot::balance::backend_stats>))
  CAF_ADD_TYPE_ID(ballot_balance, (ballot::balance::core_stats))

  // -- atoms (at most 10 characters)
  CAF_ADD_ATOM(ballot_balance, ballot::balance, add_worker_atom, "addworker")
  CAF_ADD_ATOM(ballot_balance, ballot::balance, remove_worker_atom, "rmworker")
  CAF_ADD_ATOM(ballot_balance, ballot::balance, reweight_atom, "reweight")
  CAF_ADD_ATOM(ballot_balance, ballot::balance, balance_stats_atom, "balstats")
  // Timers of the balancer to itself.
  CAF_ADD_ATOM(ballot_balance, ballot::balance, balance_deadline_atom, "baldeadln")
  CAF_ADD_ATOM(ballot_balance, ballot::balance, balance_tick_atom, "baltick")

CAF_END_TYPE_ID_BLOCK(ballot_balance)
// clang-format on
