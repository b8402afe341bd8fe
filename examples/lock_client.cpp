// The embedded lock client: three replicas of Ballot's service machine (the
// key/value API and the lock service over one key namespace) in one CAF actor
// system, and a CAF program that talks to them directly (no network, no
// Cap'n Proto).
//
// Run it (about a second; exits 0 if every step behaved):
//
//     cmake --build build --target lock_client_example
//     ./build/bin/lock_client_example
//
// It opens two sessions (kept alive in the background), takes a lock and
// prints its fencing token, shows another session's try-lock refused, hands
// the lock over to a blocking waiter on unlock (a higher token), checks which
// token is still current, and watches a prefix while a session writes an
// ephemeral key and then closes, which deletes the key.

#include <chrono>
#include <cstdint>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "caf/all.hpp"

#include "actors/lock/lock_client.hpp"
#include "actors/replica/replica_actor.hpp"
#include "actors/replica/type_ids.hpp"
#include "actors/service/service_machine.hpp"

using namespace ballot;
using namespace std::chrono_literals;

namespace {

std::mutex out_mtx;

void say(const std::string& line) {
  std::lock_guard<std::mutex> guard{out_mtx};
  std::cout << line << std::endl;
}

/// Prints one step and whether it went as expected.
bool step(const std::string& what, const lock::call_result& r, lock::call_status expected) {
  std::string line = what + " -> " + lock::to_string(r.status);
  if (r.token != 0)
    line += " token=" + std::to_string(r.token);
  if (r.revision != 0)
    line += " revision=" + std::to_string(r.revision);
  if (!r.message.empty())
    line += " (" + r.message + ")";
  say(line);
  return r.status == expected;
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

  // Three replicas of the service machine; they elect a leader by themselves.
  actors::peer_map group;
  for (paxos::node_id id : {1, 2, 3}) {
    actors::replica_options opts;
    opts.paxos.id = id;
    opts.paxos.members = {1, 2, 3};
    opts.paxos.seed = id;
    opts.tick_interval = 10ms;
    opts.make_state_machine = [] { return std::make_unique<service::service_machine>(); };
    group[id] = actors::spawn_replica(sys, opts);
  }
  actors::introduce(group);

  bool ok = true;
  {
    using lock::call_status;
    using lock::lock_mode;
    // A random client id: the replicas deduplicate retries per (client, seq).
    lock::lock_client client{sys, group, std::random_device{}()};

    auto [opened_a, alice] = client.open_session(2s);
    auto [opened_b, bob] = client.open_session(2s);
    ok &= step("open session alice", opened_a, call_status::ok);
    ok &= step("open session bob", opened_b, call_status::ok);
    if (!alice || !bob) {
      std::cout << "FAILED: no session\n";
      return 1;
    }

    // A watch on "app/" from now on: every change, in commit order.
    auto watch = client.watch("app/", lock::lock_client::from_now, [](const lock::event& e) {
      say("  watch: revision " + std::to_string(e.revision) + " " +
          (e.type == lock::event_type::put ? "put " + e.key + "=" + e.value : "delete " + e.key));
    });

    auto first = alice->lock("reports", lock_mode::exclusive, 1s);
    ok &= step("alice lock reports", first, call_status::ok);
    ok &= step("bob try_lock reports", bob->try_lock("reports"), call_status::busy);

    // Bob waits (up to 5 s) in the lock's queue; alice's unlock hands it over.
    auto waiting = std::async(
      std::launch::async, [b = bob.get()] { return b->lock("reports", lock_mode::exclusive, 5s); });
    std::this_thread::sleep_for(100ms);
    ok &= step("alice unlock reports", alice->unlock("reports"), call_status::ok);
    auto second = waiting.get();
    ok &= step("bob lock reports (waited)", second, call_status::ok);
    ok &= second.token > first.token;

    // A downstream service asks which token is current before accepting a write.
    ok &= step("check alice's token " + std::to_string(first.token),
               client.check_token("reports", first.token), call_status::stale);
    ok &= step("check bob's token " + std::to_string(second.token),
               client.check_token("reports", second.token), call_status::ok);
    ok &= step("bob unlock reports", bob->unlock("reports"), call_status::ok);

    // Ephemeral keys live as long as their session.
    ok &= step("alice put app/owner=alice (ephemeral)", alice->put("app/owner", "alice"),
               call_status::ok);
    auto got = client.get("app/owner");
    ok &= step("get app/owner = '" + got.value + "'", got, call_status::ok);
    ok &= step("alice close session", alice->close(), call_status::ok);
    ok &= step("get app/owner", client.get("app/owner"), call_status::not_found);

    // Give the watch a moment to print the delete, then stop it.
    std::this_thread::sleep_for(150ms);
    ok &= watch->revision() >= got.revision + 1;
    watch.reset();
  }

  for (auto& [id, replica] : group)
    caf::anon_send_exit(replica, caf::exit_reason::user_shutdown);
  std::cout << (ok ? "all steps behaved" : "FAILED") << "\n";
  return ok ? 0 : 1;
}
