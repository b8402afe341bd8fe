#include "actors/kv/kv_client.hpp"

#include <thread>
#include <utility>

#include "caf/actor.hpp"
#include "caf/actor_system.hpp"
#include "caf/scoped_actor.hpp"

#include "actors/kv/command_codec.hpp"
#include "actors/replica/type_ids.hpp"

namespace ballot::kv {

namespace {

using clock_type = std::chrono::steady_clock;

/// What one ask to one replica came back with.
struct answer {
  bool answered = false;  ///< false: timeout or a dead replica
  paxos::reply_status status = paxos::reply_status::ok;
  std::string result;
  std::optional<paxos::node_id> leader_hint;
};

result unavailable(const std::string& why) {
  return result::error(result_code::unavailable, why);
}

}  // namespace

paxos::command make_command(std::uint64_t client, std::uint64_t seq, const request& req) {
  return paxos::command{client, seq, encode(req)};
}

struct kv_client::impl {
  impl(caf::actor_system& sys, actors::peer_map replicas, std::uint64_t client_id,
       caf::timespan timeout)
      : self(sys), replicas(std::move(replicas)), client_id(client_id), timeout(timeout) {
    if (!this->replicas.empty())
      target = this->replicas.begin()->first;
  }

  answer ask(const caf::actor& dest, caf::timespan wait, const request& req,
             const paxos::command& cmd) {
    answer out;
    auto on_error = [](caf::error&) {};
    if (is_write(req)) {
      self->request(dest, wait, actors::propose_atom_v, cmd)
        .receive(
          [&](paxos::client_reply& r) {
            out = {true, r.status, std::move(r.result), r.leader_hint};
          },
          on_error);
    } else {
      self->request(dest, wait, actors::read_atom_v, encode(req))
        .receive(
          [&](actors::read_reply& r) {
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

  result execute(const request& req) {
    if (replicas.empty())
      return unavailable("the client knows no replicas");
    paxos::command cmd;
    if (is_write(req))
      cmd = make_command(client_id, ++last_seq, req);  // one seq for every retry
    auto deadline = clock_type::now() + timeout;
    std::string last_error = "no replica answered";
    for (auto now = clock_type::now(); now < deadline; now = clock_type::now()) {
      auto wait = std::min<caf::timespan>(deadline - now, std::chrono::seconds(1));
      auto a = ask(replicas.at(target), wait, req, cmd);
      if (!a.answered) {
        last_error = "replica " + std::to_string(target) + " did not answer";
        target = next_after(target);
        continue;
      }
      if (a.status == paxos::reply_status::ok) {
        result r;
        std::string error;
        if (!decode(a.result, r, error))
          return result::error(result_code::bad_request, error);
        return r;
      }
      if (a.status == paxos::reply_status::expired)
        return unavailable("the write expired: more writes in flight than the dedup window");
      // not_leader: follow the hint, or wait for an election to end.
      if (a.leader_hint && *a.leader_hint != target && replicas.count(*a.leader_hint) != 0) {
        target = *a.leader_hint;
      } else {
        last_error = "no leader";
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        target = next_after(target);
      }
    }
    return unavailable(last_error + " within the timeout");
  }

  caf::scoped_actor self;
  actors::peer_map replicas;
  std::uint64_t client_id;
  caf::timespan timeout;
  std::uint64_t last_seq = 0;
  /// The replica believed to lead.
  paxos::node_id target = 0;
};

kv_client::kv_client(caf::actor_system& sys, actors::peer_map replicas, std::uint64_t client_id,
                     caf::timespan timeout)
    : impl_(std::make_unique<impl>(sys, std::move(replicas), client_id, timeout)) {}

kv_client::~kv_client() = default;

result kv_client::put(std::string key, std::string value, std::optional<std::uint64_t> if_version) {
  return execute(put_request{std::move(key), std::move(value), if_version});
}

result kv_client::get(std::string key) {
  return execute(get_request{std::move(key)});
}

result kv_client::del(std::string key, std::optional<std::uint64_t> if_version) {
  return execute(del_request{std::move(key), if_version});
}

result kv_client::list(std::string prefix, std::uint32_t limit) {
  return execute(list_request{std::move(prefix), limit});
}

result kv_client::execute(const request& req) {
  return impl_->execute(req);
}

}  // namespace ballot::kv
