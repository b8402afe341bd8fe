#include "runtime/ballotd/member_sync.hpp"

#include "caf/send.hpp"

#include "actors/replica/type_ids.hpp"
#include "runtime/log/log.hpp"
#include "runtime/peer/peer_service.hpp"

namespace ballot::ballotd {

member_sync::member_sync(std::uint32_t self, std::map<std::uint32_t, endpoint> known,
                         std::shared_ptr<replica_directory> directory,
                         std::shared_ptr<gateway::member_roster> roster)
    : self_(self),
      known_(std::move(known)),
      directory_(std::move(directory)),
      roster_(std::move(roster)) {}

void member_sync::on_members(const std::map<paxos::node_id, paxos::member>& members) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (peers_ == nullptr) {
    waiting_ = members;
    return;
  }
  apply_locked(members);
}

void member_sync::attach(peer::peer_service* peers, caf::actor replica) {
  std::lock_guard<std::mutex> guard{mutex_};
  peers_ = peers;
  replica_ = std::move(replica);
  if (waiting_) {
    apply_locked(*waiting_);
    waiting_.reset();
  }
}

void member_sync::detach() {
  std::lock_guard<std::mutex> guard{mutex_};
  peers_ = nullptr;
}

void member_sync::apply_locked(const std::map<paxos::node_id, paxos::member>& members) {
  std::map<std::uint32_t, std::pair<std::string, std::uint16_t>> wanted;
  std::map<paxos::node_id, gateway::member_roster::entry> roles;
  for (auto& [id, m] : members) {
    auto where = parse_endpoint(m.peer);
    if (!where)
      if (auto it = known_.find(id); it != known_.end())
        where = it->second;
    if (where)
      wanted[id] = {where->host, where->port};
    else
      logging::warn("member " + std::to_string(id) + " has no peer address this node knows",
                    {{"event", "member_unreachable"}, {"member", id}});
    roles[id] = {m.client, m.role == paxos::member_role::learner};
  }
  // Members that left stay reachable until this node restarts: a removed
  // member that missed the end of its membership learns it by catch-up
  // from us (RECONFIGURATION.md), and its votes are never counted anyway.
  for (auto& [id, where] : applied_)
    wanted.emplace(id, where);
  // This node listens where it listens, whatever the membership says.
  if (auto it = known_.find(self_); it != known_.end())
    wanted[self_] = {it->second.host, it->second.port};
  roster_->set(std::move(roles));
  if (wanted == applied_)
    return;
  applied_ = wanted;
  auto map = peers_->set_members(wanted);
  map.emplace(self_, replica_);
  directory_->set(map);
  caf::anon_send(replica_, actors::peers_atom_v, std::move(map));
}

}  // namespace ballot::ballotd
