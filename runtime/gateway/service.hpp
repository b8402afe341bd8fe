#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <kj/async.h>
#include <kj/refcount.h>
#include <kj/timer.h>

#include "actors/auth/auth_store.hpp"
#include "actors/lock/command.hpp"
#include "actors/lock/result.hpp"
#include "runtime/gateway/bridge.hpp"
#include "runtime/gateway/connection_context.hpp"
#include "runtime/gateway/options.hpp"
#include "runtime/gateway/reply_inbox.hpp"
#include "schemas/client.capnp.h"

namespace ballot::gateway {

/// The `Ballot` interface of schemas/client.capnp, served on the gateway's KJ
/// thread. It checks each call against the limits, encodes it as a key/value
/// request, hands it to the bridge and turns the bridge's answer into the
/// call's result union. Every call ends with a result (a refusal or
/// `unavailable` included), never an RPC exception: a timer guards each wait
/// in case the CAF side never answers.
///
/// One `service` serves every connection of a gateway (its budgets and watch
/// machinery are the gateway's); each connection's capability is a
/// `connection_service` that calls in here with that connection's
/// `connection_context` (who calls, from where). Each of those holds a
/// reference: calls still running when the gateway stops (Cap'n Proto may
/// cancel them as late as the event loop's end) need the service to the last.
/// Runs a function once at the end of the event loop's turn, however often
/// it is asked for during the turn: after the turn's other events (the other
/// connections' calls read in the same poll) have run.
class turn_end {
 public:
  template <class F>
  void schedule(F f) {
    if (due_)
      return;
    due_ = true;
    task_ = kj::evalLast([this, f = std::move(f)]() mutable {
              due_ = false;
              f();
            }).eagerlyEvaluate(nullptr);
  }

 private:
  bool due_ = false;
  kj::Promise<void> task_{nullptr};
};

class service final : public kj::Refcounted {
 public:
  // The call contexts of schemas/client.capnp's `Ballot` methods (the
  // generated names are protected members of Ballot::Server).
  using Ballot = schemas::client::Ballot;
  using PutContext = capnp::CallContext<Ballot::PutParams, Ballot::PutResults>;
  using GetContext = capnp::CallContext<Ballot::GetParams, Ballot::GetResults>;
  using DeleteContext = capnp::CallContext<Ballot::DeleteParams, Ballot::DeleteResults>;
  using ListContext = capnp::CallContext<Ballot::ListParams, Ballot::ListResults>;
  using StatusContext = capnp::CallContext<Ballot::StatusParams, Ballot::StatusResults>;
  using OpenSessionContext =
    capnp::CallContext<Ballot::OpenSessionParams, Ballot::OpenSessionResults>;
  using KeepAliveContext = capnp::CallContext<Ballot::KeepAliveParams, Ballot::KeepAliveResults>;
  using CloseSessionContext =
    capnp::CallContext<Ballot::CloseSessionParams, Ballot::CloseSessionResults>;
  using AcquireContext = capnp::CallContext<Ballot::AcquireParams, Ballot::AcquireResults>;
  using ReleaseContext = capnp::CallContext<Ballot::ReleaseParams, Ballot::ReleaseResults>;
  using CheckTokenContext = capnp::CallContext<Ballot::CheckTokenParams, Ballot::CheckTokenResults>;
  using LockInfoContext = capnp::CallContext<Ballot::LockInfoParams, Ballot::LockInfoResults>;
  using PutEphemeralContext =
    capnp::CallContext<Ballot::PutEphemeralParams, Ballot::PutEphemeralResults>;
  using WatchContext = capnp::CallContext<Ballot::WatchParams, Ballot::WatchResults>;
  using AuthenticateContext =
    capnp::CallContext<Ballot::AuthenticateParams, Ballot::AuthenticateResults>;
  using AuthChangeContext = capnp::CallContext<Ballot::AuthChangeParams, Ballot::AuthChangeResults>;
  using AuthListContext = capnp::CallContext<Ballot::AuthListParams, Ballot::AuthListResults>;
  using WhoAmIContext = capnp::CallContext<Ballot::WhoAmIParams, Ballot::WhoAmIResults>;
  using SnapshotContext = capnp::CallContext<Ballot::SnapshotParams, Ballot::SnapshotResults>;
  using MemberListContext = capnp::CallContext<Ballot::MemberListParams, Ballot::MemberListResults>;
  using MemberChangeContext =
    capnp::CallContext<Ballot::MemberChangeParams, Ballot::MemberChangeResults>;

  /// `in_flight` counts calls that have not answered yet (for draining on stop).
  service(const bridge& br, const options& opts, kj::Timer& timer, std::size_t& in_flight);

  kj::Promise<void> put(connection_context& conn, PutContext context);
  kj::Promise<void> get(connection_context& conn, GetContext context);
  kj::Promise<void> delete_(connection_context& conn, DeleteContext context);
  kj::Promise<void> list(connection_context& conn, ListContext context);
  kj::Promise<void> status(connection_context& conn, StatusContext context);

  // The lock service (service_locks.cpp).
  kj::Promise<void> openSession(connection_context& conn, OpenSessionContext context);
  kj::Promise<void> keepAlive(connection_context& conn, KeepAliveContext context);
  kj::Promise<void> closeSession(connection_context& conn, CloseSessionContext context);
  kj::Promise<void> acquire(connection_context& conn, AcquireContext context);
  kj::Promise<void> release(connection_context& conn, ReleaseContext context);
  kj::Promise<void> checkToken(connection_context& conn, CheckTokenContext context);
  kj::Promise<void> lockInfo(connection_context& conn, LockInfoContext context);
  kj::Promise<void> putEphemeral(connection_context& conn, PutEphemeralContext context);

  // Watches (service_watch.cpp).
  kj::Promise<void> watch(connection_context& conn, WatchContext context);

  // Users, roles and authentication (service_auth.cpp).
  kj::Promise<void> authenticate(connection_context& conn, AuthenticateContext context);
  kj::Promise<void> authChange(connection_context& conn, AuthChangeContext context);
  kj::Promise<void> authList(connection_context& conn, AuthListContext context);
  kj::Promise<void> whoAmI(connection_context& conn, WhoAmIContext context);

  // Online backup (service_backup.cpp).
  kj::Promise<void> snapshot(connection_context& conn, SnapshotContext context);

  // Membership (service_members.cpp).
  kj::Promise<void> memberList(connection_context& conn, MemberListContext context);
  kj::Promise<void> memberChange(connection_context& conn, MemberChangeContext context);

  /// The gateway's instruments, or null.
  gateway_metrics* metrics() const { return opts_.metrics.get(); }

  /// Why a call may not go on: no user (unauthenticated) or no permission.
  struct denial {
    bool unauthenticated = false;
    std::string message;
  };

 private:
  /// The user `conn` acts as: the one it authenticated as, else its client
  /// certificate's common name; "" = anonymous.
  static std::string user_of(const connection_context& conn);
  /// nullopt if `conn` may do `what` to `target` (a key, a key prefix with
  /// `prefix`, or a lock name), as this node last applied users and roles;
  /// else the denial, recorded in the audit log. `op` names the call.
  std::optional<denial> check(const connection_context& conn, auth::access what,
                              const std::string& target, bool prefix, const char* op);
  /// Only that a user is known (sessions, whose owner the log checks).
  std::optional<denial> check_user(const connection_context& conn, const char* op);
  std::optional<denial> check_user(const connection_context& conn, const auth::auth_store* store,
                                   const char* op);
  /// That the user has the root role (user and role changes and listings).
  std::optional<denial> check_root(const connection_context& conn, const char* op,
                                   const std::string& target);
  /// The credential of a call on `session`: the caller's user and the
  /// session's secret (the call's, else the one this connection got).
  static lock::credential credential_for(const connection_context& conn, std::uint64_t session,
                                         std::uint64_t secret);
  /// The store as the cluster has it now (a linearizable read), or null.
  kj::Promise<std::shared_ptr<const auth::auth_store>> fresh_auth();
  /// Hashes or verifies on a helper thread: argon2id takes tens of
  /// milliseconds, which the gateway's loop must not spend.
  kj::Promise<std::optional<std::string>> hash_async(std::string password);
  kj::Promise<bool> verify_async(std::string hash, std::string password);
  void audit(const std::string& result, const connection_context& conn, const std::string& op,
             const std::string& target, const std::string& why) const;

  /// Hashes proposed per request id: a retried user add or passwd proposes
  /// the same hash, so the log's dedup sees the same command (a new salt
  /// would make it `requestIdReused`). Bounded: when full, the entry with
  /// the smallest request id goes.
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::string> hashed_;
  /// Password hashes being computed or verified now (each takes 19 MiB).
  std::size_t hashing_ = 0;
  static constexpr std::size_t max_hashing = 4;
  /// One online backup per node at a time: set from the call until its
  /// stream ends (see backup_stream), so at most one file is held.
  std::shared_ptr<bool> backup_busy_ = std::make_shared<bool>(false);

  /// Runs `start(done)` and resolves with what `done` receives, or with
  /// `unavailable` if the bridge never answers.
  kj::Promise<bridge_reply> ask(bool is_write, paxos::command cmd, std::string query,
                                bool member_change = false);

  /// A call in flight: counted until the returned promise completes.
  kj::Promise<void> track(kj::Promise<void> call);

  /// Proposes a lock command with the gateway's own request id (a waiting
  /// acquire's cancel_wait) and answers with the decoded result, or nullopt.
  kj::Promise<std::optional<lock::result>> own_lock_write(const lock::command& cmd);

  /// The gateway's own request id for `cmd`, and what its answer teaches
  /// (an `expired` one: a new id, see service_keep_alive.cpp).
  paxos::command own_command(const lock::command& cmd);
  void own_answered(const bridge_reply& r);

  /// A session's keep-alive, sent with others as one lock::keep_alive_many
  /// (service_keep_alive.cpp); answered as its own.
  kj::Promise<bridge_reply> coalesced_keep_alive(lock::keep_alive k);
  /// Sends waiting batches while fewer than max_keep_alive_batches are asked.
  void send_keep_alive_batches();
  /// One keep-alive command sent, carrying `sessions` keep-alives (metrics).
  void count_keep_alive_command(std::size_t sessions);
  struct keep_alive_batch;
  /// The batch keep-alives join now, and full ones waiting to be sent.
  std::shared_ptr<keep_alive_batch> open_batch_;
  std::vector<std::shared_ptr<keep_alive_batch>> full_batches_;
  std::size_t batches_asked_ = 0;
  /// Keep-alives handed to a batch and not answered yet.
  std::size_t keep_alives_waiting_ = 0;
  turn_end batch_flush_;
  /// A batch is cut at this many bytes (or options::max_forward_bytes if
  /// smaller, and at lock::max_keep_alive_batch sessions), well below any
  /// limit on a command's size.
  static constexpr std::size_t max_keep_alive_batch_bytes = 256u << 10;
  /// At most this many batches are asked at once; keep-alives that come
  /// meanwhile join the next batch. While the cluster keeps up, a call goes
  /// at its turn's end as before; when it does not, batches grow.
  static constexpr std::size_t max_keep_alive_batches = 2;

  /// A linearizable lock query; nullopt if the cluster did not answer.
  kj::Promise<std::optional<lock::result>> lock_read(const lock::query& q);

  /// After `acquire` queued: the waiter's core (lock::acquire_waiter) looks,
  /// waits for the grant from the change feed and withdraws at the deadline.
  struct grant_wait;
  kj::Promise<void> await_grant(const std::shared_ptr<grant_wait>& g);
  /// Sends what the waiter asks for, or waits for the feed or its next wake.
  kj::Promise<void> wait_step(const std::shared_ptr<grant_wait>& g);

  // A watch's rounds: deliver what is new (from the feed, else from the
  // cluster's history), then wait for more.
  struct watch_state;
  kj::Promise<void> watch_round(const std::shared_ptr<watch_state>& w);
  kj::Promise<void> cluster_round(const std::shared_ptr<watch_state>& w);
  kj::Promise<void> wait_for_news(const std::shared_ptr<watch_state>& w);
  /// The gateway's one staleness check for every waiting watch (see
  /// options::watch_poll): runs while any watch waits.
  void start_probe();
  kj::Promise<void> probe_round();
  kj::Promise<void> deliver(const std::shared_ptr<watch_state>& w, std::vector<kv::event> events,
                            std::uint64_t upto);

  const bridge& bridge_;
  /// The bridge's answers come back through here: one wake-up of this
  /// thread for all that arrive together (see reply_inbox).
  reply_inbox<bridge_reply> replies_;
  /// This turn's calls, handed to the bridge together at its end.
  bridge::outbox outbox_;
  turn_end outbox_flush_;
  const options& opts_;
  kj::Timer& timer_;
  std::size_t& in_flight_;
  /// Request ids of the gateway's own writes (only this KJ thread uses them).
  std::uint64_t own_client_;
  std::uint64_t own_seq_ = 0;
  /// Calls handed to the bridge and not answered yet, and their bytes.
  std::size_t asked_calls_ = 0;
  std::size_t asked_bytes_ = 0;
  /// Waiting watches, woken with `false` when the feed has fallen behind.
  std::map<std::uint64_t, kj::Own<kj::PromiseFulfiller<bool>>> idle_watches_;
  std::uint64_t next_watch_ = 0;
  bool probe_running_ = false;
  /// The cluster's revision at the previous probe: a feed still short of it
  /// a whole poll later is cut off or far behind.
  std::uint64_t probed_revision_ = 0;
  kj::Promise<void> probe_task_{nullptr};
  /// Bytes of event batches sent to watchers and not yet taken.
  std::size_t watch_bytes_ = 0;

  /// Keep-alive batches asked and not answered (ask never fails: nothing to
  /// handle). Last, so it goes first: its asks use the members above.
  struct no_errors final : kj::TaskSet::ErrorHandler {
    void taskFailed(kj::Exception&&) override {}
  } batch_errors_;
  kj::TaskSet batch_sends_{batch_errors_};
};

}  // namespace ballot::gateway
