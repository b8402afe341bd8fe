#pragma once

#include <kj/memory.h>

#include "runtime/gateway/connection_context.hpp"
#include "runtime/gateway/gateway_metrics.hpp"
#include "runtime/gateway/service.hpp"
#include "schemas/client.capnp.h"

namespace ballot::gateway {

/// The `Ballot` capability one connection bootstraps: a thin front of the
/// gateway's one shared `service` (which holds the limits, the in-flight
/// budget and the watch machinery for all connections) that owns the
/// connection's `connection_context` and passes it to every call. The shared
/// state stays in one place; what differs per connection is only who calls.
class connection_service final : public schemas::client::Ballot::Server {
 public:
  /// Holds a reference to `shared` for as long as it lives.
  connection_service(service& shared, kj::Own<connection_context> context);

  /// Who is on this connection (tests and the gateway itself read it).
  connection_context& context() { return *context_; }

  kj::Promise<void> put(PutContext call) override;
  kj::Promise<void> get(GetContext call) override;
  kj::Promise<void> delete_(DeleteContext call) override;
  kj::Promise<void> list(ListContext call) override;
  kj::Promise<void> status(StatusContext call) override;
  kj::Promise<void> openSession(OpenSessionContext call) override;
  kj::Promise<void> keepAlive(KeepAliveContext call) override;
  kj::Promise<void> closeSession(CloseSessionContext call) override;
  kj::Promise<void> acquire(AcquireContext call) override;
  kj::Promise<void> release(ReleaseContext call) override;
  kj::Promise<void> checkToken(CheckTokenContext call) override;
  kj::Promise<void> lockInfo(LockInfoContext call) override;
  kj::Promise<void> putEphemeral(PutEphemeralContext call) override;
  kj::Promise<void> watch(WatchContext call) override;
  kj::Promise<void> authenticate(AuthenticateContext call) override;
  kj::Promise<void> authChange(AuthChangeContext call) override;
  kj::Promise<void> authList(AuthListContext call) override;
  kj::Promise<void> whoAmI(WhoAmIContext call) override;
  kj::Promise<void> snapshot(SnapshotContext call) override;
  kj::Promise<void> memberList(MemberListContext call) override;
  kj::Promise<void> memberChange(MemberChangeContext call) override;

 private:
  /// Runs the call; with metrics, counts its answer by operation and result
  /// and times it.
  template <class Context, class Run>
  kj::Promise<void> counted(gateway_metrics::op o, Context call, Run run);

  kj::Own<service> shared_;
  kj::Own<connection_context> context_;
};

}  // namespace ballot::gateway
