#pragma once

#include <string>
#include <utility>

#include "caf/make_message.hpp"
#include "caf/message.hpp"

/// The one message a client sends a balancer actor (see balancer_actor.hpp).
namespace ballot::balance {

struct balance_request {
  /// Routes the request under hashing policies (ring hash, Maglev): requests
  /// with the same key go to the same worker while it is up. Ignored by the
  /// other policies.
  std::string key;
  /// May the balancer send it again, to another worker, after a timeout, an
  /// error or the death of the worker it was on? Only if doing it twice is
  /// harmless.
  bool idempotent = false;
  /// What the chosen worker receives, exactly as built; its reply goes back
  /// to the client unchanged.
  caf::message payload;
};

/// `balance_request{key, idempotent, make_message(xs...)}`.
template <class... Ts>
balance_request make_balance_request(std::string key, bool idempotent, Ts&&... xs) {
  return balance_request{std::move(key), idempotent, caf::make_message(std::forward<Ts>(xs)...)};
}

}  // namespace ballot::balance
