#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "caf/fwd.hpp"
#include "caf/timespan.hpp"

#include "actors/kv/request.hpp"
#include "actors/kv/result.hpp"
#include "actors/paxos/types.hpp"
#include "actors/replica/peer_map.hpp"

/// The embedded key/value client: a CAF program talks to `kv_store` replica
/// actors directly, without Cap'n Proto.
namespace ballot::kv {

/// The Paxos command that carries `req` (for actors that send
/// `(propose_atom, command)` themselves and decode the reply's result).
paxos::command make_command(std::uint64_t client, std::uint64_t seq, const request& req);

/// A blocking client over a group of replica actors. It sends writes as
/// `(propose_atom, command)` and reads as `(read_atom, query)`, follows
/// not_leader hints, tries the next replica when one does not answer, and
/// retries a write with the same (client id, seq), so a retried write applies
/// once. Every call returns within `timeout`, with `result_code::unavailable`
/// when no replica answered in time. A write answered `result_code::expired`
/// may or may not have applied (the replicas forgot the client id, e.g. after
/// it idled for hours): the client names its next writes with a fresh random
/// id.
///
/// It blocks the calling thread: use it from `main` or a thread of your own,
/// never inside an actor's message handler. Event-based actors send the
/// messages themselves (see `make_command`, `encode` and `decode`).
/// Not thread-safe: one client per thread.
class kv_client {
 public:
  /// `client_id` names this client in the replicas' deduplication tables
  /// (until they forget it, see above): pick one that no other live client
  /// uses (e.g. a random number).
  kv_client(caf::actor_system& sys, actors::peer_map replicas, std::uint64_t client_id,
            caf::timespan timeout = std::chrono::seconds(5));
  ~kv_client();

  kv_client(const kv_client&) = delete;
  kv_client& operator=(const kv_client&) = delete;

  /// Stores `value`; with `if_version`, only if the key's version equals it
  /// (0: only if absent). ok: `version` is the key's new version.
  result put(std::string key, std::string value,
             std::optional<std::uint64_t> if_version = std::nullopt);

  /// ok: `value` and `version`; not_found if absent.
  result get(std::string key);

  /// Removes a key; `if_version` as for put. not_found if absent.
  result del(std::string key, std::optional<std::uint64_t> if_version = std::nullopt);

  /// The keys under `prefix` with their versions, in key order.
  result list(std::string prefix, std::uint32_t limit = 0);

  /// Runs any request: writes through the log, reads by read-index.
  result execute(const request& req);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace ballot::kv
