#include "runtime/gateway/service.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <kj/async.h>

#include "actors/kv/command_codec.hpp"

namespace ballot::gateway {

namespace {

std::string to_std(capnp::Text::Reader text) {
  return {text.cStr(), text.size()};
}

std::string to_std(capnp::Data::Reader data) {
  return {reinterpret_cast<const char*>(data.begin()), data.size()};
}

capnp::Data::Reader as_data(const std::string& bytes) {
  return {reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size()};
}

std::optional<std::uint64_t> condition(schemas::client::Precondition::Reader pre) {
  if (pre.which() == schemas::client::Precondition::IF_VERSION)
    return pre.getIfVersion();
  return std::nullopt;
}

/// The first bytes of a (possibly huge) client-supplied string, for messages.
std::string preview(capnp::Text::Reader text) {
  constexpr std::size_t max = 32;
  std::string out{text.cStr(), std::min(text.size(), max)};
  return "\"" + out + (text.size() > max ? "...\"" : "\"");
}

/// "<what> is <size> bytes, over the limit of <limit>": one wording for every
/// size refusal (key, value, prefix), which clients and tests match on.
std::string over_limit(const std::string& what, std::size_t size, std::size_t limit) {
  return what + " is " + std::to_string(size) + " bytes, over the limit of " +
         std::to_string(limit);
}

/// Why `key` cannot be a key (empty, or over `max_bytes`), or "" if it can.
std::string bad_key(capnp::Text::Reader key, std::size_t max_bytes) {
  if (key.size() == 0)
    return "the key is empty";
  if (key.size() > max_bytes)
    return over_limit("key " + preview(key), key.size(), max_bytes);
  return {};
}

/// Answers the call at once with a bad-request error saying `why`: the request
/// is refused before anything is proposed.
template <class Context>
kj::Promise<void> bad_request(Context& context, const std::string& why) {
  context.getResults().initResult().initError().setBadRequest(why);
  return kj::READY_NOW;
}

bridge_reply unavailable(std::string why) {
  bridge_reply r;
  r.st = bridge_reply::status::unavailable;
  r.message = std::move(why);
  return r;
}

kj::Duration to_kj(std::chrono::milliseconds ms) {
  return ms.count() * kj::MILLISECONDS;
}

/// Interprets the bridge's answer. Failures and refusals go into the error
/// variant that `init_error()` creates; an ok key/value result is returned.
template <class InitError>
std::optional<kv::result> settle(const bridge_reply& r, const options& opts, InitError init_error) {
  switch (r.st) {
    case bridge_reply::status::ok:
      break;
    case bridge_reply::status::not_leader: {
      auto hint = init_error().initNotLeader();
      if (r.leader_hint) {
        hint.setLeaderId(*r.leader_hint);
        if (auto it = opts.client_endpoints.find(*r.leader_hint); it != opts.client_endpoints.end())
          hint.setEndpoint(it->second);
      }
      return std::nullopt;
    }
    case bridge_reply::status::unavailable:
      init_error().setUnavailable(r.message);
      return std::nullopt;
  }
  kv::result res;
  std::string error;
  if (!kv::decode(r.result, res, error)) {
    init_error().setUnavailable("the state machine's answer does not decode: " + error);
    return std::nullopt;
  }
  switch (res.code) {
    case kv::result_code::ok:
      return res;
    case kv::result_code::not_found:
      init_error().setNotFound();
      break;
    case kv::result_code::version_mismatch:
      init_error().setVersionMismatch(res.version);
      break;
    case kv::result_code::bad_request:
      init_error().setBadRequest(res.message);
      break;
    case kv::result_code::unavailable:
      init_error().setUnavailable(res.message);
      break;
  }
  return std::nullopt;
}

/// A promise on this (KJ) thread and a callback that fulfills it from any
/// thread. The value travels in a shared box and only a void fulfillment
/// crosses threads: the fulfillment orders the box's write before the read.
template <class T>
std::pair<kj::Promise<T>, std::function<void(T)>> handoff() {
  auto paf = kj::newPromiseAndCrossThreadFulfiller<void>();
  auto box = std::make_shared<T>();
  // std::function needs a copyable callable: share the (thread-safe) fulfiller.
  auto fulfiller =
    std::make_shared<kj::Own<kj::CrossThreadPromiseFulfiller<void>>>(kj::mv(paf.fulfiller));
  std::function<void(T)> done = [box, fulfiller](T value) {
    *box = std::move(value);
    (*fulfiller)->fulfill();
  };
  return {paf.promise.then([box]() mutable { return std::move(*box); }), std::move(done)};
}

}  // namespace

service::service(const bridge& br, const options& opts, kj::Timer& timer, std::size_t& in_flight)
    : bridge_(br), opts_(opts), timer_(timer), in_flight_(in_flight) {}

kj::Promise<bridge_reply> service::ask(bool is_write, paxos::command cmd, std::string query) {
  auto [answer, done] = handoff<bridge_reply>();
  if (is_write)
    bridge_.write(std::move(cmd), std::move(done));
  else
    bridge_.read(std::move(query), std::move(done));
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
    .exclusiveJoin(kj::mv(guard));
}

kj::Promise<void> service::track(kj::Promise<void> call) {
  ++in_flight_;
  return call.attach(kj::defer([this] { --in_flight_; }));
}

kj::Promise<void> service::put(PutContext context) {
  auto params = context.getParams();
  auto key = params.getKey();
  auto value = params.getValue();
  std::string bad = bad_key(key, opts_.max_key_bytes);
  if (bad.empty() && value.size() > opts_.max_value_bytes)
    bad = over_limit("the value of key " + preview(key), value.size(), opts_.max_value_bytes);
  if (!bad.empty())
    return bad_request(context, bad);
  auto id = params.getId();
  kv::put_request req{to_std(key), to_std(value), condition(params.getCondition())};
  paxos::command cmd{id.getClientId(), id.getSeq(), kv::encode(req)};
  return track(ask(true, std::move(cmd), {}).then([this, context](const bridge_reply& r) mutable {
    auto out = context.getResults().initResult();
    if (auto res = settle(r, opts_, [&] { return out.initError(); }))
      out.setVersion(res->version);
  }));
}

kj::Promise<void> service::get(GetContext context) {
  auto key = context.getParams().getKey();
  if (auto bad = bad_key(key, opts_.max_key_bytes); !bad.empty())
    return bad_request(context, bad);
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

kj::Promise<void> service::delete_(DeleteContext context) {
  auto params = context.getParams();
  auto key = params.getKey();
  if (auto bad = bad_key(key, opts_.max_key_bytes); !bad.empty())
    return bad_request(context, bad);
  auto id = params.getId();
  kv::del_request req{to_std(key), condition(params.getCondition())};
  paxos::command cmd{id.getClientId(), id.getSeq(), kv::encode(req)};
  return track(ask(true, std::move(cmd), {}).then([this, context](const bridge_reply& r) mutable {
    auto out = context.getResults().initResult();
    if (auto res = settle(r, opts_, [&] { return out.initError(); }))
      out.setRevision(res->version);
  }));
}

kj::Promise<void> service::list(ListContext context) {
  auto params = context.getParams();
  auto prefix = params.getPrefix();
  if (prefix.size() > opts_.max_key_bytes)
    return bad_request(context,
                       over_limit("prefix " + preview(prefix), prefix.size(), opts_.max_key_bytes));
  auto limit = params.getLimit();
  if (limit == 0 || limit > opts_.max_list_entries)
    limit = opts_.max_list_entries;
  auto query = kv::encode(kv::list_request{to_std(prefix), limit});
  return track(
    ask(false, {}, std::move(query)).then([this, context](const bridge_reply& r) mutable {
      auto out = context.getResults().initResult();
      if (auto res = settle(r, opts_, [&] { return out.initError(); })) {
        auto listing = out.initListing();
        auto entries = listing.initEntries(static_cast<unsigned>(res->entries.size()));
        for (unsigned i = 0; i < res->entries.size(); ++i) {
          entries[i].setKey(res->entries[i].key);
          entries[i].setVersion(res->entries[i].version);
        }
        listing.setTruncated(res->truncated);
        listing.setRevision(res->version);
      }
    }));
}

kj::Promise<void> service::status(StatusContext context) {
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
      const member_view* self = nullptr;
      const member_view* leader = nullptr;
      for (auto& m : *v) {
        if (m.id == opts_.self)
          self = &m;
        if (m.up && m.is_leader && (!leader || m.commit_index > leader->commit_index))
          leader = &m;
      }
      auto st = out.initStatus();
      st.setNodeId(opts_.self);
      if (leader)
        st.setLeaderId(leader->id);
      else if (self && self->up && self->leader_hint)
        st.setLeaderId(*self->leader_hint);
      if (leader)
        st.setCommitIndex(leader->commit_index);
      else if (self)
        st.setCommitIndex(self->commit_index);
      auto members = st.initMembers(static_cast<unsigned>(v->size()));
      for (unsigned i = 0; i < v->size(); ++i) {
        auto& m = (*v)[i];
        auto out_m = members[i];
        out_m.setId(m.id);
        out_m.setUp(m.up);
        out_m.setIsLeader(m.up && m.is_leader);
        out_m.setCommitIndex(m.commit_index);
        if (auto it = opts_.client_endpoints.find(m.id); it != opts_.client_endpoints.end())
          out_m.setEndpoint(it->second);
      }
    }));
}

}  // namespace ballot::gateway
