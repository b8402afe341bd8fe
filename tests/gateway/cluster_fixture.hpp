#pragma once

// Three kv_store replicas on CAF's real scheduler (short ticks), each fronted
// by its own gateway on an ephemeral 127.0.0.1 port. Every wait in the tests
// is bounded: clients have timeouts, and the fixture's own waits poll with a
// deadline.

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "caf/all.hpp"

#include "actors/replica/replica_actor.hpp"
#include "runtime/client/client.hpp"
#include "runtime/gateway/gateway.hpp"
#include "tests/support/replica_cluster_fixture.hpp"

namespace ballot::test_support {

using namespace std::chrono_literals;

class ClusterFixture : public ReplicaClusterFixture {
 protected:
  ~ClusterFixture() override {
    // The gateways stop before the replicas they front, which the base's
    // destructor stops.
    gateways.clear();
    for (auto& [id, relay] : relays)
      relay->listen(nullptr);
  }

  gateway::options gateway_options(paxos::node_id id) {
    gateway::options opts;
    opts.host = "127.0.0.1";
    opts.port = 0;
    opts.self = id;
    opts.members = {1, 2, 3};
    opts.request_timeout = 2s;
    opts.hop_timeout = 500ms;
    opts.status_timeout = 200ms;
    opts.drain_timeout = 500ms;
    opts.watch_poll = 200ms;
    auto& feed = feeds[id];
    if (!feed) {
      feed = std::make_shared<gateway::change_feed>();
      relays.at(id)->listen([feed](const service::change& c) { feed->publish(c); });
    }
    opts.feed = feed;
    return opts;
  }

  /// Starts a gateway in front of replica `id` (on an ephemeral port).
  gateway::server& start_gateway(paxos::node_id id) {
    gateways[id] = gateway::start(sys, gateway_options(id), gateway::find_in(group));
    return *gateways[id];
  }

  void start_all_gateways() {
    for (paxos::node_id id : {1, 2, 3})
      start_gateway(id);
  }

  std::string endpoint_of(paxos::node_id id) { return gateways.at(id)->endpoint(); }

  std::unique_ptr<client::client> make_client(std::vector<std::string> endpoints,
                                              std::chrono::milliseconds timeout = 5s) {
    client::options opts;
    opts.endpoints = std::move(endpoints);
    opts.timeout = timeout;
    opts.attempt_timeout = std::min<std::chrono::milliseconds>(timeout, 1s);
    return std::make_unique<client::client>(opts);
  }

  /// The replicas' own view (for picking a leader or a follower to test).
  std::map<paxos::node_id, actors::replica_status> statuses() {
    caf::scoped_actor self{sys};
    std::map<paxos::node_id, actors::replica_status> out;
    for (auto& [id, replica] : group)
      self->request(replica, 500ms, actors::status_atom_v)
        .receive([&](actors::replica_status& st) { out[st.id] = st; }, [](caf::error&) {});
    return out;
  }

  /// Waits (at most 5 s) until some replica leads; returns its id or 0.
  paxos::node_id await_leader() {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      for (auto& [id, st] : statuses())
        if (st.is_leader)
          return id;
      std::this_thread::sleep_for(10ms);
    }
    return 0;
  }

  std::map<paxos::node_id, std::unique_ptr<gateway::server>> gateways;
  std::map<paxos::node_id, std::shared_ptr<gateway::change_feed>> feeds;
};

}  // namespace ballot::test_support
