#pragma once

#include <cstddef>

#include <kj/timer.h>

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

 private:
  /// Runs `start(done)` and resolves with what `done` receives, or with
  /// `unavailable` if the bridge never answers.
  kj::Promise<bridge_reply> ask(bool is_write, paxos::command cmd, std::string query);

  /// A call in flight: counted until the returned promise completes.
  kj::Promise<void> track(kj::Promise<void> call);

  const bridge& bridge_;
  const options& opts_;
  kj::Timer& timer_;
  std::size_t& in_flight_;
};

}  // namespace ballot::gateway
