#include "actors/replica/group_caller.hpp"

#include <algorithm>
#include <optional>
#include <thread>
#include <utility>

#include "caf/actor.hpp"
#include "caf/actor_system.hpp"
#include "caf/scoped_actor.hpp"

#include "actors/replica/type_ids.hpp"

namespace ballot::actors {

namespace {

/// What one ask to one replica came back with.
struct attempt {
  bool answered = false;  ///< false: timeout or a dead replica
  paxos::reply_status status = paxos::reply_status::ok;
  std::string result;
  std::optional<paxos::node_id> leader_hint;
};

}  // namespace

struct group_caller::impl {
  impl(caf::actor_system& sys, peer_map replicas, caf::timespan attempt_timeout)
      : self(sys), replicas(std::move(replicas)), attempt_timeout(attempt_timeout) {
    if (!this->replicas.empty())
      target = this->replicas.begin()->first;
  }

  attempt ask(const caf::actor& dest, caf::timespan wait, const paxos::command* cmd,
              const std::string* query) {
    attempt out;
    auto on_error = [](caf::error&) {};
    if (cmd != nullptr) {
      self->request(dest, wait, propose_atom_v, *cmd)
        .receive(
          [&](paxos::client_reply& r) {
            out = {true, r.status, std::move(r.result), r.leader_hint};
          },
          on_error);
    } else {
      self->request(dest, wait, read_atom_v, *query)
        .receive(
          [&](read_reply& r) {
            out = {true, r.status, std::move(r.result), r.leader_hint};
          },
          on_error);
    }
    return out;
  }

  /// The replica after `id` in id order, wrapping around.
  paxos::node_id next_after(paxos::node_id id) const {
    auto it = replicas.upper_bound(id);
    return it == replicas.end() ? replicas.begin()->first : it->first;
  }

  group_answer call(const paxos::command* cmd, const std::string* query, clock::time_point deadline,
                    const std::atomic<bool>* stop) {
    group_answer out;
    if (replicas.empty()) {
      out.error = "the client knows no replicas";
      return out;
    }
    std::string last_error = "no replica answered";
    for (auto now = clock::now(); now < deadline; now = clock::now()) {
      if (stop != nullptr && stop->load())
        return {false, {}, "stopped"};
      auto wait = std::min<caf::timespan>(deadline - now, attempt_timeout);
      auto a = ask(replicas.at(target), wait, cmd, query);
      if (!a.answered) {
        last_error = "replica " + std::to_string(target) + " did not answer";
        target = next_after(target);
        continue;
      }
      if (a.status == paxos::reply_status::ok)
        return {true, std::move(a.result), {}};
      if (a.status == paxos::reply_status::expired)
        return {false, {}, "the write expired: more writes in flight than the dedup window"};
      if (a.status == paxos::reply_status::overloaded) {
        // The leader's queue is full: nothing was queued, so a retry is safe.
        last_error = "the leader is overloaded";
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      if (a.status != paxos::reply_status::not_leader)
        return {false, {}, std::string{"refused: "} + paxos::name_of(a.status)};
      // not_leader: follow the hint, or wait for an election to end.
      if (a.leader_hint && *a.leader_hint != target && replicas.count(*a.leader_hint) != 0) {
        target = *a.leader_hint;
      } else {
        last_error = "no leader";
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        target = next_after(target);
      }
    }
    return {false, {}, last_error + " within the timeout"};
  }

  caf::scoped_actor self;
  peer_map replicas;
  caf::timespan attempt_timeout;
  /// The replica believed to lead.
  paxos::node_id target = 0;
};

group_caller::group_caller(caf::actor_system& sys, peer_map replicas, caf::timespan attempt_timeout)
    : impl_(std::make_unique<impl>(sys, std::move(replicas), attempt_timeout)) {}

group_caller::~group_caller() = default;

group_answer group_caller::propose(const paxos::command& cmd, clock::time_point deadline,
                                   const std::atomic<bool>* stop) {
  return impl_->call(&cmd, nullptr, deadline, stop);
}

group_answer group_caller::read(const std::string& query, clock::time_point deadline,
                                const std::atomic<bool>* stop) {
  return impl_->call(nullptr, &query, deadline, stop);
}

const peer_map& group_caller::replicas() const {
  return impl_->replicas;
}

}  // namespace ballot::actors
