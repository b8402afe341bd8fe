#include "runtime/ballotd/peer_connector.hpp"

#include <chrono>
#include <set>
#include <string>

#include "caf/all.hpp"
#include "caf/io/middleman.hpp"

#include "actors/replica/type_ids.hpp"

namespace ballot::ballotd {

namespace {

using namespace std::chrono_literals;

constexpr caf::timespan first_backoff = 100ms;
constexpr caf::timespan max_backoff = 2s;
constexpr caf::timespan connect_timeout = 3s;

struct peer {
  endpoint where;
  caf::actor handle;
  caf::timespan backoff = first_backoff;
  bool connecting = false;
};

struct connector_state {
  static inline const char* name = "ballot.peer_connector";
  caf::actor local;
  std::uint32_t self_id = 0;
  std::map<std::uint32_t, peer> peers;
  std::function<void(const actors::peer_map&)> on_change;
};

using connector = caf::stateful_actor<connector_state>*;

void publish_map(connector self) {
  actors::peer_map map;
  map.emplace(self->state.self_id, self->state.local);
  for (auto& [id, p] : self->state.peers)
    if (p.handle)
      map.emplace(id, p.handle);
  if (self->state.on_change)
    self->state.on_change(map);
  self->send(self->state.local, actors::peers_atom_v, std::move(map));
}

void retry_later(connector self, std::uint32_t id) {
  auto& p = self->state.peers.at(id);
  self->delayed_send(self, p.backoff, caf::connect_atom_v, id);
  p.backoff = std::min(p.backoff * 2, max_backoff);
}

void connect(connector self, std::uint32_t id) {
  auto& p = self->state.peers.at(id);
  if (p.handle || p.connecting)
    return;
  p.connecting = true;
  auto mm = self->system().middleman().actor_handle();
  self->request(mm, connect_timeout, caf::connect_atom_v, p.where.host, p.where.port)
    .then(
      [self, id](const caf::node_id&, caf::strong_actor_ptr remote, const std::set<std::string>&) {
        auto& p = self->state.peers.at(id);
        p.connecting = false;
        if (!remote) {
          retry_later(self, id);
          return;
        }
        p.handle = caf::actor_cast<caf::actor>(remote);
        p.backoff = first_backoff;
        self->monitor(p.handle);
        publish_map(self);
      },
      [self, id](const caf::error&) {
        self->state.peers.at(id).connecting = false;
        retry_later(self, id);
      });
}

caf::behavior peer_connector(connector self, caf::actor local, std::uint32_t self_id,
                             std::map<std::uint32_t, endpoint> peers,
                             std::function<void(const actors::peer_map&)> on_change) {
  self->state.local = std::move(local);
  self->state.on_change = std::move(on_change);
  self->state.self_id = self_id;
  for (auto& [id, where] : peers)
    if (id != self_id)
      self->state.peers.emplace(id, peer{where, {}, first_backoff, false});
  // The connector lives as long as the replica it serves.
  self->link_to(self->state.local);
  self->set_down_handler([self](caf::down_msg& dm) {
    for (auto& [id, p] : self->state.peers) {
      if (p.handle && p.handle.address() == dm.source) {
        p.handle = nullptr;
        publish_map(self);
        retry_later(self, id);
      }
    }
  });
  for (auto& [id, p] : self->state.peers)
    connect(self, id);
  publish_map(self);
  return {
    [self](caf::connect_atom, std::uint32_t id) { connect(self, id); },
  };
}

}  // namespace

caf::actor spawn_peer_connector(caf::actor_system& sys, const caf::actor& local,
                                std::uint32_t self_id,
                                const std::map<std::uint32_t, endpoint>& peers,
                                std::function<void(const actors::peer_map&)> on_change) {
  return sys.spawn(peer_connector, local, self_id, peers, std::move(on_change));
}

}  // namespace ballot::ballotd
