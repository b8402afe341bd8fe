#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "actors/paxos/types.hpp"

namespace ballot::gateway {

/// The members as this node's replica last applied them (ballotd keeps it
/// current from replica_options::on_members): whom `status` probes, their
/// client endpoints for leader hints, and which of them are learners. Shared
/// between the replica's thread (writer) and the bridge and gateway (readers).
class member_roster {
 public:
  struct entry {
    std::string client;  ///< "host:port", "" when the membership does not say
    bool learner = false;
  };

  void set(std::map<paxos::node_id, entry> members) {
    std::lock_guard<std::mutex> guard{mutex_};
    members_ = std::move(members);
  }

  std::map<paxos::node_id, entry> get() const {
    std::lock_guard<std::mutex> guard{mutex_};
    return members_;
  }

 private:
  mutable std::mutex mutex_;
  std::map<paxos::node_id, entry> members_;
};

}  // namespace ballot::gateway
