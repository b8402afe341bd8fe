#pragma once

#include "actors/kv/key_space.hpp"
#include "actors/kv/request.hpp"
#include "actors/kv/result.hpp"

/// The key/value API's operations on a `key_space`, shared by `kv_store` (the
/// key/value machine alone) and Ballot's service machine (keys, sessions and
/// locks over one namespace), so both answer exactly alike.
namespace ballot::kv {

/// Executes one request: a put or delete changes `keys`; a get or list reads.
/// A put makes the key persistent (it detaches it from any session).
result execute(key_space& keys, const request& req);

/// Answers a get or list; a write yields bad_request.
result read(const key_space& keys, const request& req);

}  // namespace ballot::kv
