#include "runtime/gateway/connection_service.hpp"

namespace ballot::gateway {

connection_service::connection_service(service& shared, kj::Own<connection_context> context)
    : shared_(kj::addRef(shared)), context_(kj::mv(context)) {}

kj::Promise<void> connection_service::put(PutContext call) {
  return shared_->put(*context_, call);
}

kj::Promise<void> connection_service::get(GetContext call) {
  return shared_->get(*context_, call);
}

kj::Promise<void> connection_service::delete_(DeleteContext call) {
  return shared_->delete_(*context_, call);
}

kj::Promise<void> connection_service::list(ListContext call) {
  return shared_->list(*context_, call);
}

kj::Promise<void> connection_service::status(StatusContext call) {
  return shared_->status(*context_, call);
}

kj::Promise<void> connection_service::openSession(OpenSessionContext call) {
  return shared_->openSession(*context_, call);
}

kj::Promise<void> connection_service::keepAlive(KeepAliveContext call) {
  return shared_->keepAlive(*context_, call);
}

kj::Promise<void> connection_service::closeSession(CloseSessionContext call) {
  return shared_->closeSession(*context_, call);
}

kj::Promise<void> connection_service::acquire(AcquireContext call) {
  return shared_->acquire(*context_, call);
}

kj::Promise<void> connection_service::release(ReleaseContext call) {
  return shared_->release(*context_, call);
}

kj::Promise<void> connection_service::checkToken(CheckTokenContext call) {
  return shared_->checkToken(*context_, call);
}

kj::Promise<void> connection_service::lockInfo(LockInfoContext call) {
  return shared_->lockInfo(*context_, call);
}

kj::Promise<void> connection_service::putEphemeral(PutEphemeralContext call) {
  return shared_->putEphemeral(*context_, call);
}

kj::Promise<void> connection_service::watch(WatchContext call) {
  return shared_->watch(*context_, call);
}

kj::Promise<void> connection_service::authenticate(AuthenticateContext call) {
  return shared_->authenticate(*context_, call);
}

kj::Promise<void> connection_service::authChange(AuthChangeContext call) {
  return shared_->authChange(*context_, call);
}

kj::Promise<void> connection_service::authList(AuthListContext call) {
  return shared_->authList(*context_, call);
}

kj::Promise<void> connection_service::whoAmI(WhoAmIContext call) {
  return shared_->whoAmI(*context_, call);
}

}  // namespace ballot::gateway
