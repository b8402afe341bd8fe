// The client library's key/value calls (put, get, delete, list, status):
// their requests on the wire, and the public calls, blocking (through
// `impl::wait`) and asynchronous.
#include <string>
#include <utility>

#include "runtime/client/client.hpp"
#include "runtime/client/client_impl.hpp"

namespace ballot::client {

using kv::result;
using kv::result_code;

namespace {

kj::Promise<outcome> send_put(link& l, const call& c, std::uint64_t client_id) {
  auto req = l.cap.putRequest();
  auto rid = req.initId();
  rid.setClientId(client_id);
  rid.setSeq(c.seq);
  req.setKey(as_text(c.key));
  req.setValue(as_data(c.value));
  if (c.if_version)
    req.initCondition().setIfVersion(*c.if_version);
  return req.send().then([](capnp::Response<Ballot::PutResults> r) {
    auto res = r.getResult();
    if (!res.isVersion())
      return from_error(res.getError());
    result ok;
    ok.version = res.getVersion();
    return finished(std::move(ok));
  });
}

kj::Promise<outcome> send_get(link& l, const call& c) {
  auto req = l.cap.getRequest();
  req.setKey(as_text(c.key));
  return req.send().then([](capnp::Response<Ballot::GetResults> r) {
    auto res = r.getResult();
    if (!res.isEntry())
      return from_error(res.getError());
    auto entry = res.getEntry();
    result ok;
    auto value = entry.getValue();
    ok.value.assign(reinterpret_cast<const char*>(value.begin()), value.size());
    ok.version = entry.getVersion();
    return finished(std::move(ok));
  });
}

kj::Promise<outcome> send_del(link& l, const call& c, std::uint64_t client_id) {
  auto req = l.cap.deleteRequest();
  auto rid = req.initId();
  rid.setClientId(client_id);
  rid.setSeq(c.seq);
  req.setKey(as_text(c.key));
  if (c.if_version)
    req.initCondition().setIfVersion(*c.if_version);
  return req.send().then([](capnp::Response<Ballot::DeleteResults> r) {
    auto res = r.getResult();
    if (!res.isRevision())
      return from_error(res.getError());
    result ok;
    ok.version = res.getRevision();
    return finished(std::move(ok));
  });
}

kj::Promise<outcome> send_list(link& l, const call& c) {
  auto req = l.cap.listRequest();
  req.setPrefix(as_text(c.key));
  req.setLimit(c.limit);
  req.setStartAfter(as_text(c.start_after));
  req.setWithValues(c.with_values);
  return req.send().then([](capnp::Response<Ballot::ListResults> r) {
    auto res = r.getResult();
    if (!res.isListing())
      return from_error(res.getError());
    auto listing = res.getListing();
    result ok;
    for (auto e : listing.getEntries()) {
      auto value = e.getValue();
      ok.entries.push_back(
        {to_std(e.getKey()), e.getVersion(),
         std::string(reinterpret_cast<const char*>(value.begin()), value.size())});
    }
    ok.truncated = listing.getTruncated();
    ok.version = listing.getRevision();
    return finished(std::move(ok));
  });
}

kj::Promise<outcome> send_status(link& l, const std::string& address) {
  return l.cap.statusRequest().send().then([address](capnp::Response<Ballot::StatusResults> r) {
    auto res = r.getResult();
    if (!res.isStatus())
      return from_error(res.getError());
    auto st = res.getStatus();
    outcome o;
    o.status.answered_by = address;
    o.status.node_id = st.getNodeId();
    o.status.leader_id = st.getLeaderId();
    o.status.commit_index = st.getCommitIndex();
    for (auto m : st.getMembers())
      o.status.members.push_back({m.getId(), m.getUp(), m.getIsLeader(), m.getCommitIndex(),
                                  to_std(m.getEndpoint()), m.getLearner(), m.getLag()});
    return o;
  });
}

}  // namespace

kj::Promise<outcome> client::impl::send_kv(link& l, const call& c, const std::string& address) {
  switch (c.kind) {
    case op::put:
      return send_put(l, c, id);
    case op::get:
      return send_get(l, c);
    case op::del:
      return send_del(l, c, id);
    case op::list:
      return send_list(l, c);
    default:
      return send_status(l, address);
  }
}

kv::result client::put(const std::string& key, const std::string& value,
                       std::optional<std::uint64_t> if_version) {
  auto c = make_call(op::put, impl_->opts.timeout);
  c->key = key;
  c->value = value;
  c->if_version = if_version;
  return impl_->wait(c).res;
}

kv::result client::get(const std::string& key) {
  auto c = make_call(op::get, impl_->opts.timeout);
  c->key = key;
  return impl_->wait(c).res;
}

kv::result client::del(const std::string& key, std::optional<std::uint64_t> if_version) {
  auto c = make_call(op::del, impl_->opts.timeout);
  c->key = key;
  c->if_version = if_version;
  return impl_->wait(c).res;
}

kv::result client::list(const std::string& prefix, std::uint32_t limit) {
  return list(prefix, limit, {}, false);
}

kv::result client::list(const std::string& prefix, std::uint32_t limit,
                        const std::string& start_after, bool with_values) {
  auto c = make_call(op::list, impl_->opts.timeout);
  c->key = prefix;
  c->limit = limit;
  c->start_after = start_after;
  c->with_values = with_values;
  return impl_->wait(c).res;
}

cluster_status client::status() {
  auto o = impl_->wait(make_call(op::status, impl_->opts.timeout));
  if (!o.res.ok()) {
    o.status.code = o.res.code;
    o.status.message = o.res.message;
  }
  return o.status;
}

void client::async_put(const std::string& key, const std::string& value,
                       std::optional<std::uint64_t> if_version, callback done) {
  auto c = make_call(op::put, impl_->opts.timeout);
  c->key = key;
  c->value = value;
  c->if_version = if_version;
  c->done = [done = std::move(done)](outcome o) { done(std::move(o.res)); };
  impl_->submit(c);
}

void client::async_get(const std::string& key, callback done) {
  auto c = make_call(op::get, impl_->opts.timeout);
  c->key = key;
  c->done = [done = std::move(done)](outcome o) { done(std::move(o.res)); };
  impl_->submit(c);
}

void client::async_del(const std::string& key, std::optional<std::uint64_t> if_version,
                       callback done) {
  auto c = make_call(op::del, impl_->opts.timeout);
  c->key = key;
  c->if_version = if_version;
  c->done = [done = std::move(done)](outcome o) { done(std::move(o.res)); };
  impl_->submit(c);
}

void client::async_list(const std::string& prefix, std::uint32_t limit, callback done) {
  async_list(prefix, limit, {}, false, std::move(done));
}

void client::async_list(const std::string& prefix, std::uint32_t limit,
                        const std::string& start_after, bool with_values, callback done) {
  auto c = make_call(op::list, impl_->opts.timeout);
  c->key = prefix;
  c->limit = limit;
  c->start_after = start_after;
  c->with_values = with_values;
  c->done = [done = std::move(done)](outcome o) { done(std::move(o.res)); };
  impl_->submit(c);
}

void client::async_status(status_callback done) {
  auto c = make_call(op::status, impl_->opts.timeout);
  c->done = [done = std::move(done)](outcome o) {
    if (!o.res.ok()) {
      o.status.code = o.res.code;
      o.status.message = o.res.message;
    }
    done(std::move(o.status));
  };
  impl_->submit(c);
}

}  // namespace ballot::client
