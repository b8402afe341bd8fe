// Membership (schemas/client.capnp `memberList`, `memberChange`; README
// "Changing the membership"): a list is a linearizable read of the leader's
// membership (actors/paxos/member_report.hpp); a change goes to the leader's
// replica, which orders it in the log (paxos::replica::change_members).
#include <string>
#include <utility>

#include "actors/paxos/member_report.hpp"
#include "actors/replica/random_id.hpp"
#include "runtime/gateway/call_util.hpp"
#include "runtime/gateway/service.hpp"

namespace ballot::gateway {

namespace {

template <class List>
void fill(List out, const paxos::configuration& c, const paxos::member_report* r) {
  for (unsigned i = 0; i < c.members.size(); ++i) {
    auto& m = c.members[i];
    auto o = out[i];
    o.setId(m.id);
    o.setRole(m.role == paxos::member_role::voter ? schemas::client::MemberRole::VOTER
                                                  : schemas::client::MemberRole::LEARNER);
    o.setPeerAddress(m.peer);
    o.setClientAddress(m.client);
    if (r != nullptr)
      if (auto it = r->lag.find(m.id); it != r->lag.end()) {
        o.setLag(it->second);
        o.setLagKnown(true);
      }
  }
}

/// "ok 4" -> 4; 0 when the text is not that.
std::uint32_t id_of_ok(const std::string& result) {
  if (result.rfind("ok ", 0) != 0)
    return 0;
  try {
    auto v = std::stoul(result.substr(3));
    return v <= UINT32_MAX ? static_cast<std::uint32_t>(v) : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

kj::Promise<void> service::memberList(connection_context& /*conn*/, MemberListContext context) {
  // Open like status: addresses and roles, no keys (the cluster id proves
  // nothing on its own: peers with TLS authenticate by certificate).
  return track(
    ask(false, {}, paxos::members_query()).then([this, context](const bridge_reply& r) mutable {
      auto out = context.getResults().initResult();
      auto* bytes = accepted(r, opts_, [&] { return out.initError(); });
      if (bytes == nullptr)
        return;
      auto report = paxos::decode_member_report(*bytes);
      if (!report) {
        out.initError().setUnavailable("the leader's membership report is malformed");
        return;
      }
      auto l = out.initListing();
      fill(l.initMembers(static_cast<unsigned>(report->current.members.size())), report->current,
           &*report);
      fill(l.initBootstrap(static_cast<unsigned>(report->bootstrap.members.size())),
           report->bootstrap, nullptr);
      l.setLeaderId(report->leader);
      l.setCommitIndex(report->commit);
      l.setAlpha(report->alpha);
      l.setNextId(report->current.next_id);
      l.setClusterId(as_data(opts_.cluster_id));
    }));
}

kj::Promise<void> service::memberChange(connection_context& conn, MemberChangeContext context) {
  auto change = context.getParams().getChange();
  paxos::member_change c;
  std::string target;
  switch (change.which()) {
    case schemas::client::MemberChange::ADD_LEARNER: {
      auto a = change.getAddLearner();
      c.what = paxos::member_change::kind::add_learner;
      c.peer = to_std(a.getPeer());
      c.client = to_std(a.getClient());
      for (auto* addr : {&c.peer, &c.client})
        if (!paxos::valid_address(*addr))
          return bad_request(context, "member address \"" + addr->substr(0, 64) +
                                        "\" is not host:port (at most 255 bytes, no spaces)");
      target = "add " + c.peer;
      break;
    }
    case schemas::client::MemberChange::PROMOTE:
      c.what = paxos::member_change::kind::promote;
      c.id = change.getPromote();
      target = "promote " + std::to_string(c.id);
      break;
    case schemas::client::MemberChange::REMOVE:
      c.what = paxos::member_change::kind::remove;
      c.id = change.getRemove();
      target = "remove " + std::to_string(c.id);
      break;
    default:
      return bad_request(context, "unknown membership change");
  }
  if (c.what != paxos::member_change::kind::add_learner && c.id == 0)
    return bad_request(context, "member id 0 names no member");
  // One of our own when the client gave none: the bridge's retries (the
  // leader lost, a forward timed out) then answer as the first try did.
  c.token = change.getToken() != 0 ? change.getToken() : actors::random_client_id();
  if (auto d = check_root(conn, "member change", target))
    return refuse_access(context, d->unauthenticated, d->message);
  paxos::command cmd{paxos::membership_client, 1, paxos::encode(c)};
  return track(
    ask(true, std::move(cmd), {}, true).then([this, context](const bridge_reply& r) mutable {
      auto out = context.getResults().initResult();
      auto* result = accepted(r, opts_, [&] { return out.initError(); });
      if (result == nullptr)
        return;
      if (auto id = id_of_ok(*result)) {
        out.setMemberId(id);
        return;
      }
      // A learner still far behind may be promoted later; the
      // other refusals stand.
      if (paxos::is_lag_refusal(*result))
        out.initError().setUnavailable(*result);
      else
        out.initError().setBadRequest(*result);
    }));
}

}  // namespace ballot::gateway
