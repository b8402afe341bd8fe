#include "runtime/discovery/member.hpp"

#include <limits>
#include <utility>

namespace ballot::discovery {

namespace {

/// A decimal number in [min, max], digits only.
std::optional<std::uint64_t> number(std::string_view s, std::uint64_t min, std::uint64_t max) {
  if (s.empty() || s.size() > 10)
    return std::nullopt;
  std::uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (n < min || n > max)
    return std::nullopt;
  return n;
}

change make_change(change::kind what, const std::string& key, member_address address = {},
                   std::string message = {}) {
  change c;
  c.what = what;
  c.key = key;
  c.address = std::move(address);
  c.message = std::move(message);
  return c;
}

std::optional<member_address> fail(std::string* why, std::string text) {
  if (why != nullptr)
    *why = std::move(text);
  return std::nullopt;
}

}  // namespace

std::string member_address::endpoint() const {
  auto h = host.find(':') == std::string::npos ? host : "[" + host + "]";
  return h + ":" + std::to_string(port);
}

std::string encode(const member_address& a) {
  auto out = a.endpoint();
  if (a.weight != 1)
    out += ";weight=" + std::to_string(a.weight);
  if (a.max_outstanding)
    out += ";max=" + std::to_string(*a.max_outstanding);
  return out;
}

std::optional<member_address> decode(std::string_view text, std::string* why) {
  auto quoted = "'" + std::string{text} + "'";
  auto semi = text.find(';');
  auto head = text.substr(0, semi);
  member_address a;
  std::string_view port;
  if (!head.empty() && head.front() == '[') {
    auto close = head.find(']');
    if (close == std::string_view::npos || close + 1 >= head.size() || head[close + 1] != ':')
      return fail(why, quoted + ": expected [host]:port");
    a.host = std::string{head.substr(1, close - 1)};
    port = head.substr(close + 2);
  } else {
    auto colon = head.rfind(':');
    if (colon == std::string_view::npos)
      return fail(why, quoted + ": expected host:port");
    a.host = std::string{head.substr(0, colon)};
    if (a.host.find(':') != std::string::npos)
      return fail(why, quoted + ": write an IPv6 host in brackets, [host]:port");
    port = head.substr(colon + 1);
  }
  if (a.host.empty())
    return fail(why, quoted + ": empty host");
  for (char c : a.host)
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '[' || c == ']')
      return fail(why, quoted + ": bad character in the host");
  auto p = number(port, 1, 65535);
  if (!p)
    return fail(why, quoted + ": the port must be a number from 1 to 65535");
  a.port = static_cast<std::uint16_t>(*p);
  while (semi != std::string_view::npos) {
    auto next = text.find(';', semi + 1);
    auto attr = text.substr(semi + 1, next == std::string_view::npos ? next : next - semi - 1);
    semi = next;
    if (attr.empty())
      continue;
    auto eq = attr.find('=');
    if (eq == std::string_view::npos)
      return fail(why, quoted + ": expected name=value, not '" + std::string{attr} + "'");
    auto name = attr.substr(0, eq);
    auto value = attr.substr(eq + 1);
    if (name == "weight") {
      auto w = number(value, 1, max_weight);
      if (!w)
        return fail(
          why, quoted + ": the weight must be a number from 1 to " + std::to_string(max_weight));
      a.weight = static_cast<std::uint32_t>(*w);
    } else if (name == "max") {
      auto m = number(value, 0, std::numeric_limits<std::uint32_t>::max());
      if (!m)
        return fail(why, quoted + ": max must be a number from 0 to 4294967295");
      a.max_outstanding = static_cast<std::uint32_t>(*m);
    }
    // Other attributes are for newer readers.
  }
  return a;
}

const char* to_string(change::kind k) {
  switch (k) {
    case change::kind::join:
      return "join";
    case change::kind::update:
      return "update";
    case change::kind::leave:
      return "leave";
    case change::kind::reject:
      return "reject";
  }
  return "?";
}

std::vector<change> member_table::reset(const std::map<std::string, listed>& listing) {
  std::vector<change> out;
  for (auto it = keys_.begin(); it != keys_.end();) {
    auto next = std::next(it);
    if (listing.count(it->first) == 0)
      erase(it->first, out);
    it = next;
  }
  for (auto& [key, l] : listing) {
    auto it = keys_.find(key);
    if (it != keys_.end() && l.version <= it->second.version)
      continue;
    put(key, l.value, l.version, out);
  }
  return out;
}

std::vector<change> member_table::apply(const kv::event& e) {
  std::vector<change> out;
  auto it = keys_.find(e.key);
  if (it != keys_.end() && e.revision <= it->second.version)
    return out;  // the listing showed this key at a later revision already
  if (e.type == kv::event_type::put)
    put(e.key, e.value, e.revision, out);
  else if (it != keys_.end())
    erase(e.key, out);
  return out;
}

std::map<std::string, member_address> member_table::members() const {
  std::map<std::string, member_address> out;
  for (auto& [key, e] : keys_)
    if (e.address)
      out.emplace(key, *e.address);
  return out;
}

void member_table::put(const std::string& key, const std::string& value, std::uint64_t version,
                       std::vector<change>& out) {
  auto& e = keys_[key];
  auto was = e.address;
  e.version = version;
  std::string why;
  e.address = decode(value, &why);
  if (!e.address) {
    if (was)
      out.push_back(make_change(change::kind::leave, key, *was));
    out.push_back(make_change(change::kind::reject, key, {}, "bad value of " + key + ": " + why));
  } else if (!was) {
    out.push_back(make_change(change::kind::join, key, *e.address));
  } else if (*was != *e.address) {
    out.push_back(make_change(change::kind::update, key, *e.address));
  }
}

void member_table::erase(const std::string& key, std::vector<change>& out) {
  auto it = keys_.find(key);
  if (it == keys_.end())
    return;
  if (it->second.address)
    out.push_back(make_change(change::kind::leave, key, *it->second.address));
  keys_.erase(it);
}

}  // namespace ballot::discovery
