#include "runtime/peer/member_link.hpp"

#include <map>
#include <utility>

#include "caf/all.hpp"

#include "actors/replica/type_ids.hpp"
#include "runtime/peer/payload_codec.hpp"
#include "runtime/peer/transport.hpp"

namespace ballot::peer {

namespace {

using expire_atom = caf::atom_constant<caf::atom("p_expire")>;

struct link_state {
  static inline const char* name = "ballot.peer.member_link";
  link_options opts;
  std::shared_ptr<transport> net;
  caf::actor replica;
  std::uint64_t next_id = 0;
  std::map<std::uint64_t, caf::typed_response_promise<paxos::client_reply>> proposals;
  std::map<std::uint64_t, caf::typed_response_promise<actors::read_reply>> reads;
  std::map<std::uint64_t, caf::typed_response_promise<actors::replica_status>> statuses;
};

using link_actor = caf::stateful_actor<link_state>*;

/// Frames a core message for the member; dropped (and counted by the
/// transport) when it is not connected or its queue is full.
template <class Message>
auto on_core_message(link_actor self) {
  return [self](paxos::node_id from, Message& msg) {
    auto& st = self->state;
    st.net->send(st.opts.member, make_frame(self->system(), core_kind<Message>(), from, 0, msg));
  };
}

caf::error unreachable(const link_state& st) {
  return caf::make_error(caf::sec::request_receiver_down,
                         "member " + std::to_string(st.opts.member) + " is not connected");
}

/// Sends a request frame; on success keeps `promise` under a fresh id until
/// the reply or the timeout, otherwise fails it at once.
template <class Promise, class Arg>
void ask_member(link_actor self, std::map<std::uint64_t, Promise>& pending, Promise promise,
                frame_kind kind, const Arg* arg) {
  auto& st = self->state;
  auto id = ++st.next_id;
  auto frame = arg != nullptr ? make_frame(self->system(), kind, st.opts.self, id, *arg)
                              : encode_frame(kind, st.opts.self, id);
  if (st.net->send(st.opts.member, std::move(frame)) != transport::send_result::queued) {
    promise.deliver(unreachable(st));
    return;
  }
  pending.emplace(id, std::move(promise));
  self->delayed_send(self, st.opts.request_timeout, expire_atom::value, id);
}

template <class Map, class Value>
void settle(Map& pending, std::uint64_t id, Value&& v) {
  auto it = pending.find(id);
  if (it == pending.end())
    return;  // timed out already, or a reply nobody asked for
  it->second.deliver(std::forward<Value>(v));
  pending.erase(it);
}

/// Answers a member's request with a reply frame once our replica answers.
template <class Reply>
auto reply_to_member(link_actor self, frame_kind kind, std::uint64_t id) {
  return [self, kind, id](Reply& r) {
    auto& st = self->state;
    st.net->send(st.opts.member, make_frame(self->system(), kind, st.opts.self, id, r));
  };
}

caf::behavior member_link(link_actor self, link_options opts, std::shared_ptr<transport> net,
                          caf::actor replica) {
  auto& st = self->state;
  st.opts = opts;
  st.net = std::move(net);
  st.replica = std::move(replica);
  return {
    on_core_message<paxos::prepare>(self),
    on_core_message<paxos::promise>(self),
    on_core_message<paxos::accept>(self),
    on_core_message<paxos::accepted>(self),
    on_core_message<paxos::reject>(self),
    on_core_message<paxos::heartbeat>(self),
    on_core_message<paxos::heartbeat_ack>(self),
    on_core_message<paxos::catchup_request>(self),
    on_core_message<paxos::catchup_reply>(self),
    on_core_message<paxos::install_snapshot>(self),
    on_core_message<paxos::state_query>(self),
    on_core_message<paxos::state_report>(self),
    // -- requests of this node's gateway to the member's replica
    [self](actors::propose_atom, paxos::command& cmd) -> caf::result<paxos::client_reply> {
      auto promise = self->make_response_promise<paxos::client_reply>();
      ask_member(self, self->state.proposals, promise, frame_kind::propose_request, &cmd);
      return promise;
    },
    [self](actors::read_atom, std::string& query) -> caf::result<actors::read_reply> {
      auto promise = self->make_response_promise<actors::read_reply>();
      ask_member(self, self->state.reads, promise, frame_kind::read_request, &query);
      return promise;
    },
    [self](actors::status_atom) -> caf::result<actors::replica_status> {
      auto promise = self->make_response_promise<actors::replica_status>();
      ask_member(self, self->state.statuses, promise, frame_kind::status_request,
                 static_cast<const int*>(nullptr));
      return promise;
    },
    [self](expire_atom, std::uint64_t id) {
      auto& st = self->state;
      auto err = caf::make_error(caf::sec::request_timeout);
      settle(st.proposals, id, err);
      settle(st.reads, id, err);
      settle(st.statuses, id, err);
    },
    // -- the member's replies, from the transport
    [self](reply_in_atom, std::uint64_t id, paxos::client_reply& r) {
      settle(self->state.proposals, id, std::move(r));
    },
    [self](reply_in_atom, std::uint64_t id, actors::read_reply& r) {
      settle(self->state.reads, id, std::move(r));
    },
    [self](reply_in_atom, std::uint64_t id, actors::replica_status& r) {
      settle(self->state.statuses, id, std::move(r));
    },
    // -- the member's requests to our replica, from the transport
    [self](request_in_atom, std::uint64_t id, paxos::command& cmd) {
      auto& st = self->state;
      self->request(st.replica, st.opts.serve_timeout, actors::propose_atom_v, std::move(cmd))
        .then(reply_to_member<paxos::client_reply>(self, frame_kind::propose_reply, id),
              [](caf::error&) {});
    },
    [self](request_in_atom, std::uint64_t id, std::string& query) {
      auto& st = self->state;
      self->request(st.replica, st.opts.serve_timeout, actors::read_atom_v, std::move(query))
        .then(reply_to_member<actors::read_reply>(self, frame_kind::read_reply, id),
              [](caf::error&) {});
    },
    [self](request_in_atom, std::uint64_t id) {
      auto& st = self->state;
      // Urgent, as the gateway's own status probes are.
      self
        ->request<caf::message_priority::high>(st.replica, st.opts.serve_timeout,
                                               actors::status_atom_v)
        .then(reply_to_member<actors::replica_status>(self, frame_kind::status_reply, id),
              [](caf::error&) {});
    },
  };
}

}  // namespace

caf::actor spawn_member_link(caf::actor_system& sys, link_options opts,
                             std::shared_ptr<transport> net, caf::actor replica) {
  return sys.spawn(member_link, opts, std::move(net), std::move(replica));
}

}  // namespace ballot::peer
