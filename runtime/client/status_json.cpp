#include "runtime/client/status_json.hpp"

#include <nlohmann/json.hpp>

namespace ballot::client {

std::string status_json(const cluster_status& st) {
  nlohmann::ordered_json out;
  out["ok"] = true;
  out["leader"] = st.leader_id;
  out["commit_index"] = st.commit_index;
  out["answered_by"] = st.answered_by;
  out["node_id"] = st.node_id;
  auto members = nlohmann::ordered_json::array();
  for (auto& m : st.members) {
    nlohmann::ordered_json j;
    j["id"] = m.id;
    j["up"] = m.up;
    j["leader"] = m.is_leader;
    j["commit_index"] = m.commit_index;
    j["endpoint"] = m.endpoint;
    j["learner"] = m.learner;
    j["lag"] = m.lag;
    members.push_back(std::move(j));
  }
  out["members"] = std::move(members);
  // Endpoints are text a member reported: replace, never throw on bad UTF-8.
  return out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace ballot::client
