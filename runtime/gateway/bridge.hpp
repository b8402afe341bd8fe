#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caf/fwd.hpp"

#include "actors/paxos/types.hpp"
#include "actors/replica/peer_map.hpp"
#include "runtime/gateway/options.hpp"

/// The one crossing from the gateway's Cap'n Proto thread into CAF. Plain C++
/// on the outside (this header pulls in no CAF or KJ headers), one long-lived
/// event-based actor inside: a call sends one message and returns at once,
/// the actor keeps any number of requests in flight, and it hands each answer
/// to the caller's callback on a CAF thread, where the gateway fulfills a
/// cross-thread KJ promise. Nothing blocks on either side.
namespace ballot::gateway {

/// Finds the replica actor of a member: the local one (`options::self`) and
/// the leader to forward to. Returns an invalid handle for an unknown or
/// unreachable member. Called only by the bridge actor (never concurrently
/// with itself); it must not block.
using replica_finder = std::function<caf::actor(paxos::node_id)>;

/// A finder over a fixed map of replica actors (an embedded cluster, or a
/// node whose peers' proxies are resolved up front).
replica_finder find_in(actors::peer_map replicas);

/// The answer to one write or read.
struct bridge_reply {
  enum class status {
    ok,  ///< `result` holds the state machine's encoded answer
    /// with `options::forward == false`, or for a write over
    /// `options::max_forward_bytes` at a follower; see `leader_hint`
    not_leader,
    unavailable,  ///< no answer within the request timeout; `message` says why
    // Refusals: nothing was applied; `message` says why.
    overloaded,      ///< a budget (the leader's queue, the gateway's) is full
    quota_exceeded,  ///< the state is over its quota; `result` = the quota in bytes
    id_reused,       ///< the request id named another command
    invalid,         ///< seq 0 or a command over the replicas' size limit
    /// The dedup table forgot the client: unknown whether it applied.
    expired,
  };
  status st = status::ok;
  std::string result;
  std::optional<paxos::node_id> leader_hint;
  std::string message;
};

/// One member as the status probe saw it.
struct member_view {
  paxos::node_id id = 0;
  bool up = false;  ///< answered within `options::status_timeout`
  bool is_leader = false;
  std::optional<paxos::node_id> leader_hint;
  std::uint64_t commit_index = 0;
  /// A non-voting member (as this node's membership says).
  bool learner = false;
};

/// One request on its way through the bridge (defined in bridge.cpp).
struct bridge_job;

class bridge {
 public:
  using reply_handler = std::function<void(bridge_reply)>;
  using status_handler = std::function<void(std::vector<member_view>)>;

  /// Spawns the bridge actor. `find` must be non-empty.
  bridge(caf::actor_system& sys, replica_finder find, const options& opts);

  /// Stops the actor; callbacks not yet called are dropped (destroyed uncalled).
  ~bridge();

  bridge(const bridge&) = delete;
  bridge& operator=(const bridge&) = delete;

  /// Proposes `cmd` (the (client, seq) of a retry must be the first attempt's),
  /// following the leader until it applies or the request timeout passes.
  /// `done` is called exactly once, on a CAF thread; it must not block.
  /// Thread-safe.
  void write(paxos::command cmd, reply_handler done) const;

  /// A linearizable read of `query` on the leader; otherwise as `write`.
  void read(std::string query, reply_handler done) const;
  /// The same with its own deadline, each ask of a replica waiting as long:
  /// for an online backup, whose answer is the whole state. Without
  /// `forward`, only the local replica is asked, and its not_leader (with
  /// its hint) is the answer.
  void read(std::string query, reply_handler done, std::chrono::milliseconds timeout,
            bool forward) const;

  /// Asks the leader to change the membership (`payload` is
  /// `paxos::encode(member_change)`), following the leader like `write`; the
  /// result is "ok <id>" or "refused: why". The change's token (in the
  /// payload) is its request id: every retry, here or by the client, is
  /// answered as the first try was and applies nothing again.
  void change_members(std::string payload, reply_handler done) const;

  /// Probes every member's replica status; `done` gets one view per member,
  /// in member order, within about `options::status_timeout`.
  void status(status_handler done) const;

  /// Requests gathered on one thread and handed to the bridge's actor as one
  /// message by `send`: the gateway gathers those of one turn of its event
  /// loop, so a burst of calls wakes the actor once, not once per call. Each
  /// request is then treated exactly as `write`, `read` or `change_members`
  /// would; its deadline starts when it is gathered. Not thread-safe.
  class outbox {
   public:
    explicit outbox(const bridge& b);
    ~outbox();
    outbox(const outbox&) = delete;
    outbox& operator=(const outbox&) = delete;

    void write(paxos::command cmd, reply_handler done);
    void read(std::string query, reply_handler done);
    void change_members(std::string payload, reply_handler done);
    bool empty() const { return jobs_.empty(); }
    /// Hands every gathered request over (nothing if there is none).
    void send();

   private:
    const bridge& b_;
    std::vector<std::shared_ptr<bridge_job>> jobs_;
  };

 private:
  /// A write's job, or nothing when it was answered at once (a reserved id).
  std::shared_ptr<bridge_job> write_job(paxos::command cmd, reply_handler& done) const;
  std::shared_ptr<bridge_job> read_job(std::string query, reply_handler done) const;
  std::shared_ptr<bridge_job> change_job(std::string payload, reply_handler done) const;

  std::unique_ptr<caf::actor> actor_;
  std::chrono::milliseconds request_timeout_;
};

}  // namespace ballot::gateway
