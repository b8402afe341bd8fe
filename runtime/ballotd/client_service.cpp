#include "runtime/ballotd/client_service.hpp"

#include <exception>

#include "caf/actor.hpp"

#include "runtime/gateway/gateway.hpp"

namespace ballot::ballotd {

caf::actor replica_directory::find(std::uint32_t id) const {
  std::lock_guard<std::mutex> guard{mutex_};
  auto it = map_.find(id);
  return it == map_.end() ? caf::actor{} : it->second;
}

client_service::client_service() = default;

client_service::~client_service() {
  stop();
}

std::optional<std::string> client_service::start(caf::actor_system& sys, const options& opts,
                                                 std::uint32_t self,
                                                 std::shared_ptr<replica_directory> dir,
                                                 std::shared_ptr<gateway::change_feed> feed) {
  gateway::options gw;
  gw.host = opts.client.host;
  gw.port = opts.client.port;
  gw.self = self;
  gw.feed = std::move(feed);
  if (opts.embedded) {
    gw.members = {1, 2, 3};
  } else {
    for (auto& [id, where] : opts.peers)
      gw.members.push_back(id);
  }
  gw.client_endpoints[self] = opts.client.to_string();
  try {
    server_ = gateway::start(sys, gw, [dir](paxos::node_id id) { return dir->find(id); });
  } catch (const std::exception& e) {
    return std::string{e.what()};
  }
  return std::nullopt;
}

void client_service::stop() {
  if (server_)
    server_->stop();
  server_.reset();
}

std::string client_service::bound() const {
  return server_ ? server_->endpoint() : std::string{};
}

}  // namespace ballot::ballotd
