#include "runtime/peer/peer_service.hpp"

#include <atomic>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "caf/all.hpp"

#include "actors/replica/type_ids.hpp"
#include "runtime/peer/member_link.hpp"
#include "runtime/peer/payload_codec.hpp"
#include "runtime/peer/snapshot_chunk.hpp"

namespace ballot::peer {

struct peer_service::impl {
  caf::actor_system* sys = nullptr;
  caf::actor replica;
  std::shared_ptr<transport> net;
  std::uint32_t self = 0;
  sender_options snapshot_out;
  receiver_options snapshot_in;
  std::chrono::milliseconds request_timeout{link_options{}.request_timeout};
  /// Read on the transport's thread (deliver), changed by set_members.
  mutable std::mutex links_mtx;
  actors::peer_map links;

  link_options link_for(std::uint32_t member) const {
    link_options lo;
    lo.member = member;
    lo.self = self;
    lo.snapshot_out = snapshot_out;
    lo.snapshot_in = snapshot_in;
    lo.request_timeout = request_timeout;
    return lo;
  }

  caf::actor link_of(std::uint32_t member) const {
    std::lock_guard<std::mutex> guard{links_mtx};
    auto it = links.find(member);
    return it == links.end() ? caf::actor{} : it->second;
  }

  /// On the transport's thread: a frame from an authenticated member whose
  /// `from` is that member. The kind decides the one type it may decode to.
  std::optional<drop_reason> deliver(std::uint32_t member, frame&& f) {
    if (is_request(f.kind) || is_reply(f.kind))
      return to_link(member, std::move(f));
    if (f.kind == frame_kind::snapshot_chunk || f.kind == frame_kind::snapshot_ack)
      return snapshot_to_link(member, std::move(f));
    bool ok = visit_core(*sys, f, [&](auto&& msg) {
      // High priority, as the replica sends its own peer messages.
      caf::anon_send<caf::message_priority::high>(replica, paxos::node_id{f.from}, std::move(msg));
    });
    if (!ok)
      return drop_reason::bad_payload;
    return std::nullopt;
  }

  /// A snapshot transfer's frames go to the member's link, which
  /// reassembles (and decodes) off this thread.
  std::optional<drop_reason> snapshot_to_link(std::uint32_t member, frame&& f) {
    bool chunk = f.kind == frame_kind::snapshot_chunk;
    if (chunk ? !parse_chunk(f.payload) : !parse_ack(f.payload))
      return drop_reason::bad_payload;
    auto link = link_of(member);
    if (!link)
      return drop_reason::not_a_member;
    if (chunk)
      caf::anon_send(link, chunk_in_atom::value, std::move(f.payload));
    else
      caf::anon_send(link, ack_in_atom::value, std::move(f.payload));
    return std::nullopt;
  }

  /// Decodes the payload as the kind's one type and hands it to the link
  /// as `(atom, request id, value)`; a payload that does not decode is dropped.
  template <class T, class Atom>
  std::optional<drop_reason> pass(const caf::actor& link, Atom atom, frame& f) const {
    T value;
    if (!decode_payload(*sys, f.payload, value))
      return drop_reason::bad_payload;
    caf::anon_send(link, atom, f.request_id, std::move(value));
    return std::nullopt;
  }

  std::optional<drop_reason> to_link(std::uint32_t member, frame&& f) {
    auto link = link_of(member);
    if (!link)
      return drop_reason::not_a_member;
    auto id = f.request_id;
    switch (f.kind) {
      case frame_kind::propose_request:
        return pass<paxos::command>(link, request_in_atom::value, f);
      case frame_kind::read_request:
        return pass<std::string>(link, request_in_atom::value, f);
      case frame_kind::propose_batch_request:
        return pass<std::vector<paxos::command>>(link, request_in_atom::value, f);
      case frame_kind::status_request:
        if (!f.payload.empty())
          return drop_reason::bad_payload;
        caf::anon_send(link, request_in_atom::value, id);
        return std::nullopt;
      case frame_kind::propose_reply:
        return pass<paxos::client_reply>(link, reply_in_atom::value, f);
      case frame_kind::propose_batch_reply:
        return pass<std::vector<paxos::client_reply>>(link, reply_in_atom::value, f);
      case frame_kind::read_reply:
        return pass<actors::read_reply>(link, reply_in_atom::value, f);
      case frame_kind::status_reply:
        return pass<actors::replica_status>(link, reply_in_atom::value, f);
      default:
        return drop_reason::unexpected_kind;
    }
  }
};

peer_service::peer_service(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

peer_service::~peer_service() {
  stop();
}

std::unique_ptr<peer_service> peer_service::start(caf::actor_system& sys, caf::actor replica,
                                                  service_options opts) {
  auto p = std::make_unique<impl>();
  p->sys = &sys;
  p->replica = replica;
  p->self = opts.self;
  p->snapshot_out = opts.snapshot_out;
  p->snapshot_in = opts.snapshot_in;
  p->request_timeout = opts.request_timeout;
  // One slot for every link: the node reassembles one incoming snapshot at
  // a time, however many members decide to send it theirs (issue 9).
  if (!p->snapshot_in.slot)
    p->snapshot_in.slot = std::make_shared<snapshot_slot>(p->snapshot_in.idle_ms);
  transport_options t;
  t.self = opts.self;
  t.members = opts.members;
  t.tls = std::move(opts.tls);
  t.cluster_id = opts.cluster_id;
  t.log = opts.log;
  t.direct_write_bytes = opts.direct_write_bytes;
  // A member may connect and send before the links below exist: the
  // transport's thread waits the few microseconds until they do.
  auto* raw = p.get();
  auto ready = std::make_shared<std::atomic<bool>>(false);
  t.on_frame = [raw, ready](std::uint32_t member, frame&& f) -> std::optional<drop_reason> {
    while (!ready->load())
      std::this_thread::yield();
    return raw->deliver(member, std::move(f));
  };
  p->net = transport::start(std::move(t));
  if (opts.outlet)
    opts.outlet->attach(p->net);
  for (auto& [id, where] : opts.members) {
    if (id == opts.self)
      continue;
    p->links.emplace(id, spawn_member_link(sys, p->link_for(id), p->net, replica));
  }
  ready->store(true);
  return std::unique_ptr<peer_service>{new peer_service{std::move(p)}};
}

actors::peer_map peer_service::links() const {
  std::lock_guard<std::mutex> guard{impl_->links_mtx};
  return impl_->links;
}

actors::peer_map peer_service::set_members(
  const std::map<std::uint32_t, std::pair<std::string, std::uint16_t>>& members) {
  if (!impl_->net)
    return {};
  // Links first, then the transport: a frame from a new member finds its link.
  std::vector<caf::actor> stopped;
  {
    std::lock_guard<std::mutex> guard{impl_->links_mtx};
    for (auto& [id, where] : members)
      if (id != impl_->self && impl_->links.count(id) == 0) {
        impl_->links.emplace(
          id, spawn_member_link(*impl_->sys, impl_->link_for(id), impl_->net, impl_->replica));
      }
    for (auto it = impl_->links.begin(); it != impl_->links.end();)
      if (members.count(it->first) == 0) {
        stopped.push_back(it->second);
        it = impl_->links.erase(it);
      } else {
        ++it;
      }
  }
  impl_->net->set_members(members);
  for (auto& link : stopped)
    caf::anon_send_exit(link, caf::exit_reason::user_shutdown);
  return links();
}

std::string peer_service::drop_summary() const {
  return impl_->net ? impl_->net->counters().summary() : std::string{};
}

std::uint64_t peer_service::drops(drop_reason r) const {
  return impl_->net ? impl_->net->counters().get(r) : 0;
}

bool peer_service::connected(std::uint32_t member) const {
  return impl_->net && impl_->net->connected(member);
}

void peer_service::stop() {
  if (!impl_->net)
    return;
  impl_->net->stop();
  std::lock_guard<std::mutex> guard{impl_->links_mtx};
  for (auto& [id, link] : impl_->links)
    caf::anon_send_exit(link, caf::exit_reason::user_shutdown);
  impl_->links.clear();
}

}  // namespace ballot::peer
