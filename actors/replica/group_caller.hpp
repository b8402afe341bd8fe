#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "caf/fwd.hpp"
#include "caf/timespan.hpp"

#include "actors/paxos/types.hpp"
#include "actors/replica/peer_map.hpp"

namespace ballot::actors {

/// What one call to a replica group came back with.
struct group_answer {
  /// True: a replica applied the command (or served the read) and `result`
  /// holds the state machine's answer. False: `error` says why not.
  bool ok = false;
  /// Not ok because the replicas refused the command `expired`: they forgot
  /// its client id, so whether it applied is unknown, and the client's next
  /// write needs a fresh id (paxos::request_ids).
  bool expired = false;
  std::string result;
  std::string error;
};

/// The transport of the embedded clients (`kv::kv_client`, `lock::lock_client`):
/// sends commands as `(propose_atom, command)` and reads as `(read_atom,
/// query)` to a group of replica actors from a blocking thread. It follows
/// not_leader hints, tries the next replica when one does not answer, waits
/// out elections and overloads (the rules of routing::leader_follower), and
/// retries a command with the same (client, seq), so a retried command
/// applies once. Every call returns by its deadline. The (client, seq) are
/// the clients' to choose: an `expired` answer ends the call at once, for
/// the client to take a fresh id.
///
/// It owns a `caf::scoped_actor`: one caller per thread, never inside an
/// actor's message handler.
class group_caller {
 public:
  using clock = std::chrono::steady_clock;

  /// `attempt_timeout` bounds the wait for one replica's answer before the
  /// caller tries the next one.
  group_caller(caf::actor_system& sys, peer_map replicas,
               caf::timespan attempt_timeout = std::chrono::seconds(1));
  ~group_caller();

  group_caller(const group_caller&) = delete;
  group_caller& operator=(const group_caller&) = delete;

  /// Proposes `cmd` until a replica applies it or `deadline` passes. With
  /// `stop`, gives up between attempts once it is set.
  group_answer propose(const paxos::command& cmd, clock::time_point deadline,
                       const std::atomic<bool>* stop = nullptr);

  /// Reads `query` linearizably from the leader, as `propose` does.
  group_answer read(const std::string& query, clock::time_point deadline,
                    const std::atomic<bool>* stop = nullptr);

  const peer_map& replicas() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace ballot::actors
