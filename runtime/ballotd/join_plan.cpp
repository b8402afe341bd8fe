#include "runtime/ballotd/join_plan.hpp"

#include <sstream>

#include "actors/backup/cluster_id.hpp"
#include "actors/backup/sha256.hpp"

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

}  // namespace ballot::ballotd
