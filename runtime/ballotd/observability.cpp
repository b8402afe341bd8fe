#include "runtime/ballotd/observability.hpp"

#include <charconv>
#include <utility>

#include "runtime/ballotd/node_metrics.hpp"
#include "runtime/ballotd/status_page.hpp"
#include "runtime/client/status_json.hpp"
#include "runtime/gateway/status_summary.hpp"
#include "runtime/json/json_line.hpp"
#include "runtime/metrics/http_server.hpp"

namespace ballot::ballotd {

namespace {

using json = ballot::json::value;

constexpr const char* text_type = "text/plain; charset=utf-8";

/// The client library's view of one probe, so that /status is written by
/// the same code as `ballotctl --json status`.
client::cluster_status to_cluster_status(const std::vector<gateway::member_view>& views,
                                         const observability::setup& s) {
  auto summary = gateway::summarize(views, s.self);
  client::cluster_status st;
  st.node_id = s.self;
  st.leader_id = summary.leader;
  st.commit_index = summary.commit_index;
  if (auto it = s.client_endpoints.find(s.self); it != s.client_endpoints.end())
    st.answered_by = it->second;
  for (auto& v : views) {
    client::member_status m;
    m.id = v.id;
    m.up = v.up;
    m.is_leader = v.up && v.is_leader;
    m.commit_index = v.commit_index;
    if (auto it = s.client_endpoints.find(v.id); it != s.client_endpoints.end())
      m.endpoint = it->second;
    st.members.push_back(std::move(m));
  }
  return st;
}

/// `max_lag=N` from a query string, else the default.
std::uint64_t max_lag_of(const std::string& query) {
  const std::string key = "max_lag=";
  auto at = query.find(key);
  if (at == std::string::npos)
    return observability::default_max_lag;
  auto begin = query.data() + at + key.size();
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(begin, query.data() + query.size(), v);
  return ec == std::errc{} && ptr != begin ? v : observability::default_max_lag;
}

json party_json(const lock_view::party& p) {
  return json{{"session", p.session}, {"mode", p.shared ? "shared" : "exclusive"}};
}

/// Everything the status page shows, as one JSON object.
std::string page_json(const std::vector<gateway::member_view>& views,
                      const observability::setup& s) {
  auto summary = gateway::summarize(views, s.self);
  auto health = gateway::judge_health(views, s.self, observability::default_max_lag);
  auto facts = s.metrics->facts();
  json out;
  out["node"] = s.embedded ? json("embedded") : json(s.self);
  out["status"] = json::parse(client::status_json(to_cluster_status(views, s)));
  out["health"] = {{"ok", health.ok}, {"reason", health.reason}};
  auto lag = summary.commit_index > summary.self_commit_index
               ? summary.commit_index - summary.self_commit_index
               : 0;
  out["lag"] = lag;
  auto replicas = json::array();
  for (auto& r : facts.replicas) {
    replicas.push_back(
      {{"id", r.id},
       {"role", r.role},
       {"leader", r.leader ? json(*r.leader) : json(nullptr)},
       {"commit_index", r.commit_index},
       {"ballot", std::to_string(r.ballot_round) + "." + std::to_string(r.ballot_node)},
       {"proposals_pending", r.proposals_pending}});
  }
  out["replicas"] = std::move(replicas);
  out["sessions"] = facts.sessions;
  json locks;
  locks["count"] = facts.locks;
  locks["holders"] = facts.holders;
  locks["waiters"] = facts.waiters;
  locks["hidden"] = facts.auth_enabled;
  locks["truncated"] = facts.locks_truncated;
  auto shown = json::array();
  for (auto& l : facts.locks_shown) {
    json j;
    j["name"] = ballot::json::text(l.name);
    auto holders = json::array();
    for (auto& p : l.holders)
      holders.push_back(party_json(p));
    auto waiters = json::array();
    for (auto& p : l.waiters)
      waiters.push_back(party_json(p));
    j["holders"] = std::move(holders);
    j["waiters"] = std::move(waiters);
    j["more_holders"] = l.more_holders;
    j["more_waiters"] = l.more_waiters;
    shown.push_back(std::move(j));
  }
  locks["list"] = std::move(shown);
  out["locks"] = std::move(locks);
  auto changes = json::array();
  for (auto& c : facts.changes)
    changes.push_back({{"at_ms", c.at_ms}, {"leader", c.leader}});
  out["leader_changes"] = std::move(changes);
  // Lock names are users' bytes: read by the one rule, never break the page.
  return ballot::json::line(out);
}

}  // namespace

std::unique_ptr<observability> observability::start(caf::actor_system& sys, setup s,
                                                    gateway::replica_finder find) {
  std::unique_ptr<observability> o{new observability};
  // Shared with the bridge's callbacks, which may run on a CAF thread while
  // this object is stopping.
  auto st = std::make_shared<const setup>(std::move(s));
  o->setup_ = st;
  gateway::options gw;
  gw.self = st->self;
  gw.members = st->members;
  o->bridge_ = std::make_unique<gateway::bridge>(sys, std::move(find), gw);

  auto* self = o.get();
  std::map<std::string, metrics::handler> routes;
  routes["/metrics"] = [st](const std::string&, const metrics::responder& respond) {
    respond({200, "text/plain; version=0.0.4; charset=utf-8", st->metrics->registry().render()});
  };
  routes["/health"] = [self, st](const std::string& query, const metrics::responder& respond) {
    auto max_lag = max_lag_of(query);
    self->bridge_->status([st, max_lag, respond](const std::vector<gateway::member_view>& views) {
      auto verdict = gateway::judge_health(views, st->self, max_lag);
      respond({verdict.ok ? 200 : 503, text_type, verdict.reason + "\n"});
    });
  };
  routes["/status"] = [self, st](const std::string&, const metrics::responder& respond) {
    self->bridge_->status([st, respond](const std::vector<gateway::member_view>& views) {
      respond({200, "application/json", client::status_json(to_cluster_status(views, *st)) + "\n"});
    });
  };
  routes["/ui/state"] = [self, st](const std::string&, const metrics::responder& respond) {
    self->bridge_->status([st, respond](const std::vector<gateway::member_view>& views) {
      respond({200, "application/json", page_json(views, *st) + "\n"});
    });
  };
  routes["/"] = [](const std::string&, const metrics::responder& respond) {
    respond({200, "text/html; charset=utf-8", status_page_html()});
  };
  metrics::http_options http;
  http.host = st->where.host;
  http.port = st->where.port;
  o->http_ = metrics::http_server::start(http, std::move(routes));
  return o;
}

observability::~observability() {
  stop();
}

std::string observability::endpoint() const {
  return http_ ? http_->endpoint() : setup_->where.to_string();
}

void observability::stop() {
  // The server first: its handlers use the bridge.
  if (http_)
    http_->stop();
  bridge_.reset();
}

}  // namespace ballot::ballotd
