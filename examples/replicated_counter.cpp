// This example runs three Ballot replicas, each an actor around the Multi-Paxos
// core with its own key/value state machine, in one CAF actor system. A client
// waits for a leader, sends a few commands to the replicas in turn (a follower
// answers not_leader and names the leader, where the client retries), prints
// the committed log of every replica, and exits 0 if the logs are identical.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "caf/all.hpp"

#include "actors/replica/kv_state_machine.hpp"
#include "actors/replica/replica_actor.hpp"
#include "actors/replica/type_ids.hpp"

using namespace ballot;
using namespace std::chrono_literals;

namespace {

/// Blocking request with a timeout: a scoped_actor is fine for a demo client.
template <class T, class... Ts>
std::optional<T> ask(caf::scoped_actor& self, const caf::actor& dest, Ts... xs) {
  std::optional<T> result;
  self->request(dest, 1s, xs...).receive([&](T& x) { result = std::move(x); }, [](caf::error&) {});
  return result;
}

/// Polls the status of every replica until `done(statuses)` holds (for at most 2 s).
template <class Predicate>
bool await(caf::scoped_actor& self, const actors::peer_map& group, Predicate done) {
  for (int attempt = 0; attempt < 200; ++attempt, std::this_thread::sleep_for(10ms)) {
    std::vector<actors::replica_status> all;
    for (auto& [id, replica] : group)
      if (auto st = ask<actors::replica_status>(self, replica, actors::status_atom_v))
        all.push_back(*st);
    if (all.size() == group.size() && done(all))
      return true;
  }
  return false;
}

/// Sends `cmd` to replica `at`, following leader hints until it applies.
std::optional<paxos::client_reply> propose(caf::scoped_actor& self, const actors::peer_map& group,
                                           paxos::node_id at, const paxos::command& cmd) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto reply = ask<paxos::client_reply>(self, group.at(at), actors::propose_atom_v, cmd);
    if (reply && reply->status == paxos::reply_status::ok)
      return reply;
    if (reply && reply->leader_hint) {
      std::cout << "  replica " << at << " is not the leader, retrying at " << *reply->leader_hint
                << "\n";
      at = *reply->leader_hint;
    } else {
      std::this_thread::sleep_for(20ms);  // no leader known yet: let an election finish
    }
  }
  return std::nullopt;
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
    opts.tick_interval = 10ms;
    opts.make_state_machine = [] { return std::make_unique<actors::kv_state_machine>(); };
    group[id] = actors::spawn_replica(sys, opts);
  }
  actors::introduce(group);

  bool ok = false;
  {
    caf::scoped_actor self{sys};
    auto has_leader = [](auto& all) {
      return std::any_of(all.begin(), all.end(), [](auto& st) { return st.is_leader; });
    };
    if (await(self, group, has_leader)) {
      std::vector<std::string> payloads{"add counter 1", "add counter 2",
                                        "put greeting hello, world", "add counter 3",
                                        "get greeting"};
      ok = true;
      for (std::uint64_t seq = 1; seq <= payloads.size(); ++seq) {
        auto at = static_cast<paxos::node_id>(seq % 3 + 1);  // any replica will do
        std::cout << "propose '" << payloads[seq - 1] << "' at replica " << at << "\n";
        auto reply = propose(self, group, at, {1, seq, payloads[seq - 1]});
        ok = ok && reply;
        std::cout << "  -> " << (reply ? reply->result : "no answer") << "\n";
      }
      // Followers learn the commit index with the leader's next heartbeat.
      await(self, group, [&](auto& all) {
        return std::all_of(all.begin(), all.end(),
                           [&](auto& st) { return st.commit_index >= payloads.size(); });
      });
      std::string first;
      for (auto& [id, replica] : group) {
        auto log = ask<std::vector<paxos::chosen_entry>>(self, replica, actors::log_atom_v);
        std::cout << "replica " << id << " log:";
        for (auto& entry : log.value_or(std::vector<paxos::chosen_entry>{}))
          for (auto& c : entry.val.commands)
            std::cout << " [" << entry.slot << "] " << c.payload.str() << ";";
        std::cout << "\n";
        auto text = caf::deep_to_string(log.value_or(std::vector<paxos::chosen_entry>{}));
        first = first.empty() ? text : first;
        ok = ok && log && log->size() == payloads.size() && text == first;
      }
    }
  }
  for (auto& [id, replica] : group)
    caf::anon_send_exit(replica, caf::exit_reason::user_shutdown);
  std::cout << (ok ? "all replicas agree" : "FAILED") << "\n";
  return ok ? 0 : 1;
}
