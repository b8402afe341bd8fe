#include "runtime/peer/member_link.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "caf/all.hpp"

#include "actors/replica/type_ids.hpp"
#include "runtime/log/log.hpp"
#include "runtime/peer/encoding_source.hpp"
#include "runtime/peer/payload_codec.hpp"
#include "runtime/peer/transport.hpp"

namespace ballot::peer {

namespace {

using expire_atom = caf::atom_constant<caf::atom("p_expire")>;
using snapshot_tick_atom = caf::atom_constant<caf::atom("p_snaptick")>;

/// How often a link with a snapshot transfer (either way) looks at its
/// timeouts, and retries chunks its member's full outbox refused.
constexpr auto snapshot_tick = std::chrono::milliseconds{100};

struct link_state {
  static inline const char* name = "ballot.peer.member_link";
  link_options opts;
  std::shared_ptr<transport> net;
  caf::actor replica;
  std::uint64_t next_id = 0;
  std::map<std::uint64_t, caf::typed_response_promise<paxos::client_reply>> proposals;
  std::map<std::uint64_t, caf::typed_response_promise<std::vector<paxos::client_reply>>> batches;
  std::map<std::uint64_t, caf::typed_response_promise<actors::read_reply>> reads;
  std::map<std::uint64_t, caf::typed_response_promise<actors::replica_status>> statuses;
  /// Each open request's deadline, by id. Every request waits the same
  /// request_timeout and ids grow, so the first is always the earliest.
  std::map<std::uint64_t, std::chrono::steady_clock::time_point> deadlines;
  /// One timer stands for every deadline (see arm_expiry): CAF 0.17 wakes
  /// its clock thread for each timeout set and never cancels one, which
  /// cost a clock wake-up per forwarded request and another, with a
  /// message to this actor, request_timeout later.
  bool expiry_armed = false;
  std::optional<snapshot_sender> snap_out;
  std::optional<snapshot_receiver> snap_in;
  /// The transport's reset count for the member when the transfer (out,
  /// in) began: a change means chunks or acks were lost with a connection.
  std::uint64_t out_resets = 0;
  std::uint64_t in_resets = 0;
  bool ticking = false;
  /// A snapshot made as it is sent failed to make its promised size: later
  /// ones are encoded whole first (see on_install_snapshot).
  bool encode_whole = false;
  /// Refusals of incoming chunks, and new incoming transfers, are each
  /// logged at most once a second.
  std::uint64_t refusal_logged_ms = 0;
  std::uint64_t receiving_logged_ms = 0;
};

using link_actor = caf::stateful_actor<link_state>*;

/// Frames a core message for the member; dropped (and counted by the
/// transport) when it is not connected or its queue is full.
template <class Message>
auto on_core_message(link_actor self) {
  return [self](paxos::node_id from, Message& msg) {
    auto& st = self->state;
    st.net->send(st.opts.member, make_core_frame(self->system(), from, msg));
  };
}

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::steady_clock::now().time_since_epoch())
                                      .count());
}

void say(logging::level lvl, const link_state& st, std::string msg, const char* event) {
  logging::write(lvl, std::move(msg), {{"event", event}, {"peer", st.opts.member}});
}

void arm_snapshot_tick(link_actor self) {
  auto& st = self->state;
  if (st.ticking || (!st.snap_out->active() && !st.snap_in->partial()))
    return;
  st.ticking = true;
  self->delayed_send(self, snapshot_tick, snapshot_tick_atom::value);
}

/// Drops the outgoing transfer, saying why.
void abandon_snapshot(link_actor self, const std::string& why) {
  auto& st = self->state;
  say(logging::level::info, st,
      "snapshot transfer " + std::to_string(st.snap_out->transfer()) + " to member " +
        std::to_string(st.opts.member) + " dropped after " +
        std::to_string(st.snap_out->acked_bytes()) + " of " + std::to_string(st.snap_out->total()) +
        " bytes: " + why,
      "snapshot_transfer_dropped");
  st.snap_out->abandon();
}

/// Sends the chunks the window allows.
void pump_snapshot(link_actor self) {
  auto& st = self->state;
  auto& out = *st.snap_out;
  if (auto why = out.failure(); !why.empty()) {
    st.encode_whole = true;
    abandon_snapshot(self, why);
    return;
  }
  while (auto c = out.next()) {
    auto r =
      st.net->send(st.opts.member, make_chunk_frame(st.opts.self, c->transfer, c->total, c->offset,
                                                    c->whole_crc, c->data, c->size));
    if (r == transport::send_result::queued) {
      out.sent(*c);
      continue;
    }
    if (r == transport::send_result::not_connected)
      abandon_snapshot(self, "the member is not connected");
    break;  // over budget: the next tick or ack tries again
  }
  arm_snapshot_tick(self);
}

/// What sends `msg`: a frozen machine is encoded on a thread of the
/// source's, as the chunks go, and never held whole (issue 9); given bytes
/// (or a machine whose size hint proved wrong) are encoded here, whole.
std::shared_ptr<snapshot_source> snapshot_source_of(link_actor self,
                                                    const paxos::install_snapshot& msg) {
  auto& st = self->state;
  const auto& machine = msg.snap.machine;
  if (machine.encoded() || st.encode_whole)
    return std::make_shared<bytes_source>(
      std::make_shared<const std::vector<char>>(encode_install_snapshot(self->system(), msg)));
  auto size = machine.size_hint();
  auto parts =
    std::make_shared<install_snapshot_frame>(frame_install_snapshot(self->system(), msg, size));
  auto total = parts->before.size() + size + parts->after.size();
  auto produce = [parts, machine](const encoding_source::sink& out) {
    out({parts->before.data(), parts->before.size()});
    machine.write_to(out);
    out({parts->after.data(), parts->after.size()});
  };
  auto buffer = st.opts.snapshot_out.window_bytes + st.opts.snapshot_out.chunk_bytes;
  return std::make_shared<encoding_source>(std::move(produce), total, buffer);
}

/// The replica sends the member a snapshot: encoded here, sent in chunks,
/// unless the same one is on its way already.
void on_install_snapshot(link_actor self, paxos::install_snapshot& msg) {
  auto& st = self->state;
  if (st.snap_out->in_flight(msg.snap.last) || !st.net->connected(st.opts.member))
    return;  // never twice at once; nor encoded for a member that cannot take it
  if (st.snap_out->active())
    abandon_snapshot(self, "a newer snapshot replaces it");
  st.snap_out->start(msg.snap.last, snapshot_source_of(self, msg), now_ms());
  st.out_resets = st.net->resets(st.opts.member);
  say(logging::level::info, st,
      "sending member " + std::to_string(st.opts.member) + " the snapshot at slot " +
        std::to_string(msg.snap.last) + ": " + std::to_string(st.snap_out->total()) +
        " bytes as transfer " + std::to_string(st.snap_out->transfer()),
      "snapshot_transfer_started");
  pump_snapshot(self);
}

void on_snapshot_ack(link_actor self, const std::vector<char>& payload) {
  auto& st = self->state;
  auto ack = parse_ack(payload);
  if (!ack)
    return;
  auto chunks = st.snap_out->chunks_sent();
  auto total = st.snap_out->total();
  switch (st.snap_out->on_ack(*ack, now_ms())) {
    case snapshot_sender::ack_effect::done:
      say(logging::level::info, st,
          "snapshot transfer " + std::to_string(ack->transfer) + " to member " +
            std::to_string(st.opts.member) + " complete: " + std::to_string(total) + " bytes in " +
            std::to_string(chunks) + " chunks",
          "snapshot_transfer_finished");
      break;
    case snapshot_sender::ack_effect::refused:
      say(logging::level::warn, st,
          "member " + std::to_string(st.opts.member) + " refused snapshot transfer " +
            std::to_string(ack->transfer) + " (see its log)",
          "snapshot_transfer_dropped");
      break;
    case snapshot_sender::ack_effect::busy:
      say(logging::level::info, st,
          "member " + std::to_string(st.opts.member) +
            " is receiving another member's snapshot (one at a time): transfer " +
            std::to_string(ack->transfer) +
            " dropped; the replica sends it again after its resend wait if the member still "
            "needs it",
          "snapshot_transfer_dropped");
      break;
    case snapshot_sender::ack_effect::progress:
      pump_snapshot(self);
      break;
    case snapshot_sender::ack_effect::ignored:
      break;
  }
}

/// A chunk from the member: acknowledged, and once the transfer is whole,
/// decoded and handed to the replica as the one install_snapshot it is.
void on_snapshot_chunk(link_actor self, const std::vector<char>& payload) {
  auto& st = self->state;
  auto chunk = parse_chunk(payload);
  if (!chunk)
    return;
  auto before = st.snap_in->transfer();
  auto now = now_ms();
  auto r = st.snap_in->on_chunk(*chunk, now);
  if (st.snap_in->transfer() != before)
    st.in_resets = st.net->resets(st.opts.member);
  // Which member's transfer holds the node's one slot (at most once a
  // second: a member may start transfers at any rate).
  if (st.snap_in->transfer() != before && st.snap_in->partial() &&
      now >= st.receiving_logged_ms + 1000) {
    st.receiving_logged_ms = now;
    say(logging::level::info, st,
        "receiving snapshot transfer " + std::to_string(chunk->transfer) + " from member " +
          std::to_string(st.opts.member) + ": " + std::to_string(chunk->total) + " bytes",
        "snapshot_transfer_receiving");
  }
  if (r.ack)
    st.net->send(st.opts.member, make_ack_frame(st.opts.self, *r.ack));
  if (r.v != snapshot_receiver::verdict::accepted && r.v != snapshot_receiver::verdict::complete &&
      now >= st.refusal_logged_ms + 1000) {
    st.refusal_logged_ms = now;
    // Busy is the node's one-at-a-time rule at work, not a fault of the member's.
    say(
      r.v == snapshot_receiver::verdict::refused_busy ? logging::level::info : logging::level::warn,
      st,
      "snapshot chunk from member " + std::to_string(st.opts.member) + " refused (" +
        verdict_name(r.v) + "): " + r.why,
      "snapshot_chunk_refused");
  }
  if (r.v == snapshot_receiver::verdict::complete) {
    paxos::install_snapshot msg;
    bool ok = false;
    std::size_t size = 0;
    {
      auto whole = st.snap_in->take();
      size = whole.size();
      ok = decode_bytes(self->system(), whole.data(), whole.size(), msg);
    }  // the reassembled bytes go before the replica installs
    if (!ok) {
      say(logging::level::warn, st,
          "snapshot from member " + std::to_string(st.opts.member) + " (" + std::to_string(size) +
            " bytes) does not decode; dropped",
          "snapshot_chunk_refused");
    } else {
      say(logging::level::info, st,
          "snapshot at slot " + std::to_string(msg.snap.last) + " from member " +
            std::to_string(st.opts.member) + " received whole: " + std::to_string(size) + " bytes",
          "snapshot_transfer_received");
      caf::anon_send<caf::message_priority::high>(st.replica, paxos::node_id{st.opts.member},
                                                  std::move(msg));
    }
  }
  arm_snapshot_tick(self);
}

void on_snapshot_tick(link_actor self) {
  auto& st = self->state;
  st.ticking = false;
  auto now = now_ms();
  if (st.snap_out->active()) {
    if (st.net->resets(st.opts.member) != st.out_resets)
      abandon_snapshot(self, "the connection was reset");
    else if (st.snap_out->stalled(now))
      abandon_snapshot(self, "no acknowledgement for a while");
    else
      pump_snapshot(self);
  }
  auto transfer = st.snap_in->transfer();
  auto buffered = st.snap_in->buffered();
  bool reset = st.snap_in->partial() && st.net->resets(st.opts.member) != st.in_resets;
  if (reset || st.snap_in->expire(now)) {
    st.snap_in->reset();
    say(logging::level::info, st,
        "partial snapshot transfer " + std::to_string(transfer) + " from member " +
          std::to_string(st.opts.member) + " dropped (" + std::to_string(buffered) +
          " bytes): " + (reset ? "the connection was reset" : "no chunk for a while"),
        "snapshot_transfer_dropped");
  }
  arm_snapshot_tick(self);
}

caf::error unreachable(const link_state& st) {
  return caf::make_error(caf::sec::request_receiver_down,
                         "member " + std::to_string(st.opts.member) + " is not connected");
}

/// Makes sure one expiry message comes by the earliest open deadline. A new
/// request's deadline is never earlier than those before it, so a timer
/// already set covers it.
void arm_expiry(link_actor self) {
  auto& st = self->state;
  if (st.expiry_armed || st.deadlines.empty())
    return;
  st.expiry_armed = true;
  auto wait = st.deadlines.begin()->second - std::chrono::steady_clock::now();
  self->delayed_send(self, std::max(wait, std::chrono::steady_clock::duration{0}),
                     expire_atom::value);
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
  st.deadlines.emplace(id, std::chrono::steady_clock::now() + st.opts.request_timeout);
  arm_expiry(self);
}

/// A request of this node's gateway to the member's replica, answered
/// when the member's reply frame comes back (or the link's timeout passes).
template <class Reply, class Arg>
caf::typed_response_promise<Reply> ask_member(
  link_actor self, std::map<std::uint64_t, caf::typed_response_promise<Reply>>& pending,
  frame_kind kind, const Arg* arg) {
  auto promise = self->make_response_promise<Reply>();
  ask_member(self, pending, promise, kind, arg);
  return promise;
}

template <class Map, class Value>
void settle(link_state& st, Map& pending, std::uint64_t id, Value&& v) {
  auto it = pending.find(id);
  if (it == pending.end())
    return;  // timed out already, or a reply nobody asked for
  it->second.deliver(std::forward<Value>(v));
  pending.erase(it);
  st.deadlines.erase(id);
}

/// Fails every request whose deadline passed, then waits for the next.
void expire_due(link_actor self) {
  auto& st = self->state;
  st.expiry_armed = false;
  auto now = std::chrono::steady_clock::now();
  while (!st.deadlines.empty() && st.deadlines.begin()->second <= now) {
    auto id = st.deadlines.begin()->first;
    auto err = caf::make_error(caf::sec::request_timeout);
    settle(st, st.proposals, id, err);
    settle(st, st.batches, id, err);
    settle(st, st.reads, id, err);
    settle(st, st.statuses, id, err);
    st.deadlines.erase(id);
  }
  arm_expiry(self);
}

/// Answers a member's request with a reply frame once our replica answers.
template <class Reply>
auto reply_to_member(link_actor self, frame_kind kind, std::uint64_t id) {
  return [self, kind, id](Reply& r) {
    auto& st = self->state;
    st.net->send(st.opts.member, make_frame(self->system(), kind, st.opts.self, id, r));
  };
}

/// Asks our replica on the member's behalf: its answer goes back to the
/// member as a reply frame; without one, the member's own timeout answers.
/// No CAF timeout: the replica answers every request (the gateway's bridge
/// relies on that too), and a timeout would cost this node's clock thread a
/// wake-up per request, and this actor a message 30 s later (CAF 0.17 does
/// not cancel it).
template <class Reply, caf::message_priority Priority = caf::message_priority::normal, class... Ts>
void serve_member(link_actor self, frame_kind kind, std::uint64_t id, Ts&&... xs) {
  auto& st = self->state;
  self->request<Priority>(st.replica, caf::infinite, std::forward<Ts>(xs)...)
    .then(reply_to_member<Reply>(self, kind, id), [](caf::error&) {});
}

caf::behavior member_link(link_actor self, const link_options& opts, std::shared_ptr<transport> net,
                          caf::actor replica) {
  auto& st = self->state;
  st.opts = opts;
  st.net = std::move(net);
  st.replica = std::move(replica);
  // Random ids: a restarted sender does not continue its last life's transfer.
  std::random_device rd;
  st.snap_out.emplace(opts.snapshot_out, (std::uint64_t{rd()} << 32) | rd());
  st.snap_in.emplace(opts.snapshot_in, opts.member);
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
    [self](paxos::node_id, paxos::install_snapshot& msg) { on_install_snapshot(self, msg); },
    [self](chunk_in_atom, std::vector<char>& payload) { on_snapshot_chunk(self, payload); },
    [self](ack_in_atom, std::vector<char>& payload) { on_snapshot_ack(self, payload); },
    [self](snapshot_tick_atom) { on_snapshot_tick(self); },
    on_core_message<paxos::state_query>(self),
    on_core_message<paxos::state_report>(self),
    // -- requests of this node's gateway to the member's replica
    [self](actors::propose_atom, paxos::command& cmd) -> caf::result<paxos::client_reply> {
      return ask_member(self, self->state.proposals, frame_kind::propose_request, &cmd);
    },
    [self](actors::propose_batch_atom,
           std::vector<paxos::command>& cmds) -> caf::result<std::vector<paxos::client_reply>> {
      return ask_member(self, self->state.batches, frame_kind::propose_batch_request, &cmds);
    },
    [self](actors::read_atom, std::string& query) -> caf::result<actors::read_reply> {
      return ask_member(self, self->state.reads, frame_kind::read_request, &query);
    },
    [self](actors::status_atom) -> caf::result<actors::replica_status> {
      return ask_member(self, self->state.statuses, frame_kind::status_request,
                        static_cast<const int*>(nullptr));
    },
    [self](expire_atom) { expire_due(self); },
    // -- the member's replies, from the transport
    [self](reply_in_atom, std::uint64_t id, paxos::client_reply& r) {
      settle(self->state, self->state.proposals, id, std::move(r));
    },
    [self](reply_in_atom, std::uint64_t id, std::vector<paxos::client_reply>& r) {
      settle(self->state, self->state.batches, id, std::move(r));
    },
    [self](reply_in_atom, std::uint64_t id, actors::read_reply& r) {
      settle(self->state, self->state.reads, id, std::move(r));
    },
    [self](reply_in_atom, std::uint64_t id, actors::replica_status& r) {
      settle(self->state, self->state.statuses, id, r);
    },
    // -- the member's requests to our replica, from the transport
    [self](request_in_atom, std::uint64_t id, paxos::command& cmd) {
      serve_member<paxos::client_reply>(self, frame_kind::propose_reply, id, actors::propose_atom_v,
                                        std::move(cmd));
    },
    [self](request_in_atom, std::uint64_t id, std::vector<paxos::command>& cmds) {
      serve_member<std::vector<paxos::client_reply>>(self, frame_kind::propose_batch_reply, id,
                                                     actors::propose_batch_atom_v, std::move(cmds));
    },
    [self](request_in_atom, std::uint64_t id, std::string& query) {
      serve_member<actors::read_reply>(self, frame_kind::read_reply, id, actors::read_atom_v,
                                       std::move(query));
    },
    [self](request_in_atom, std::uint64_t id) {
      // Urgent, as the gateway's own status probes are.
      serve_member<actors::replica_status, caf::message_priority::high>(
        self, frame_kind::status_reply, id, actors::status_atom_v);
    },
  };
}

}  // namespace

caf::actor spawn_member_link(caf::actor_system& sys, link_options opts,
                             std::shared_ptr<transport> net, caf::actor replica) {
  return sys.spawn(member_link, opts, std::move(net), std::move(replica));
}

}  // namespace ballot::peer
