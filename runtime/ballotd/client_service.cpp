#include "runtime/ballotd/client_service.hpp"

#include <sys/resource.h>

#include <algorithm>

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

namespace {

/// Every connection is a descriptor (plus the log's and the peers'): raise
/// the soft limit toward what the connection cap needs, up to the hard one.
void raise_descriptor_limit(std::size_t wanted) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= wanted)
    return;
  lim.rlim_cur = std::min<rlim_t>(lim.rlim_max, static_cast<rlim_t>(wanted));
  setrlimit(RLIMIT_NOFILE, &lim);
}

}  // namespace

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
  if (!opts.embedded)
    gw.max_forward_bytes = 64u << 10;
  gw.max_connections = static_cast<std::size_t>(opts.max_connections);
  gw.max_connections_per_address = static_cast<std::size_t>(opts.max_connections_per_address);
  raise_descriptor_limit(gw.max_connections + 256);
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
