#pragma once

// Three kv_store replicas on CAF's real scheduler with short ticks, and
// nothing in front of them: the base of the fixtures that talk to the
// replicas directly (the embedded kv client) or through gateways.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include "caf/all.hpp"

#include "actors/kv/kv_store.hpp"
#include "actors/replica/replica_actor.hpp"
#include "actors/replica/type_ids.hpp"

namespace ballot::test_support {

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
      opts.make_state_machine = [] { return std::make_unique<kv::kv_store>(); };
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
};

}  // namespace ballot::test_support
