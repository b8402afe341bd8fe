#include "runtime/ballotd/join.hpp"

#include <cstdio>
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

constexpr const char* magic = "ballot-join 1";
constexpr std::size_t max_lines = 200;

bool number(const std::string& s, std::uint64_t& out) {
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos)
    return false;
  out = std::stoull(s);
  return true;
}

}  // namespace

std::string encode(const join_plan& p) {
  std::ostringstream out;
  out << magic << "\nid " << p.id << "\nalpha " << p.alpha << "\ncluster "
      << backup::to_hex(p.cluster_id) << "\n";
  for (auto id : p.bootstrap)
    out << "bootstrap " << id << "\n";
  for (auto& [id, where] : p.peers)
    out << "peer " << id << " " << where.to_string() << "\n";
  return out.str();
}

std::optional<join_plan> decode_join_plan(const std::string& text, std::string& error) {
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line != magic) {
    error = "line 1 is not '" + std::string{magic} + "'";
    return std::nullopt;
  }
  join_plan p;
  bool has_cluster = false;
  for (std::size_t n = 2; std::getline(in, line); ++n) {
    if (n > max_lines) {
      error = "more than " + std::to_string(max_lines) + " lines";
      return std::nullopt;
    }
    std::istringstream f(line);
    std::string key, a, b;
    f >> key >> a >> b;
    std::uint64_t v = 0;
    bool ok = false;
    if (key == "id" && number(a, v) && v > 0 && v <= UINT32_MAX && b.empty()) {
      p.id = static_cast<std::uint32_t>(v);
      ok = true;
    } else if (key == "alpha" && number(a, v) && v > 0 && b.empty()) {
      p.alpha = v;
      ok = true;
    } else if (key == "cluster" && b.empty()) {
      std::string why;
      if (auto id = backup::parse_cluster_id(a, why)) {
        p.cluster_id = *id;
        ok = has_cluster = true;
      }
    } else if (key == "bootstrap" && number(a, v) && v > 0 && v <= UINT32_MAX && b.empty()) {
      p.bootstrap.push_back(static_cast<std::uint32_t>(v));
      ok = true;
    } else if (key == "peer" && number(a, v) && v > 0 && v <= UINT32_MAX) {
      if (auto ep = parse_endpoint(b)) {
        p.peers[static_cast<std::uint32_t>(v)] = *ep;
        ok = true;
      }
    }
    if (!ok) {
      error = "line " + std::to_string(n) + " is malformed: '" + line.substr(0, 80) + "'";
      return std::nullopt;
    }
  }
  if (p.id == 0 || p.alpha == 0 || !has_cluster || p.bootstrap.empty() ||
      p.peers.count(p.id) == 0) {
    error = "it lacks the id, alpha, cluster id, bootstrap members or this node's own address";
    return std::nullopt;
  }
  return p;
}

std::optional<join_plan> plan_join(const cluster_facts& facts, std::uint32_t self_id,
                                   const endpoint& peer_address, std::string& error) {
  join_plan p;
  p.alpha = facts.alpha;
  p.bootstrap = facts.bootstrap;
  p.cluster_id = facts.cluster_id;
  if (facts.alpha == 0 || facts.bootstrap.empty() || facts.cluster_id.size() != 32) {
    error = "the cluster's member list lacks alpha, the bootstrap members or the cluster id";
    return std::nullopt;
  }
  const member_entry* me = nullptr;
  for (auto& m : facts.members) {
    if (m.id == self_id)
      me = &m;
    auto ep = parse_endpoint(m.peer);
    if (ep)
      p.peers[m.id] = *ep;
  }
  if (me == nullptr) {
    error = "member " + std::to_string(self_id) +
            " is not in the cluster's membership (add it first: ballotctl member add)";
    return std::nullopt;
  }
  if (!me->learner) {
    error = "member " + std::to_string(self_id) +
            " is a voter: a node with an empty data directory must not take a voter's id (it "
            "would forget that member's votes). Remove it and add a new member instead";
    return std::nullopt;
  }
  if (me->peer != peer_address.to_string()) {
    error = "member " + std::to_string(self_id) + " has peer address " + me->peer + ", not " +
            peer_address.to_string() + " (--peer-address)";
    return std::nullopt;
  }
  p.id = self_id;
  p.peers[self_id] = peer_address;
  return p;
}

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
