#include "runtime/gateway/connection_service.hpp"

#include <chrono>
#include <type_traits>
#include <utility>

#include "runtime/gateway/gateway_metrics.hpp"

namespace ballot::gateway {

namespace {

/// Whether a call's results have a `result` union (whoAmI's do not).
template <class Results, class = void>
struct has_result : std::false_type {};
template <class Results>
struct has_result<Results, std::void_t<decltype(std::declval<Results&>().getResult())>>
    : std::true_type {};

}  // namespace

template <class Context, class Run>
kj::Promise<void> connection_service::counted(gateway_metrics::op o, Context call, Run run) {
  auto* m = shared_->metrics();
  if (m == nullptr)
    return run();
  auto started = std::chrono::steady_clock::now();
  return run().then(
    [m, o, call, started]() mutable {
      std::size_t result = 0;
      auto results = call.getResults();
      if constexpr (has_result<decltype(results)>::value) {
        auto r = results.getResult();
        if (r.isError())
          result = 1 + static_cast<std::size_t>(r.getError().which());
      }
      m->call_done(o, result, std::chrono::steady_clock::now() - started);
    },
    [m, o, started](kj::Exception&& e) {
      m->call_done(o, gateway_metrics::failed, std::chrono::steady_clock::now() - started);
      kj::throwFatalException(kj::mv(e));
    });
}

connection_service::connection_service(service& shared, kj::Own<connection_context> context)
    : shared_(kj::addRef(shared)), context_(kj::mv(context)) {}

kj::Promise<void> connection_service::put(PutContext call) {
  return counted(gateway_metrics::op::put, call, [&] { return shared_->put(*context_, call); });
}

kj::Promise<void> connection_service::get(GetContext call) {
  return counted(gateway_metrics::op::get, call, [&] { return shared_->get(*context_, call); });
}

kj::Promise<void> connection_service::delete_(DeleteContext call) {
  return counted(gateway_metrics::op::delete_, call,
                 [&] { return shared_->delete_(*context_, call); });
}

kj::Promise<void> connection_service::list(ListContext call) {
  return counted(gateway_metrics::op::list, call, [&] { return shared_->list(*context_, call); });
}

kj::Promise<void> connection_service::status(StatusContext call) {
  return counted(gateway_metrics::op::status, call,
                 [&] { return shared_->status(*context_, call); });
}

kj::Promise<void> connection_service::openSession(OpenSessionContext call) {
  return counted(gateway_metrics::op::open_session, call,
                 [&] { return shared_->openSession(*context_, call); });
}

kj::Promise<void> connection_service::keepAlive(KeepAliveContext call) {
  return counted(gateway_metrics::op::keep_alive, call,
                 [&] { return shared_->keepAlive(*context_, call); });
}

kj::Promise<void> connection_service::closeSession(CloseSessionContext call) {
  return counted(gateway_metrics::op::close_session, call,
                 [&] { return shared_->closeSession(*context_, call); });
}

kj::Promise<void> connection_service::acquire(AcquireContext call) {
  return counted(gateway_metrics::op::acquire, call,
                 [&] { return shared_->acquire(*context_, call); });
}

kj::Promise<void> connection_service::release(ReleaseContext call) {
  return counted(gateway_metrics::op::release, call,
                 [&] { return shared_->release(*context_, call); });
}

kj::Promise<void> connection_service::checkToken(CheckTokenContext call) {
  return counted(gateway_metrics::op::check_token, call,
                 [&] { return shared_->checkToken(*context_, call); });
}

kj::Promise<void> connection_service::lockInfo(LockInfoContext call) {
  return counted(gateway_metrics::op::lock_info, call,
                 [&] { return shared_->lockInfo(*context_, call); });
}

kj::Promise<void> connection_service::putEphemeral(PutEphemeralContext call) {
  return counted(gateway_metrics::op::put_ephemeral, call,
                 [&] { return shared_->putEphemeral(*context_, call); });
}

kj::Promise<void> connection_service::watch(WatchContext call) {
  auto* m = shared_->metrics();
  if (m == nullptr)
    return shared_->watch(*context_, call);
  m->watchers.add(1);
  return shared_->watch(*context_, call).attach(kj::defer([m] { m->watchers.add(-1); }));
}

kj::Promise<void> connection_service::authenticate(AuthenticateContext call) {
  return counted(gateway_metrics::op::authenticate, call,
                 [&] { return shared_->authenticate(*context_, call); });
}

kj::Promise<void> connection_service::authChange(AuthChangeContext call) {
  return counted(gateway_metrics::op::auth_change, call,
                 [&] { return shared_->authChange(*context_, call); });
}

kj::Promise<void> connection_service::authList(AuthListContext call) {
  return counted(gateway_metrics::op::auth_list, call,
                 [&] { return shared_->authList(*context_, call); });
}

kj::Promise<void> connection_service::whoAmI(WhoAmIContext call) {
  return counted(gateway_metrics::op::who_am_i, call,
                 [&] { return shared_->whoAmI(*context_, call); });
}

kj::Promise<void> connection_service::snapshot(SnapshotContext call) {
  return counted(gateway_metrics::op::snapshot, call,
                 [&] { return shared_->snapshot(*context_, call); });
}

kj::Promise<void> connection_service::memberList(MemberListContext call) {
  return counted(gateway_metrics::op::member_list, call,
                 [&] { return shared_->memberList(*context_, call); });
}

kj::Promise<void> connection_service::memberChange(MemberChangeContext call) {
  return counted(gateway_metrics::op::member_change, call,
                 [&] { return shared_->memberChange(*context_, call); });
}

}  // namespace ballot::gateway
