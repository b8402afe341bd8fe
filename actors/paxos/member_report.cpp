#include "actors/paxos/member_report.hpp"

#include <algorithm>
#include <sstream>
#include <vector>

namespace ballot::paxos {

namespace {

constexpr std::string_view query_text = std::string_view{"\0ballot:members", 15};

std::vector<std::string> fields_of(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string f; in >> f;)
    out.push_back(f);
  return out;
}

std::optional<std::uint64_t> number(const std::string& s) {
  if (s.empty() || s.size() > 19 || !std::all_of(s.begin(), s.end(), ::isdigit))
    return std::nullopt;
  return std::stoull(s);
}

void write_config(std::ostringstream& out, char tag, const configuration& c) {
  out << tag << ' ' << c.next_id << '\n';
  for (auto& m : c.members)
    out << "M " << m.id << ' ' << (m.role == member_role::voter ? 'v' : 'l') << ' '
        << (m.peer.empty() ? "-" : m.peer) << ' ' << (m.client.empty() ? "-" : m.client) << '\n';
}

/// Most members one report may name (membership caps a configuration at 64).
constexpr std::size_t max_report_members = 64;

}  // namespace

std::string members_query() {
  return std::string{query_text};
}

bool is_members_query(std::string_view query) {
  return query == query_text;
}

std::string encode(const member_report& r) {
  std::ostringstream out;
  out << "R " << r.alpha << ' ' << r.commit << ' ' << r.leader << '\n';
  write_config(out, 'B', r.bootstrap);
  write_config(out, 'C', r.current);
  for (auto& [id, behind] : r.lag)
    out << "L " << id << ' ' << behind << '\n';
  return out.str();
}

std::optional<member_report> decode_member_report(const std::string& bytes) {
  member_report r;
  configuration* into = nullptr;
  bool header = false;
  std::istringstream in(bytes);
  for (std::string line; std::getline(in, line);) {
    auto f = fields_of(line);
    if (f.empty())
      continue;
    if (f[0] == "R" && f.size() == 4) {
      auto a = number(f[1]), c = number(f[2]), l = number(f[3]);
      if (!a || !c || !l || *l > UINT32_MAX)
        return std::nullopt;
      r.alpha = *a;
      r.commit = *c;
      r.leader = static_cast<node_id>(*l);
      header = true;
    } else if ((f[0] == "B" || f[0] == "C") && f.size() == 2) {
      auto next = number(f[1]);
      if (!next || *next > UINT32_MAX)
        return std::nullopt;
      into = f[0] == "B" ? &r.bootstrap : &r.current;
      into->next_id = static_cast<node_id>(*next);
    } else if (f[0] == "M" && f.size() == 5 && into && into->members.size() < max_report_members) {
      auto id = number(f[1]);
      auto addr = [](const std::string& a) { return a == "-" ? std::string{} : a; };
      if (!id || *id == 0 || *id > UINT32_MAX || (f[2] != "v" && f[2] != "l") ||
          (f[3] != "-" && !valid_address(f[3])) || (f[4] != "-" && !valid_address(f[4])))
        return std::nullopt;
      into->members.push_back({static_cast<node_id>(*id), addr(f[3]), addr(f[4]),
                               f[2] == "v" ? member_role::voter : member_role::learner});
    } else if (f[0] == "L" && f.size() == 3 && r.lag.size() < max_report_members) {
      auto id = number(f[1]), behind = number(f[2]);
      if (!id || *id > UINT32_MAX || !behind)
        return std::nullopt;
      r.lag[static_cast<node_id>(*id)] = *behind;
    } else {
      return std::nullopt;
    }
  }
  if (!header || r.bootstrap.voters().empty() || r.current.voters().empty())
    return std::nullopt;
  return r;
}

bool is_lag_refusal(const std::string& result) {
  return result.rfind("refused:", 0) == 0 && result.find(" behind (at most ") != std::string::npos;
}

std::map<node_id, member> roster_of(const membership& m) {
  std::map<node_id, member> out;
  // Later epochs last: their addresses and roles win.
  for (auto& [start, cfg] : m.epochs())
    for (auto& mem : cfg.members)
      out[mem.id] = mem;
  return out;
}

}  // namespace ballot::paxos
