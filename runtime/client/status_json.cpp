#include "runtime/client/status_json.hpp"

#include "runtime/json/json_line.hpp"

namespace ballot::client {

std::string status_json(const cluster_status& st) {
  json::value out;
  out["ok"] = true;
  out["leader"] = st.leader_id;
  out["commit_index"] = st.commit_index;
  out["answered_by"] = json::text(st.answered_by);
  out["node_id"] = st.node_id;
  auto members = json::value::array();
  for (auto& m : st.members) {
    json::value j;
    j["id"] = m.id;
    j["up"] = m.up;
    j["leader"] = m.is_leader;
    j["commit_index"] = m.commit_index;
    j["endpoint"] = json::text(m.endpoint);
    j["learner"] = m.learner;
    j["lag"] = m.lag;
    members.push_back(std::move(j));
  }
  out["members"] = std::move(members);
  // Endpoints are text a member reported: json::text above, so bad UTF-8
  // neither throws nor is lost.
  return json::line(out);
}

}  // namespace ballot::client
