// Leader election on the lock service: three replicas of Ballot's service
// machine in one CAF actor system, and three participants (threads of the same
// program, each with its own session) campaigning for "scheduler".
//
// Run it (about two seconds; exits 0 if every step behaved):
//
//     cmake --build build --target leader_election_example
//     ./build/bin/leader_election_example
//
// The participants campaign one after the other; the first one leads, works
// with its term (the fencing token of its grant) and resigns; the next one in
// the queue takes over with a higher term, and so on. The last leader then
// hangs (its keep-alives stop): its session expires, which ends its
// leadership (its callback says so) and deletes the leader key. An observer
// prints every change of leader as it happens.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "caf/all.hpp"

#include "actors/lock/election.hpp"
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

/// What the participants record to check the recipe's promises at the end.
struct record {
  std::mutex mtx;
  std::vector<std::uint64_t> terms;  ///< in the order the leaderships began
  std::atomic<int> leaders{0};       ///< leading right now
  std::atomic<bool> ok{true};
};

/// One participant: campaigns, leads for a while, then resigns (or, if it is
/// `hangs`, stops its keep-alives and waits to lose the leadership).
void participant(lock::lock_client& client, const std::string& name, bool hangs, record& rec) {
  // A short TTL for the one that hangs, so the example ends soon.
  auto [opened, s] = client.open_session(hangs ? 600ms : 2s);
  if (!opened.ok()) {
    say(name + ": no session: " + opened.message);
    rec.ok = false;
    return;
  }
  std::promise<void> lost;
  lock::election e{
    client, "scheduler", [&](std::uint64_t term, const std::string& why) {
      say(name + " lost the leadership of term " + std::to_string(term) + ": " + why);
      rec.leaders--;
      lost.set_value();
    }};
  say(name + " campaigns");
  auto won = e.campaign(*s, name, 10s);
  if (!won.ok()) {
    say(name + ": campaign failed: " + lock::to_string(won.status) + " " + won.message);
    rec.ok = false;
    return;
  }
  if (++rec.leaders != 1) {
    say(name + ": two leaders at once!");
    rec.ok = false;
  }
  {
    std::lock_guard<std::mutex> guard{rec.mtx};
    rec.terms.push_back(won.token);
  }
  say(name + " leads, term " + std::to_string(won.token));
  // The leader's work: every write downstream carries the term, and the
  // downstream side accepts it only while it is current.
  for (int batch = 1; batch <= 3; ++batch) {
    auto current = client.check_token(e.lock_name(), e.term());
    say("  " + name + " writes batch " + std::to_string(batch) + " with term " +
        std::to_string(won.token) + ": " + (current.ok() ? "accepted" : "refused"));
    rec.ok = rec.ok && current.ok();
    std::this_thread::sleep_for(100ms);
  }
  if (hangs) {
    say(name + " hangs (its keep-alives stop)");
    s->stop_keep_alive();
    if (lost.get_future().wait_for(5s) != std::future_status::ready) {
      say(name + ": still leading after its session's TTL!");
      rec.ok = false;
    }
    // The participant gave up first (its lease could no longer be confirmed);
    // the service expires the session right after, and from then on a write
    // with the old term is refused downstream.
    auto until = std::chrono::steady_clock::now() + 3s;
    auto stale = client.check_token(e.lock_name(), won.token);
    while (stale.ok() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(20ms);
      stale = client.check_token(e.lock_name(), won.token);
    }
    say("  " + name + " tries a write with term " + std::to_string(won.token) + ": " +
        (stale.ok() ? "accepted" : "refused"));
    rec.ok = rec.ok && stale.status == lock::call_status::stale;
    return;
  }
  rec.leaders--;
  auto resigned = e.resign();
  say(name + " resigns: " + lock::to_string(resigned.status));
  rec.ok = rec.ok && resigned.ok();
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

  record rec;
  {
    lock::lock_client client{sys, group, std::random_device{}()};

    // The observer needs no session: it reads and watches the leader key.
    lock::election observer{client, "scheduler"};
    auto observing = observer.observe([](const std::optional<std::string>& leader) {
      say("observer: " + (leader ? "the leader is " + *leader : std::string{"nobody leads"}));
    });
    if (!observing.result.ok()) {
      std::cout << "FAILED: cannot observe: " << observing.result.message << "\n";
      return 1;
    }

    // They queue in this order (FIFO), so each one takes over from the previous.
    std::vector<std::string> names{"node-a", "node-b", "node-c"};
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < names.size(); ++i) {
      bool last = i + 1 == names.size();
      threads.emplace_back(
        [&client, &rec, name = names[i], last] { participant(client, name, last, rec); });
      std::this_thread::sleep_for(50ms);
    }
    for (auto& t : threads)
      t.join();
    std::this_thread::sleep_for(100ms);  // let the observer print the last change
    auto now = observer.leader();
    say(std::string{"leader at the end: "} +
        (now.ok() ? now.value : std::string{lock::to_string(now.status)}));
    rec.ok = rec.ok && now.status == lock::call_status::not_found;
  }

  for (auto& [id, replica] : group)
    caf::anon_send_exit(replica, caf::exit_reason::user_shutdown);
  bool increasing = rec.terms.size() == 3;
  for (std::size_t i = 1; i < rec.terms.size(); ++i)
    increasing = increasing && rec.terms[i] > rec.terms[i - 1];
  if (!increasing)
    std::cout << "terms did not strictly increase\n";
  bool ok = rec.ok && increasing;
  std::cout << (ok ? "all steps behaved" : "FAILED") << "\n";
  return ok ? 0 : 1;
}
