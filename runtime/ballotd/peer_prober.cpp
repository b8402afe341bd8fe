#include "runtime/ballotd/peer_prober.hpp"

#include <map>

#include "caf/all.hpp"

#include "actors/replica/type_ids.hpp"
#include "runtime/ballotd/client_service.hpp"

namespace ballot::ballotd {

namespace {

using probe_atom = caf::atom_constant<caf::atom("pr_probe")>;

struct prober_state {
  static inline const char* name = "ballot.peer_prober";
  std::shared_ptr<replica_directory> dir;
  std::vector<std::uint32_t> peers;
  peer_report report;
  caf::timespan interval{0};
  /// Peers with a probe out: never two at once for one peer.
  std::map<std::uint32_t, bool> in_flight;
};

using prober = caf::stateful_actor<prober_state>*;

void probe_all(prober self) {
  auto& st = self->state;
  for (auto id : st.peers) {
    if (st.in_flight[id])
      continue;
    auto dest = st.dir->find(id);
    if (!dest) {
      st.report(id, std::nullopt);
      continue;
    }
    st.in_flight[id] = true;
    auto sent = std::chrono::steady_clock::now();
    // The interval is the timeout too: an answer later than the next probe
    // is as good as none.
    self->request<caf::message_priority::high>(dest, st.interval, actors::status_atom_v)
      .then(
        [self, id, sent](actors::replica_status&) {
          self->state.in_flight[id] = false;
          self->state.report(id, std::chrono::steady_clock::now() - sent);
        },
        [self, id](caf::error&) {
          self->state.in_flight[id] = false;
          self->state.report(id, std::nullopt);
        });
  }
}

caf::behavior peer_prober(prober self, std::shared_ptr<replica_directory> dir,
                          std::vector<std::uint32_t> peers, peer_report report,
                          caf::timespan interval) {
  auto& st = self->state;
  st.dir = std::move(dir);
  st.peers = std::move(peers);
  st.report = std::move(report);
  st.interval = interval;
  self->send(self, probe_atom::value);
  return {
    [self](probe_atom) {
      probe_all(self);
      self->delayed_send(self, self->state.interval, probe_atom::value);
    },
  };
}

}  // namespace

caf::actor spawn_peer_prober(caf::actor_system& sys, std::shared_ptr<replica_directory> dir,
                             std::vector<std::uint32_t> peers, peer_report report,
                             std::chrono::milliseconds interval) {
  return sys.spawn(peer_prober, std::move(dir), std::move(peers), std::move(report),
                   caf::timespan{interval});
}

}  // namespace ballot::ballotd
