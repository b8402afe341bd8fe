#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <kj/timer.h>

#include "actors/lock/command.hpp"
#include "actors/lock/result.hpp"
#include "runtime/gateway/bridge.hpp"
#include "runtime/gateway/options.hpp"
#include "schemas/client.capnp.h"

namespace ballot::gateway {

/// The `Ballot` interface of schemas/client.capnp, served on the gateway's KJ
/// thread. It checks each call against the limits, encodes it as a key/value
/// request, hands it to the bridge and turns the bridge's answer into the
/// call's result union. Every call ends with a result (a refusal or
/// `unavailable` included), never an RPC exception: a timer guards each wait
/// in case the CAF side never answers.
class service final : public schemas::client::Ballot::Server {
 public:
  /// `in_flight` counts calls that have not answered yet (for draining on stop).
  service(const bridge& br, const options& opts, kj::Timer& timer, std::size_t& in_flight);

  kj::Promise<void> put(PutContext context) override;
  kj::Promise<void> get(GetContext context) override;
  kj::Promise<void> delete_(DeleteContext context) override;
  kj::Promise<void> list(ListContext context) override;
  kj::Promise<void> status(StatusContext context) override;

  // The lock service (service_locks.cpp).
  kj::Promise<void> openSession(OpenSessionContext context) override;
  kj::Promise<void> keepAlive(KeepAliveContext context) override;
  kj::Promise<void> closeSession(CloseSessionContext context) override;
  kj::Promise<void> acquire(AcquireContext context) override;
  kj::Promise<void> release(ReleaseContext context) override;
  kj::Promise<void> checkToken(CheckTokenContext context) override;
  kj::Promise<void> lockInfo(LockInfoContext context) override;
  kj::Promise<void> putEphemeral(PutEphemeralContext context) override;

  // Watches (service_watch.cpp).
  kj::Promise<void> watch(WatchContext context) override;

 private:
  /// Runs `start(done)` and resolves with what `done` receives, or with
  /// `unavailable` if the bridge never answers.
  kj::Promise<bridge_reply> ask(bool is_write, paxos::command cmd, std::string query);

  /// A call in flight: counted until the returned promise completes.
  kj::Promise<void> track(kj::Promise<void> call);

  /// Proposes a lock command with the gateway's own request id (a waiting
  /// acquire's cancel_wait) and answers with the decoded result, or nullopt.
  kj::Promise<std::optional<lock::result>> own_lock_write(const lock::command& cmd);

  /// A linearizable lock query; nullopt if the cluster did not answer.
  kj::Promise<std::optional<lock::result>> lock_read(const lock::query& q);

  /// After `acquire` queued: waits for the grant until `deadline`.
  kj::Promise<void> await_grant(AcquireContext context, std::uint64_t wait_id,
                                kj::Promise<std::optional<std::uint64_t>> granted,
                                kj::TimePoint deadline);

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
};

}  // namespace ballot::gateway
