#pragma once

#include <cstdint>
#include <string>

/// What a balancer answers instead of a reply. Pure code: the CAF layer turns
/// a `failure` into a `caf::error` of category "balance" (see
/// balancer_actor.hpp); the codes start at 1 because 0 means "no error" there.
namespace ballot::balance {

enum class errc : std::uint8_t {
  /// Every available backend is at its concurrency limit and the queue is
  /// full: refused at once, never buffered without bound.
  overloaded = 1,
  /// No backend can take requests: none registered, all down or all ejected.
  no_backends,
  /// The request's deadline passed (waiting in the queue, or its last attempt
  /// timed out).
  timeout,
  /// The worker answered with an error (and no retry was allowed or left).
  worker_error,
  /// The worker died (or its process became unreachable) with the request in
  /// flight, and no retry was allowed or left.
  worker_down,
  /// The attempt failed and the request was idempotent, but the retry budget
  /// was spent: too many retries in flight already.
  retry_budget_exhausted,
  /// The balancer stopped with the request still open.
  shutdown,
};

/// "overloaded", "no_backends", ... (the enumerator's name).
const char* to_string(errc code);

struct failure {
  errc code = errc::overloaded;
  /// A complete sentence for people: which backend, which attempt, why.
  std::string message;
};

/// "<code>: <message>".
std::string to_string(const failure& f);

}  // namespace ballot::balance
