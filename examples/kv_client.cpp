// This example starts three replicas of Ballot's key/value store (kv_store)
// in one CAF actor system and talks to them with the embedded client, which
// sends commands to the replica actors directly (no network, no Cap'n Proto).
// It writes a key, reads it back linearizably, does a compare-and-set that
// wins and one that loses on a stale version, creates a key only if absent,
// and lists the keys under a prefix. It exits 0 if every step behaved.

#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>

#include "caf/all.hpp"

#include "actors/kv/kv_client.hpp"
#include "actors/kv/kv_store.hpp"
#include "actors/replica/replica_actor.hpp"
#include "actors/replica/type_ids.hpp"

using namespace ballot;
using namespace std::chrono_literals;

namespace {

/// Prints one step and whether it went as expected.
bool step(const std::string& what, const kv::result& r, kv::result_code expected) {
  std::cout << what << " -> " << kv::to_string(r.code);
  if (r.ok() && !r.value.empty())
    std::cout << " value='" << r.value << "'";
  if (r.version != 0)
    std::cout << " version=" << r.version;
  if (!r.message.empty())
    std::cout << " (" << r.message << ")";
  std::cout << "\n";
  return r.code == expected;
}

}  // namespace

int main(int argc, char** argv) {
  caf::actor_system_config cfg;
  cfg.add_message_types<caf::id_block::ballot>();
  if (auto err = cfg.parse(argc, argv)) {
    std::cerr << caf::actor_system_config::render(err) << "\n";
    return 1;
  }
  caf::actor_system sys{cfg};

  // Three replicas, each with its own kv_store; they elect a leader by themselves.
  actors::peer_map group;
  for (paxos::node_id id : {1, 2, 3}) {
    actors::replica_options opts;
    opts.paxos.id = id;
    opts.paxos.members = {1, 2, 3};
    opts.tick_interval = 10ms;
    opts.make_state_machine = [] { return std::make_unique<kv::kv_store>(); };
    group[id] = actors::spawn_replica(sys, opts);
  }
  actors::introduce(group);

  bool ok = true;
  {
    // The client finds the leader from not_leader hints; any replica will do.
    kv::kv_client client{sys, group, /*client_id=*/1, 5s};
    using kv::result_code;

    auto first = client.put("config/db", "primary=a");
    ok &= step("put config/db", first, result_code::ok);
    ok &= step("get config/db", client.get("config/db"), result_code::ok);

    // Compare-and-set: succeeds at the version just read, fails at a stale one.
    auto cas = client.put("config/db", "primary=b", first.version);
    ok &= step("cas config/db at version " + std::to_string(first.version), cas, result_code::ok);
    ok &= step("cas config/db at stale version " + std::to_string(first.version),
               client.put("config/db", "primary=c", first.version), result_code::version_mismatch);

    // --if-version 0: create only.
    ok &= step("create config/cache", client.put("config/cache", "on", 0), result_code::ok);
    ok &= step("create config/cache again", client.put("config/cache", "off", 0),
               result_code::version_mismatch);

    auto listing = client.list("config/");
    ok &= step("list config/", listing, result_code::ok);
    for (auto& e : listing.entries)
      std::cout << "  " << e.key << " " << e.version << "\n";
    ok &= listing.entries.size() == 2;

    ok &= step("delete config/cache", client.del("config/cache"), result_code::ok);
    ok &= step("get config/cache", client.get("config/cache"), result_code::not_found);
  }

  for (auto& [id, replica] : group)
    caf::anon_send_exit(replica, caf::exit_reason::user_shutdown);
  std::cout << (ok ? "all steps behaved" : "FAILED") << "\n";
  return ok ? 0 : 1;
}
