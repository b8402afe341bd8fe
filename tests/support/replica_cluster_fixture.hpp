#pragma once

// Three service-machine replicas (key/value + lock service) on CAF's real
// scheduler with short ticks, and
// nothing in front of them: the base of the fixtures that talk to the
// replicas directly (the embedded kv client) or through gateways.

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "caf/all.hpp"

#include "actors/service/service_machine.hpp"
#include "actors/replica/replica_actor.hpp"
#include "actors/replica/type_ids.hpp"

namespace ballot::test_support {

/// Passes a replica's applied changes on to whoever listens (a gateway's
/// change feed), from the replica's thread; set the listener at any time.
class change_relay {
 public:
  void listen(std::function<void(const service::change&)> fn) {
    std::lock_guard<std::mutex> guard{mutex_};
    fn_ = std::move(fn);
  }
  void operator()(const service::change& c) {
    std::lock_guard<std::mutex> guard{mutex_};
    if (fn_)
      fn_(c);
  }

 private:
  std::mutex mutex_;
  std::function<void(const service::change&)> fn_;
};

class ReplicaClusterFixture : public ::testing::Test {
 protected:
  /// Quiet logs, a small scheduler, and the message types the replicas exchange.
  static caf::actor_system_config& configure(caf::actor_system_config& cfg) {
    cfg.set("logger.file-verbosity", caf::atom("quiet"));
    cfg.set("scheduler.max-threads", 2);
    cfg.add_message_types<caf::id_block::ballot>();
    return cfg;
  }

  ReplicaClusterFixture() : sys(configure(cfg)) {
    using namespace std::chrono_literals;
    for (paxos::node_id id : {1, 2, 3}) {
      actors::replica_options opts;
      opts.paxos.id = id;
      opts.paxos.members = {1, 2, 3};
      opts.paxos.seed = id;
      opts.tick_interval = 5ms;
      auto relay = std::make_shared<change_relay>();
      relays[id] = relay;
      opts.make_state_machine = [relay] {
        auto m = std::make_unique<service::service_machine>();
        m->set_observer([relay](const service::change& c) { (*relay)(c); });
        return m;
      };
      group[id] = actors::spawn_replica(sys, opts);
    }
    actors::introduce(group);
  }

  /// Stops the replicas; `sys` then waits for them as it is destroyed. A
  /// derived fixture stops whatever it put in front of them first.
  ~ReplicaClusterFixture() override {
    for (auto& [id, replica] : group)
      caf::anon_send_exit(replica, caf::exit_reason::user_shutdown);
  }

  caf::actor_system_config cfg;
  caf::actor_system sys;
  actors::peer_map group;
  std::map<paxos::node_id, std::shared_ptr<change_relay>> relays;
};

}  // namespace ballot::test_support
