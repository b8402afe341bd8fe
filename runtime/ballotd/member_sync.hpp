#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "caf/actor.hpp"

#include "actors/paxos/membership.hpp"
#include "runtime/ballotd/client_service.hpp"
#include "runtime/ballotd/options.hpp"
#include "runtime/gateway/member_roster.hpp"

namespace ballot::peer {
class peer_service;
}

/// Keeps the peer port, the replica's peer map, the gateway's directory and
/// its roster in step with the membership the replica applied
/// (replica_options::on_members). The replica calls in from its own thread,
/// possibly before the peer port exists: the last roster waits until
/// `attach`.
namespace ballot::ballotd {

class member_sync {
 public:
  /// `known` are peer addresses of members whose configuration entry has
  /// none (the bootstrap members: --peers, or what --join learnt).
  member_sync(std::uint32_t self, std::map<std::uint32_t, endpoint> known,
              std::shared_ptr<replica_directory> directory,
              std::shared_ptr<gateway::member_roster> roster);

  /// The membership changed (on the replica's thread).
  void on_members(const std::map<paxos::node_id, paxos::member>& members);

  /// The peer port and the local replica exist now: applies what waited.
  void attach(peer::peer_service* peers, caf::actor replica);
  /// Before the peer port stops.
  void detach();

 private:
  void apply_locked(const std::map<paxos::node_id, paxos::member>& members);

  std::uint32_t self_;
  std::map<std::uint32_t, endpoint> known_;
  std::shared_ptr<replica_directory> directory_;
  std::shared_ptr<gateway::member_roster> roster_;
  std::mutex mutex_;
  peer::peer_service* peers_ = nullptr;
  caf::actor replica_;
  std::optional<std::map<paxos::node_id, paxos::member>> waiting_;
  /// The peer addresses last given to the peer port (it only grows: see
  /// apply_locked).
  std::map<std::uint32_t, std::pair<std::string, std::uint16_t>> applied_;
};

}  // namespace ballot::ballotd
