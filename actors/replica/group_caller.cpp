#include "actors/replica/group_caller.hpp"

#include <algorithm>
#include <optional>
#include <random>
#include <thread>
#include <utility>

#include "caf/actor.hpp"
#include "caf/actor_system.hpp"
#include "caf/scoped_actor.hpp"

#include "actors/replica/leader_follower.hpp"
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

group_answer failed(std::string why, bool expired = false) {
  group_answer out;
  out.expired = expired;
  out.error = std::move(why);
  return out;
}

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

  group_answer call(const paxos::command* cmd, const std::string* query, clock::time_point deadline,
                    const std::atomic<bool>* stop) {
    if (replicas.empty())
      return failed("the client knows no replicas");
    std::vector<routing::leader_follower::member_id> ids;
    for (auto& [id, dest] : replicas)
      ids.push_back(id);
    routing::leader_follower route{routing::follower_config{}, std::move(ids), target, deadline};
    std::string last_error = "no replica answered";
    for (;;) {
      if (stop != nullptr && stop->load())
        return failed("stopped");
      auto now = clock::now();
      auto next = route.next(now);
      if (next.what == routing::leader_follower::verdict::give_up)
        break;
      if (next.what == routing::leader_follower::verdict::pause) {
        // In slices, so that `stop` is seen soon.
        std::this_thread::sleep_until(std::min(next.at, now + std::chrono::milliseconds(10)));
        continue;
      }
      target = static_cast<paxos::node_id>(next.member);
      auto a = ask(replicas.at(target), std::min<caf::timespan>(deadline - now, attempt_timeout),
                   cmd, query);
      if (!a.answered) {
        last_error = "replica " + std::to_string(target) + " did not answer";
        route.failed(clock::now());
      } else if (a.status == paxos::reply_status::ok) {
        route.succeeded();
        group_answer ok;
        ok.ok = true;
        ok.result = std::move(a.result);
        return ok;
      } else if (a.status == paxos::reply_status::expired) {
        // Retrying the same (client, seq) would only be refused again.
        return failed(
          "the write's request id expired (the replicas forgot its client id): "
          "whether it applied is unknown",
          true);
      } else if (a.status == paxos::reply_status::overloaded) {
        // The leader's queue is full: nothing was queued, so a retry is safe.
        last_error = "the leader is overloaded";
        route.overloaded(rng(), clock::now());
      } else if (a.status != paxos::reply_status::not_leader) {
        return failed(std::string{"refused: "} + paxos::name_of(a.status));
      } else {
        // Only hints this caller can reach are worth following.
        std::optional<routing::leader_follower::member_id> hint;
        if (a.leader_hint && replicas.count(*a.leader_hint) != 0)
          hint = *a.leader_hint;
        else
          last_error = "no leader";
        route.not_leader(hint, clock::now());
      }
      target = static_cast<paxos::node_id>(route.target());
    }
    target = static_cast<paxos::node_id>(route.target());
    return failed(last_error + " within the timeout");
  }

  caf::scoped_actor self;
  peer_map replicas;
  caf::timespan attempt_timeout;
  /// The replica believed to lead: where the next call starts.
  paxos::node_id target = 0;
  /// Spreads the pauses after overloaded answers (see leader_follower).
  std::minstd_rand rng{std::random_device{}()};
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
