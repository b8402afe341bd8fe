#include "actors/paxos/membership.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <sstream>
#include <string_view>

namespace ballot::paxos {

namespace {

/// Most members (voters and learners) in one configuration: every member
/// gets every heartbeat, and a log entry must stay small.
constexpr std::size_t max_members = 64;
constexpr std::size_t max_address_bytes = 255;
/// The longest result a remembered change keeps (a refusal names an id).
constexpr std::size_t max_result_bytes = 256;
constexpr std::string_view token_prefix = "token=";

}  // namespace

std::size_t quorum_of(std::size_t voters) {
#ifdef BALLOT_MUTANT_SMALL_QUORUM
  return voters / 2;
#else
  return voters / 2 + 1;
#endif
}

const member* configuration::find(node_id id) const {
  auto it = std::find_if(members.begin(), members.end(), [&](auto& m) { return m.id == id; });
  return it == members.end() ? nullptr : &*it;
}

bool configuration::is_voter(node_id id) const {
  auto* m = find(id);
  return m && m->role == member_role::voter;
}

std::vector<node_id> configuration::voters() const {
  std::vector<node_id> out;
  for (auto& m : members)
    if (m.role == member_role::voter)
      out.push_back(m.id);
  return out;
}

std::vector<node_id> configuration::ids() const {
  std::vector<node_id> out;
  for (auto& m : members)
    out.push_back(m.id);
  return out;
}

std::size_t configuration::quorum() const {
  return quorum_of(voters().size());
}

bool valid_address(const std::string& a) {
  return !a.empty() && a.size() <= max_address_bytes &&
         std::none_of(a.begin(), a.end(), [](char c) { return c <= ' ' || c == '|'; });
}

std::string encode(const member_change& c) {
  std::string out;
  switch (c.what) {
    case member_change::kind::add_learner:
      out = "member|add|" + c.peer + "|" + c.client;
      break;
    case member_change::kind::promote:
      out = "member|promote|" + std::to_string(c.id);
      break;
    case member_change::kind::remove:
      out = "member|remove|" + std::to_string(c.id);
      break;
  }
  // Last and optional: a change logged before tokens existed decodes too.
  if (c.token != 0)
    out += "|token=" + std::to_string(c.token);
  return out;
}

namespace {

/// A decimal u64, digits only, or nullopt (empty, another character, or
/// out of range).
std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size())
    return std::nullopt;
  return v;
}

std::optional<node_id> parse_id(std::string_view s) {
  auto v = s.size() <= 10 ? parse_u64(s) : std::nullopt;
  if (!v || *v == 0 || *v > std::numeric_limits<node_id>::max())
    return std::nullopt;
  return static_cast<node_id>(*v);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos)
      return out;
    start = end + 1;
  }
}

}  // namespace

std::optional<member_change> decode_change(const std::string& payload) {
  if (payload.size() > 2 * max_address_bytes + 64)
    return std::nullopt;
  auto parts = split(payload, '|');
  member_change c;
  if (parts.size() > 3 && parts.back().rfind(token_prefix, 0) == 0) {
    auto token = parse_u64(std::string_view{parts.back()}.substr(token_prefix.size()));
    if (!token || *token == 0)
      return std::nullopt;
    c.token = *token;
    parts.pop_back();
  }
  if (parts.size() < 3 || parts[0] != "member")
    return std::nullopt;
  if (parts[1] == "add" && parts.size() == 4 && valid_address(parts[2]) &&
      valid_address(parts[3])) {
    c.what = member_change::kind::add_learner;
    c.peer = parts[2];
    c.client = parts[3];
    return c;
  }
  if (parts.size() != 3)
    return std::nullopt;
  auto id = parse_id(parts[2]);
  if (!id)
    return std::nullopt;
  c.id = *id;
  if (parts[1] == "promote")
    c.what = member_change::kind::promote;
  else if (parts[1] == "remove")
    c.what = member_change::kind::remove;
  else
    return std::nullopt;
  return c;
}

membership::membership(std::uint64_t alpha, configuration initial) : alpha_(alpha > 0 ? alpha : 1) {
  for (auto& m : initial.members)
    initial.next_id = std::max<node_id>(initial.next_id, m.id + 1);
  epochs_.emplace(1, std::move(initial));
}

const configuration& membership::at(slot_index slot) const {
  auto it = epochs_.upper_bound(slot);
  return it == epochs_.begin() ? it->second : std::prev(it)->second;
}

std::vector<node_id> membership::everyone() const {
  std::vector<node_id> out;
  for (auto& [start, cfg] : epochs_)
    for (auto& m : cfg.members)
      if (std::find(out.begin(), out.end(), m.id) == out.end())
        out.push_back(m.id);
  return out;
}

slot_index membership::same_voters_until(slot_index from) const {
  auto voters = at(from).voters();
  for (auto it = epochs_.upper_bound(from); it != epochs_.end(); ++it)
    if (it->second.voters() != voters)
      return it->first - 1;
  return std::numeric_limits<slot_index>::max();
}

namespace {

bool same_change(const member_change& a, const member_change& b) {
  return a.what == b.what && a.id == b.id && a.peer == b.peer && a.client == b.client;
}

}  // namespace

std::string membership::apply(slot_index slot, const member_change& c) {
#ifndef BALLOT_MUTANT_CHANGE_TOKEN_IGNORED
  // A retry of a change applied already (its answer was lost): the same
  // answer, and nothing changes twice. A token that named another change
  // (a client's bug, or a guess) gets neither that change's answer nor a
  // change of its own.
  if (c.token != 0)
    for (auto& r : recent_)
      if (r.change.token == c.token)
        return same_change(r.change, c)
                 ? r.result
                 : "refused: token " + std::to_string(c.token) + " named another change";
#endif
  auto result = apply_change(slot, c);
  if (c.token != 0) {
    if (recent_.size() == remembered_changes)
      recent_.pop_front();
    recent_.push_back({c, result});
  }
  return result;
}

std::string membership::apply_change(slot_index slot, const member_change& c) {
  // Validated against the newest configuration (changes in flight
  // included), at apply time: every replica refuses the same changes.
  auto next = latest();
  std::string result = "ok " + std::to_string(c.id);
  auto it =
    std::find_if(next.members.begin(), next.members.end(), [&](auto& m) { return m.id == c.id; });
  if (c.what == member_change::kind::add_learner) {
    if (next.members.size() >= max_members)
      return "refused: the cluster has " + std::to_string(max_members) + " members already";
    for (auto& m : next.members)
      if ((!m.peer.empty() && m.peer == c.peer) || (!m.client.empty() && m.client == c.client))
        return "refused: member " + std::to_string(m.id) + " has that address already";
    member m{next.next_id++, c.peer, c.client, member_role::learner};
    result = "ok " + std::to_string(m.id);
    next.members.push_back(std::move(m));
  } else if (it == next.members.end()) {
    return "refused: no member " + std::to_string(c.id);
  } else if (c.what == member_change::kind::promote) {
    if (it->role == member_role::voter)
      return "refused: member " + std::to_string(c.id) + " is a voter already";
    it->role = member_role::voter;
  } else {
    if (it->role == member_role::voter && next.voters().size() == 1)
      return "refused: member " + std::to_string(c.id) + " is the last voter";
    next.members.erase(it);
  }
#ifdef BALLOT_MUTANT_CONFIG_BEFORE_WINDOW
  // Takes effect at the next slot, which a pipelining leader may already
  // have proposed under the previous configuration.
  slot_index start = slot + 1;
#else
  slot_index start = slot + alpha_;
#endif
  // A later change takes effect after an earlier one (starts only grow):
  // both apply to the configuration from their start on.
  start = std::max(start, epochs_.rbegin()->first);
  epochs_[start] = std::move(next);
  return result;
}

void membership::prune(slot_index commit) {
  // The epoch that governs commit + 1 stays, and every later one.
  auto keep = epochs_.upper_bound(commit + 1);
  if (keep == epochs_.begin())
    return;
  epochs_.erase(epochs_.begin(), std::prev(keep));
}

std::string membership::encode() const {
  std::ostringstream out;
  for (auto& [start, cfg] : epochs_) {
    out << "E " << start << ' ' << cfg.next_id << '\n';
    for (auto& m : cfg.members)
      out << "M " << m.id << ' ' << (m.role == member_role::voter ? 'v' : 'l') << ' '
          << (m.peer.empty() ? "-" : m.peer) << ' ' << (m.client.empty() ? "-" : m.client) << '\n';
  }
  // After the epochs: a decoder from before tokens refuses the lines, and
  // a snapshot from before them has none.
  for (auto& r : recent_)
    out << "T " << paxos::encode(r.change) << ' ' << r.result << '\n';
  return out.str();
}

std::optional<membership> membership::decode(std::uint64_t alpha, const std::string& bytes) {
  std::map<slot_index, configuration> epochs;
  std::deque<remembered> recent;
  configuration* current = nullptr;
  for (auto& line : split(bytes, '\n')) {
    if (line.empty())
      continue;
    if (line.rfind("T ", 0) == 0) {
      // "T <change, token included> <result>": the result is the rest of
      // the line (a change has no space in it).
      auto space = line.find(' ', 2);
      if (space == std::string::npos)
        return std::nullopt;
      auto change = decode_change(line.substr(2, space - 2));
      if (!change || change->token == 0 || recent.size() >= remembered_changes ||
          line.size() - space - 1 > max_result_bytes)
        return std::nullopt;
      recent.push_back({std::move(*change), line.substr(space + 1)});
      continue;
    }
    auto f = split(line, ' ');
    if (f[0] == "E" && f.size() == 3) {
      auto next = parse_id(f[2]);
      auto start = f[1].size() <= 19 ? parse_u64(f[1]) : std::nullopt;
      if (!next || !start || epochs.size() >= max_members)
        return std::nullopt;
      current = &epochs[*start];
      current->next_id = *next;
    } else if (f[0] == "M" && f.size() == 5 && current && current->members.size() < max_members) {
      auto id = parse_id(f[1]);
      auto addr = [](const std::string& a) { return a == "-" ? std::string{} : a; };
      if (!id || (f[2] != "v" && f[2] != "l") || (f[3] != "-" && !valid_address(f[3])) ||
          (f[4] != "-" && !valid_address(f[4])))
        return std::nullopt;
      current->members.push_back(
        {*id, addr(f[3]), addr(f[4]), f[2] == "v" ? member_role::voter : member_role::learner});
    } else {
      return std::nullopt;
    }
  }
  if (epochs.empty() || epochs.begin()->second.voters().empty())
    return std::nullopt;
  membership m(alpha, configuration{});
  m.epochs_ = std::move(epochs);
  m.recent_ = std::move(recent);
  return m;
}

}  // namespace ballot::paxos
