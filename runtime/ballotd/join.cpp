#include "runtime/ballotd/join.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "actors/backup/cluster_id.hpp"
#include "actors/backup/sha256.hpp"
#include "actors/paxos/member_report.hpp"
#include "runtime/ballotd/cluster_id_file.hpp"
#include "runtime/ballotd/node.hpp"
#include "runtime/client/client.hpp"
#include "runtime/client/endpoint.hpp"
#include "runtime/log/log.hpp"

namespace ballot::ballotd {

namespace {

/// Asks the cluster; adds this node when --id is not given.
std::optional<join_plan> ask_cluster(const options& o, int& code) {
  client::options co;
  std::vector<client::endpoint> parsed;
  std::string error;
  if (!client::parse_endpoints(o.join, parsed, error)) {
    std::fprintf(stderr, "ballotd: --join %s: %s\n", o.join.c_str(), error.c_str());
    code = exit_usage;
    return std::nullopt;
  }
  co.endpoints.clear();
  for (auto& ep : parsed)
    co.endpoints.push_back(ep.to_string());
  co.timeout = std::chrono::seconds(10);
  co.tls.ca_file = o.join_cacert;
  client::client c{co};
  auto self = *o.peer_address;
  auto id = o.id;
  if (id == 0) {
    auto added = c.member_add(self.to_string(), o.client.to_string());
    if (added.ok()) {
      id = added.id;
      logging::info("joined the cluster as learner " + std::to_string(id),
                    {{"event", "member_added"}, {"member", id}});
    } else if (added.code != kv::result_code::bad_request) {
      std::fprintf(stderr, "ballotd: --join: cannot add this node to the cluster at %s: %s (%s)\n",
                   o.join.c_str(), kv::to_string(added.code), added.message.c_str());
      code = added.code == kv::result_code::unavailable ? exit_data : exit_usage;
      return std::nullopt;
    }
    // Refused: an earlier try of this very join may have added it (its
    // answer lost); the member with this peer address is then this node.
    if (id == 0) {
      auto listing = c.member_list();
      for (auto& m : listing.members)
        if (m.peer_address == self.to_string() && m.client_address == o.client.to_string() &&
            m.learner)
          id = m.id;
      if (id == 0) {
        std::fprintf(stderr, "ballotd: --join: the cluster refused to add this node: %s\n",
                     added.message.c_str());
        code = exit_usage;
        return std::nullopt;
      }
    }
  }
  auto l = c.member_list();
  if (!l.ok()) {
    std::fprintf(stderr, "ballotd: --join: cannot list the members at %s: %s (%s)\n",
                 o.join.c_str(), kv::to_string(l.code), l.message.c_str());
    code = exit_data;
    return std::nullopt;
  }
  cluster_facts facts;
  for (auto& m : l.members)
    facts.members.push_back({m.id, m.learner, m.peer_address});
  for (auto& m : l.bootstrap)
    facts.bootstrap.push_back(m.id);
  facts.alpha = l.alpha;
  facts.cluster_id = l.cluster_id;
  auto plan = plan_join(facts, id, self, error);
  if (!plan) {
    std::fprintf(stderr, "ballotd: --join: %s\n", error.c_str());
    code = exit_usage;
  }
  return plan;
}

}  // namespace

join_outcome prepare_join(const options& o) {
  join_outcome out;
  auto path = o.data_dir + "/" + join_file_name;
  std::ifstream in(path);
  if (in) {
    std::ostringstream text;
    text << in.rdbuf();
    std::string error;
    auto plan = decode_join_plan(text.str(), error);
    if (!plan) {
      std::fprintf(stderr, "ballotd: %s is damaged: %s\n", path.c_str(), error.c_str());
      out.code = exit_data;
      return out;
    }
    if (o.id != 0 && o.id != plan->id) {
      std::fprintf(stderr, "ballotd: --id %u, but %s says this node joined as member %u\n", o.id,
                   path.c_str(), plan->id);
      out.code = exit_usage;
      return out;
    }
    out.plan = std::move(plan);
    return out;
  }
  // The first join needs an empty directory: a node's log must never be
  // replayed under another identity than the one that wrote it.
  std::error_code ec;
  for (auto& entry : std::filesystem::directory_iterator(o.data_dir, ec)) {
    std::fprintf(stderr,
                 "ballotd: --join: %s is not empty (%s) and has no join file: a node joins with "
                 "an empty data directory\n",
                 o.data_dir.c_str(), entry.path().filename().c_str());
    out.code = exit_usage;
    return out;
  }
  out.plan = ask_cluster(o, out.code);
  if (!out.plan)
    return out;
  if (auto err = write_file_durably(o.data_dir, join_file_name, encode(*out.plan))) {
    std::fprintf(stderr, "ballotd: cannot write %s: %s\n", path.c_str(), err->c_str());
    out.plan.reset();
    out.code = exit_data;
  }
  return out;
}

}  // namespace ballot::ballotd
