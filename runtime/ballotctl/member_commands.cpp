#include "runtime/ballotctl/member_commands.hpp"

#include <iostream>
#include <limits>

#include "runtime/ballotctl/printable.hpp"
#include "runtime/json/json_line.hpp"

namespace ballot::ctl {

namespace {

bool parse_id(const std::string& text, std::uint32_t& id) {
  if (text.empty() || text.size() > 10 || text.find_first_not_of("0123456789") != std::string::npos)
    return false;
  auto v = std::stoull(text);
  if (v == 0 || v > std::numeric_limits<std::uint32_t>::max())
    return false;
  id = static_cast<std::uint32_t>(v);
  return true;
}

int failed(const output& out, const std::string& what, kv::result_code code,
           const std::string& message) {
  int exit = code == kv::result_code::unavailable || code == kv::result_code::overloaded ? 3 : 1;
  std::cerr << "ballotctl: member " << what << ": " << kv::to_string(code) << ": "
            << printable(message) << "\n";
  if (out.json)
    std::cout << json::line({{"ok", false},
                             {"error", kv::to_string(code)},
                             {"message", json::text(message)}})
              << std::endl;
  return exit;
}

std::string lag_text(const client::member_info& m) {
  return m.lag ? std::to_string(*m.lag) : "-";
}

int run_list(const output& out, client::client& c) {
  auto l = c.member_list();
  if (!l.ok())
    return failed(out, "list", l.code, l.message);
  if (out.json) {
    auto members = json::value::array();
    for (auto& m : l.members) {
      json::value j{{"id", m.id},
                    {"role", m.learner ? "learner" : "voter"},
                    {"leader", m.id == l.leader_id},
                    {"peer", json::text(m.peer_address)},
                    {"client", json::text(m.client_address)}};
      j["lag"] = m.lag ? json::value(*m.lag) : json::value(nullptr);
      members.push_back(std::move(j));
    }
    std::cout << json::line({{"ok", true},
                             {"leader", l.leader_id},
                             {"commit_index", l.commit_index},
                             {"members", std::move(members)}})
              << std::endl;
    return 0;
  }
  std::cout << "ID  ROLE     LAG      PEER                   CLIENT\n";
  for (auto& m : l.members) {
    auto id = std::to_string(m.id) + (m.id == l.leader_id ? "*" : "");
    std::string role = m.learner ? "learner" : "voter";
    auto lag = lag_text(m);
    auto pad = [](const std::string& s, std::size_t w) {
      return s + std::string(s.size() < w ? w - s.size() : 1, ' ');
    };
    std::cout << pad(id, 4) << pad(role, 9) << pad(lag, 9) << pad(m.peer_address, 23)
              << (m.client_address.empty() ? "-" : m.client_address) << "\n";
  }
  std::cout << "(* leader; commit index " << l.commit_index << ")\n";
  return 0;
}

}  // namespace

std::string check_member_args(const std::vector<std::string>& args, const std::string& peer,
                              const std::string& client) {
  if (args.empty())
    return "member takes list, add, promote or remove";
  auto& what = args[0];
  std::uint32_t id = 0;
  if (what != "add" && (!peer.empty() || !client.empty()))
    return "--peer and --client apply to member add, not to member " + printable(what);
  if (what == "list")
    return args.size() == 1 ? "" : "member list takes no arguments";
  if (what == "add") {
    if (args.size() != 1)
      return "member add takes --peer H:P and --client H:P, no other arguments";
    if (peer.empty() || client.empty())
      return "member add needs --peer H:P (where the members reach it) and --client H:P "
             "(where clients reach it)";
    return "";
  }
  if (what == "promote" || what == "remove") {
    if (args.size() != 2)
      return "member " + what + " takes one member ID";
    if (!parse_id(args[1], id))
      return "member " + what + ": '" + printable(args[1]) + "' is not a member id (1 to " +
             std::to_string(std::numeric_limits<std::uint32_t>::max()) + ")";
    return "";
  }
  return "member takes list, add, promote or remove, not '" + printable(what) + "'";
}

int run_member(const output& out, const std::vector<std::string>& args, const std::string& peer,
               const std::string& client, client::client& c) {
  auto& what = args[0];
  if (what == "list")
    return run_list(out, c);
  client::member_result r;
  if (what == "add") {
    r = c.member_add(peer, client);
  } else {
    std::uint32_t id = 0;
    parse_id(args[1], id);
    r = what == "promote" ? c.member_promote(id) : c.member_remove(id);
  }
  if (!r.ok())
    return failed(out, what, r.code, r.message);
  if (out.json)
    std::cout << json::line({{"ok", true}, {"id", r.id}}) << std::endl;
  else if (what == "add")
    std::cout << "added learner " << r.id << "; start it with: ballotd --join ENDPOINTS --id "
              << r.id << " --peer-address " << peer << " --client " << client
              << " --data-dir EMPTY_DIR\n";
  else
    std::cout << (what == "promote" ? "promoted member " : "removed member ") << r.id << "\n";
  return 0;
}

}  // namespace ballot::ctl
