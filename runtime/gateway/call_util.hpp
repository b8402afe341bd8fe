#pragma once

// Helpers shared by the gateway's call handlers (service*.cpp); internal.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <kj/async.h>
#include <kj/time.h>

#include "actors/kv/command_codec.hpp"
#include "actors/lock/lock_codec.hpp"
#include "runtime/gateway/bridge.hpp"
#include "runtime/gateway/options.hpp"
#include "schemas/client.capnp.h"

namespace ballot::gateway {

inline std::string to_std(capnp::Text::Reader text) {
  return {text.cStr(), text.size()};
}

inline std::string to_std(capnp::Data::Reader data) {
  return {reinterpret_cast<const char*>(data.begin()), data.size()};
}

inline capnp::Data::Reader as_data(const std::string& bytes) {
  return {reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size()};
}

inline std::optional<std::uint64_t> condition(schemas::client::Precondition::Reader pre) {
  if (pre.which() == schemas::client::Precondition::IF_VERSION)
    return pre.getIfVersion();
  return std::nullopt;
}

/// The first bytes of a (possibly huge) client-supplied string, for messages.
inline std::string preview(capnp::Text::Reader text) {
  constexpr std::size_t max = 32;
  std::string out{text.cStr(), std::min(text.size(), max)};
  return "\"" + out + (text.size() > max ? "...\"" : "\"");
}

/// "<what> is <size> bytes, over the limit of <limit>": one wording for every
/// size refusal (key, value, prefix), which clients and tests match on.
inline std::string over_limit(const std::string& what, std::size_t size, std::size_t limit) {
  return what + " is " + std::to_string(size) + " bytes, over the limit of " +
         std::to_string(limit);
}

/// Why `key` cannot be a key (empty, or over `max_bytes`), or "" if it can.
inline std::string bad_key(capnp::Text::Reader key, std::size_t max_bytes) {
  if (key.size() == 0)
    return "the key is empty";
  if (key.size() > max_bytes)
    return over_limit("key " + preview(key), key.size(), max_bytes);
  return {};
}

/// Answers the call at once with a bad-request error saying `why`: the request
/// is refused before anything is proposed.
template <class Context>
kj::Promise<void> bad_request(Context& context, const std::string& why) {
  context.getResults().initResult().initError().setBadRequest(why);
  return kj::READY_NOW;
}

/// Answers the call at once with unauthenticated or permissionDenied.
template <class Context>
kj::Promise<void> refuse_access(Context& context, bool unauthenticated, const std::string& why) {
  auto e = context.getResults().initResult().initError();
  if (unauthenticated)
    e.setUnauthenticated(why);
  else
    e.setPermissionDenied(why);
  return kj::READY_NOW;
}

inline bridge_reply unavailable(std::string why) {
  bridge_reply r;
  r.st = bridge_reply::status::unavailable;
  r.message = std::move(why);
  return r;
}

inline kj::Duration to_kj(std::chrono::milliseconds ms) {
  return ms.count() * kj::MILLISECONDS;
}

/// Interprets the bridge's failures: not_leader and unavailable go into the
/// error variant that `init_error()` creates (nullptr returned); an ok answer
/// returns the state machine's encoded result.
template <class InitError>
const std::string* accepted(const bridge_reply& r, const options& opts, InitError init_error) {
  switch (r.st) {
    case bridge_reply::status::ok:
      return &r.result;
    case bridge_reply::status::not_leader: {
      auto hint = init_error().initNotLeader();
      if (r.leader_hint) {
        hint.setLeaderId(*r.leader_hint);
        if (auto where = opts.endpoint_of(*r.leader_hint); !where.empty())
          hint.setEndpoint(where);
      }
      return nullptr;
    }
    case bridge_reply::status::unavailable:
      init_error().setUnavailable(r.message);
      return nullptr;
    case bridge_reply::status::expired:
      init_error().setExpired(r.message);
      return nullptr;
    case bridge_reply::status::overloaded:
      init_error().setOverloaded(r.message);
      return nullptr;
    case bridge_reply::status::quota_exceeded: {
      std::uint64_t quota = 0;
      try {
        quota = std::stoull(r.result);
      } catch (const std::exception&) {
        // keep 0: the refusal matters, not the figure
      }
      init_error().setQuotaExceeded(quota);
      return nullptr;
    }
    case bridge_reply::status::id_reused:
      init_error().setRequestIdReused();
      return nullptr;
    case bridge_reply::status::invalid:
      init_error().setBadRequest(r.message);
      return nullptr;
  }
  return nullptr;
}

/// Interprets a key/value answer. Failures and refusals go into the error
/// variant that `init_error()` creates; an ok key/value result is returned.
template <class InitError>
std::optional<kv::result> settle(const bridge_reply& r, const options& opts, InitError init_error) {
  auto* bytes = accepted(r, opts, init_error);
  if (bytes == nullptr)
    return std::nullopt;
  kv::result res;
  std::string error;
  if (!kv::decode(*bytes, res, error)) {
    init_error().setUnavailable("the state machine's answer does not decode: " + error);
    return std::nullopt;
  }
  switch (res.code) {
    case kv::result_code::ok:
      return res;
    case kv::result_code::not_found:
      init_error().setNotFound();
      break;
    case kv::result_code::version_mismatch:
      init_error().setVersionMismatch(res.version);
      break;
    case kv::result_code::bad_request:
      init_error().setBadRequest(res.message);
      break;
    case kv::result_code::unavailable:
      init_error().setUnavailable(res.message);
      break;
    case kv::result_code::overloaded:
      init_error().setOverloaded(res.message);
      break;
    case kv::result_code::quota_exceeded:
      init_error().setQuotaExceeded(res.version);
      break;
    case kv::result_code::request_id_reused:
      init_error().setRequestIdReused();
      break;
    // Only the gateway makes these, never the store.
    case kv::result_code::unauthenticated:
      init_error().setUnauthenticated(res.message);
      break;
    case kv::result_code::permission_denied:
      init_error().setPermissionDenied(res.message);
      break;
    case kv::result_code::expired:
      init_error().setExpired(res.message);
      break;
  }
  return std::nullopt;
}

/// Interprets a lock-service answer: bad_request and no_session (for
/// `session`) become errors; every other code is the caller's to map.
template <class InitError>
std::optional<lock::result> settle_lock(const bridge_reply& r, const options& opts,
                                        std::uint64_t session, InitError init_error) {
  auto* bytes = accepted(r, opts, init_error);
  if (bytes == nullptr)
    return std::nullopt;
  lock::result res;
  std::string error;
  if (!lock::decode(*bytes, res, error)) {
    init_error().setUnavailable("the state machine's answer does not decode: " + error);
    return std::nullopt;
  }
  if (res.code == lock::result_code::bad_request) {
    init_error().setBadRequest(res.message);
    return std::nullopt;
  }
  if (res.code == lock::result_code::no_session) {
    init_error().setNoSession(session);
    return std::nullopt;
  }
  if (res.code == lock::result_code::permission_denied) {
    init_error().setPermissionDenied(res.message);
    return std::nullopt;
  }
  // Refusals the leader made before proposing (caps on sessions and waiters).
  if (res.code == lock::result_code::limit_reached) {
    init_error().setLimitReached(res.message);
    return std::nullopt;
  }
  return res;
}

/// A promise on this (KJ) thread and a callback that fulfills it from any
/// thread. The value travels in a shared box and only a void fulfillment
/// crosses threads: the fulfillment orders the box's write before the read.
template <class T>
std::pair<kj::Promise<T>, std::function<void(T)>> handoff() {
  auto paf = kj::newPromiseAndCrossThreadFulfiller<void>();
  auto box = std::make_shared<T>();
  // std::function needs a copyable callable: share the (thread-safe) fulfiller.
  auto fulfiller =
    std::make_shared<kj::Own<kj::CrossThreadPromiseFulfiller<void>>>(kj::mv(paf.fulfiller));
  std::function<void(T)> done = [box, fulfiller](T value) {
    *box = std::move(value);
    (*fulfiller)->fulfill();
  };
  return {paf.promise.then([box]() mutable { return std::move(*box); }), std::move(done)};
}

}  // namespace ballot::gateway
