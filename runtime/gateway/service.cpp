#include "runtime/gateway/service.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <kj/async.h>

#include "actors/kv/command_codec.hpp"
#include "actors/replica/random_id.hpp"
#include "runtime/gateway/call_util.hpp"
#include "runtime/gateway/status_summary.hpp"

namespace ballot::gateway {

service::service(const bridge& br, const options& opts, kj::Timer& timer, std::size_t& in_flight)
    : bridge_(br),
      outbox_(br),
      opts_(opts),
      timer_(timer),
      in_flight_(in_flight),
      own_client_(actors::random_client_id()) {
  if (!opts_.feed)
    throw std::invalid_argument("gateway::service: options::feed is required");
}

kj::Promise<bridge_reply> service::ask(bool is_write, paxos::command cmd, std::string query,
                                       bool member_change) {
  if (is_write && (cmd.client == 0 || cmd.seq == 0)) {
    bridge_reply r;
    r.st = bridge_reply::status::invalid;
    r.message = cmd.client == 0 ? "requestId.clientId is 0: pick a random non-zero client id"
                                : "requestId.seq is 0: number a client's writes 1, 2, 3, ...";
    return r;
  }
  // The gateway's budget for everything between the sockets and the replica:
  // past it the caller hears `overloaded` now instead of waiting in a queue.
  auto bytes = cmd.payload.size() + query.size();
  if (asked_calls_ >= opts_.max_in_flight_calls ||
      (asked_calls_ > 0 && asked_bytes_ + bytes > opts_.max_in_flight_bytes)) {
    bridge_reply r;
    r.st = bridge_reply::status::overloaded;
    r.message = "the node has " + std::to_string(asked_calls_) + " calls (" +
                std::to_string(asked_bytes_) + " bytes) in flight; its limits are " +
                std::to_string(opts_.max_in_flight_calls) + " calls and " +
                std::to_string(opts_.max_in_flight_bytes) + " bytes";
    return r;
  }
  ++asked_calls_;
  asked_bytes_ += bytes;
  auto release = kj::defer([this, bytes] {
    --asked_calls_;
    asked_bytes_ -= bytes;
  });
  auto [answer, done] = replies_.handoff();
  if (member_change)
    outbox_.change_members(std::move(cmd.payload), std::move(done));
  else if (is_write)
    outbox_.write(std::move(cmd), std::move(done));
  else
    outbox_.read(std::move(query), std::move(done));
  // Every call of this turn of the event loop goes to the bridge in one
  // message, once the turn's other events (the other connections' calls
  // read in the same poll) have run.
  outbox_flush_.schedule([this] { outbox_.send(); });
  // The bridge answers by the request timeout; this guard only covers a
  // consensus layer that is gone (its actor stopped, the callback dropped).
  auto guard =
    timer_.afterDelay(to_kj(opts_.request_timeout + std::chrono::milliseconds(500))).then([] {
      return unavailable("the node's consensus layer did not answer");
    });
  // The analyzer loses track of std::function's storage, which the bridge owns by now.
  // NOLINTNEXTLINE(clang-analyzer-cplusplus.NewDeleteLeaks)
  return answer
    .catch_(
      [](kj::Exception&&) { return unavailable("the node's consensus layer is shutting down"); })
    .exclusiveJoin(kj::mv(guard))
    .attach(kj::mv(release));
}

kj::Promise<void> service::track(kj::Promise<void> call) {
  ++in_flight_;
  return call.attach(kj::defer([this] { --in_flight_; }));
}

kj::Promise<void> service::put(connection_context& conn, PutContext context) {
  auto params = context.getParams();
  auto key = params.getKey();
  auto value = params.getValue();
  std::string bad = bad_key(key, opts_.max_key_bytes);
  if (bad.empty() && value.size() > opts_.max_value_bytes)
    bad = over_limit("the value of key " + preview(key), value.size(), opts_.max_value_bytes);
  if (!bad.empty())
    return bad_request(context, bad);
  if (auto d = check(conn, auth::access::write, to_std(key), false, "put"))
    return refuse_access(context, d->unauthenticated, d->message);
  auto id = params.getId();
  // Encoded from the message's own bytes: no intermediate copy of the value.
  paxos::command cmd{id.getClientId(), id.getSeq(),
                     kv::encode_put({key.cStr(), key.size()},
                                    {reinterpret_cast<const char*>(value.begin()), value.size()},
                                    condition(params.getCondition()), user_of(conn))};
  return track(ask(true, std::move(cmd), {}).then([this, context](const bridge_reply& r) mutable {
    auto out = context.getResults().initResult();
    if (auto res = settle(r, opts_, [&] { return out.initError(); }))
      out.setVersion(res->version);
  }));
}

kj::Promise<void> service::get(connection_context& conn, GetContext context) {
  auto key = context.getParams().getKey();
  if (auto bad = bad_key(key, opts_.max_key_bytes); !bad.empty())
    return bad_request(context, bad);
  if (auto d = check(conn, auth::access::read, to_std(key), false, "get"))
    return refuse_access(context, d->unauthenticated, d->message);
  auto query = kv::encode(kv::get_request{to_std(key)});
  return track(
    ask(false, {}, std::move(query)).then([this, context](const bridge_reply& r) mutable {
      auto out = context.getResults().initResult();
      if (auto res = settle(r, opts_, [&] { return out.initError(); })) {
        auto entry = out.initEntry();
        entry.setKey(context.getParams().getKey());
        entry.setValue(as_data(res->value));
        entry.setVersion(res->version);
      }
    }));
}

kj::Promise<void> service::delete_(connection_context& conn, DeleteContext context) {
  auto params = context.getParams();
  auto key = params.getKey();
  if (auto bad = bad_key(key, opts_.max_key_bytes); !bad.empty())
    return bad_request(context, bad);
  if (auto d = check(conn, auth::access::write, to_std(key), false, "delete"))
    return refuse_access(context, d->unauthenticated, d->message);
  auto id = params.getId();
  kv::del_request req{to_std(key), condition(params.getCondition()), user_of(conn)};
  paxos::command cmd{id.getClientId(), id.getSeq(), kv::encode(req)};
  return track(ask(true, std::move(cmd), {}).then([this, context](const bridge_reply& r) mutable {
    auto out = context.getResults().initResult();
    if (auto res = settle(r, opts_, [&] { return out.initError(); }))
      out.setRevision(res->version);
  }));
}

kj::Promise<void> service::list(connection_context& conn, ListContext context) {
  auto params = context.getParams();
  auto prefix = params.getPrefix();
  if (prefix.size() > opts_.max_key_bytes)
    return bad_request(context,
                       over_limit("prefix " + preview(prefix), prefix.size(), opts_.max_key_bytes));
  if (auto d = check(conn, auth::access::read, to_std(prefix), true, "list"))
    return refuse_access(context, d->unauthenticated, d->message);
  auto start_after = params.getStartAfter();
  if (start_after.size() > opts_.max_key_bytes)
    return bad_request(context, over_limit("startAfter " + preview(start_after), start_after.size(),
                                           opts_.max_key_bytes));
  auto limit = params.getLimit();
  if (limit == 0 || limit > opts_.max_list_entries)
    limit = opts_.max_list_entries;
  bool with_values = params.getWithValues();
  // The byte bound is applied where the keys are (the leader), so a big page
  // never travels: neither to this gateway nor to the client.
  kv::list_request req{to_std(prefix), limit, to_std(start_after), with_values,
                       opts_.max_list_bytes};
  auto query = kv::encode(req);
  return track(ask(false, {}, std::move(query))
                 .then([this, context, with_values](const bridge_reply& r) mutable {
                   auto out = context.getResults().initResult();
                   auto res = settle(r, opts_, [&] { return out.initError(); });
                   if (!res)
                     return;
                   auto listing = out.initListing();
                   auto entries = listing.initEntries(static_cast<unsigned>(res->entries.size()));
                   for (unsigned i = 0; i < res->entries.size(); ++i) {
                     auto& e = res->entries[i];
                     entries[i].setKey(e.key);
                     entries[i].setVersion(e.version);
                     if (with_values)
                       entries[i].setValue(as_data(e.value));
                   }
                   listing.setTruncated(res->truncated);
                   listing.setRevision(res->version);
                 }));
}

kj::Promise<void> service::status(connection_context& /*conn*/, StatusContext context) {
  using views = std::vector<member_view>;
  auto [answer, done] = handoff<views>();
  bridge_.status(std::move(done));
  auto guard =
    timer_.afterDelay(to_kj(opts_.status_timeout + std::chrono::milliseconds(500))).then([] {
      return std::optional<views>{};
    });
  auto answered = answer.then([](views v) { return std::optional<views>{std::move(v)}; },
                              [](kj::Exception&&) { return std::optional<views>{}; });
  return track(
    answered.exclusiveJoin(kj::mv(guard)).then([this, context](std::optional<views> v) mutable {
      auto out = context.getResults().initResult();
      if (!v) {
        out.initError().setUnavailable("the node's consensus layer did not answer");
        return;
      }
      auto summary = summarize(*v, opts_.self);
      auto st = out.initStatus();
      st.setNodeId(opts_.self);
      st.setLeaderId(summary.leader);
      st.setCommitIndex(summary.commit_index);
      auto members = st.initMembers(static_cast<unsigned>(v->size()));
      for (unsigned i = 0; i < v->size(); ++i) {
        auto& m = (*v)[i];
        auto out_m = members[i];
        out_m.setId(m.id);
        out_m.setUp(m.up);
        out_m.setIsLeader(m.up && m.is_leader);
        out_m.setCommitIndex(m.commit_index);
        out_m.setEndpoint(opts_.endpoint_of(m.id));
        out_m.setLearner(m.learner);
        if (m.up && summary.leader_answered && summary.commit_index > m.commit_index)
          out_m.setLag(summary.commit_index - m.commit_index);
      }
    }));
}

}  // namespace ballot::gateway
