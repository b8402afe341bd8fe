// Membership in the client library (schemas/client.capnp `memberList`,
// `memberChange`; README "Changing the membership"). Both follow the leader
// like any call. A change carries a random token, the same on every retry of
// the call, so a retry after a lost answer (the node asked left the cluster,
// say) is answered as the first try was instead of being applied again.
#include <memory>
#include <string>
#include <utility>

#include "runtime/client/client.hpp"
#include "runtime/client/client_impl.hpp"

namespace ballot::client {

namespace {

template <class List>
std::vector<member_info> members_of(List list) {
  std::vector<member_info> out;
  for (auto m : list) {
    member_info i;
    i.id = m.getId();
    i.learner = m.getRole() == schemas::client::MemberRole::LEARNER;
    i.peer_address = to_std(m.getPeerAddress());
    i.client_address = to_std(m.getClientAddress());
    if (m.getLagKnown())
      i.lag = m.getLag();
    out.push_back(std::move(i));
  }
  return out;
}

}  // namespace

kj::Promise<outcome> client::impl::send_members(link& l, const call& c) {
  if (c.kind == op::member_list)
    return l.cap.memberListRequest().send().then(
      [](capnp::Response<Ballot::MemberListResults> r) -> outcome {
        auto res = r.getResult();
        if (!res.isListing())
          return from_error(res.getError());
        auto l = res.getListing();
        auto out = std::make_shared<member_listing>();
        out->members = members_of(l.getMembers());
        out->bootstrap = members_of(l.getBootstrap());
        out->leader_id = l.getLeaderId();
        out->commit_index = l.getCommitIndex();
        out->alpha = l.getAlpha();
        out->next_id = l.getNextId();
        auto id = l.getClusterId();
        out->cluster_id.assign(reinterpret_cast<const char*>(id.begin()), id.size());
        auto o = finished(kv::result{});
        o.members = std::move(out);
        return o;
      });
  auto req = l.cap.memberChangeRequest();
  auto change = req.initChange();
  change.setToken(c.member_token);
  switch (c.member_what) {
    case call::member_op::add: {
      auto a = change.initAddLearner();
      a.setPeer(as_text(c.key));
      a.setClient(as_text(c.value));
      break;
    }
    case call::member_op::promote:
      change.setPromote(c.member);
      break;
    case call::member_op::remove:
      change.setRemove(c.member);
      break;
  }
  return req.send().then([](capnp::Response<Ballot::MemberChangeResults> r) -> outcome {
    auto res = r.getResult();
    if (!res.isMemberId())
      return from_error(res.getError());
    auto o = finished(kv::result{});
    o.member_id = res.getMemberId();
    return o;
  });
}

member_listing client::member_list() {
  auto o = impl_->wait(make_call(op::member_list, impl_->opts.timeout));
  return answer_of(o.members, o.res);
}

namespace {

member_result result_of(const outcome& o) {
  member_result out;
  out.code = o.res.code;
  out.message = o.res.message;
  out.id = o.member_id;
  return out;
}

}  // namespace

member_result client::member_add(const std::string& peer, const std::string& client_address) {
  auto c = make_call(op::member_change, impl_->opts.timeout);
  c->member_token = random_client_id();
  c->member_what = call::member_op::add;
  c->key = peer;
  c->value = client_address;
  return result_of(impl_->wait(c));
}

member_result client::member_promote(std::uint32_t id) {
  auto c = make_call(op::member_change, impl_->opts.timeout);
  c->member_token = random_client_id();
  c->member_what = call::member_op::promote;
  c->member = id;
  return result_of(impl_->wait(c));
}

member_result client::member_remove(std::uint32_t id) {
  auto c = make_call(op::member_change, impl_->opts.timeout);
  c->member_token = random_client_id();
  c->member_what = call::member_op::remove;
  c->member = id;
  return result_of(impl_->wait(c));
}

}  // namespace ballot::client
