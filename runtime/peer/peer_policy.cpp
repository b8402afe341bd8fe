#include "runtime/peer/peer_policy.hpp"

#include <charconv>
#include <string_view>

namespace ballot::peer {

const char* reason_name(drop_reason r) {
  switch (r) {
    case drop_reason::tls_handshake:
      return "tls_handshake";
    case drop_reason::not_a_member:
      return "not_a_member";
    case drop_reason::missing_hello:
      return "missing_hello";
    case drop_reason::from_mismatch:
      return "from_mismatch";
    case drop_reason::unknown_kind:
      return "unknown_kind";
    case drop_reason::too_large_for_kind:
      return "too_large_for_kind";
    case drop_reason::length_too_large:
      return "length_too_large";
    case drop_reason::length_too_small:
      return "length_too_small";
    case drop_reason::bad_payload:
      return "bad_payload";
    case drop_reason::unexpected_kind:
      return "unexpected_kind";
    case drop_reason::too_many_connections:
      return "too_many_connections";
    case drop_reason::handshake_timeout:
      return "handshake_timeout";
    case drop_reason::over_budget:
      return "over_budget";
    case drop_reason::not_connected:
      return "not_connected";
    case drop_reason::foreign_cluster:
      return "foreign_cluster";
  }
  return "?";
}

std::string drop_counters::summary() const {
  std::string out;
  for (std::size_t i = 0; i < drop_reason_count; ++i) {
    auto n = counts_[i].load();
    if (n == 0)
      continue;
    out += (out.empty() ? "" : " ") + std::string{reason_name(static_cast<drop_reason>(i))} + "=" +
           std::to_string(n);
  }
  return out;
}

std::optional<std::uint32_t> peer_policy::member_of_common_name(const std::string& cn) const {
  const std::string prefix = "member-";
  if (cn.size() <= prefix.size() || cn.compare(0, prefix.size(), prefix) != 0)
    return std::nullopt;
  auto digits = cn.substr(prefix.size());
  // Exactly the decimal id: no sign, no leading zero, nothing after it.
  if (digits.size() > 10 || (digits.size() > 1 && digits[0] == '0'))
    return std::nullopt;
  std::uint32_t id = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc{} || ptr != digits.data() + digits.size())
    return std::nullopt;
  if (!is_other_member(id))
    return std::nullopt;
  return id;
}

std::optional<std::uint32_t> peer_policy::member_of_hello(const frame& first, drop_reason& why,
                                                          std::uint32_t authenticated) const {
  if (first.kind != frame_kind::hello) {
    why = drop_reason::missing_hello;
    return std::nullopt;
  }
  // The cluster first: a node of another cluster is told apart from a
  // stranger, whatever member id it happens to have.
  if (std::string_view{first.payload.data(), first.payload.size()} != cluster_id_) {
    why = drop_reason::foreign_cluster;
    return std::nullopt;
  }
  // With TLS the certificate names the member; the frames that follow are
  // checked against it one by one (`check`), as before hellos were sent.
  if (authenticated != 0)
    return authenticated;
  if (!is_other_member(first.from)) {
    why = drop_reason::not_a_member;
    return std::nullopt;
  }
  return first.from;
}

std::optional<drop_reason> peer_policy::check(std::uint32_t member, const frame& f) const {
  if (f.kind == frame_kind::hello)
    return drop_reason::unexpected_kind;
  if (f.from != member)
    return drop_reason::from_mismatch;
  // A connection authenticated before its member left the membership.
  if (!is_other_member(member))
    return drop_reason::not_a_member;
  return std::nullopt;
}

namespace {

/// A cluster id for a log line.
std::string hex(const std::string& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (auto b : bytes) {
    out += digits[(static_cast<unsigned char>(b) >> 4) & 0xf];
    out += digits[static_cast<unsigned char>(b) & 0xf];
  }
  return out.empty() ? "(none)" : out;
}

}  // namespace

std::string peer_policy::why_refused(const frame& first, drop_reason why) const {
  if (why == drop_reason::missing_hello)
    return std::string{"first frame is a "} + kind_name(first.kind) + ", not a hello";
  if (why == drop_reason::foreign_cluster)
    return "hello from member " + std::to_string(first.from) + " of cluster " +
           hex(std::string(first.payload.begin(), first.payload.end())) + ", not of this cluster " +
           hex(cluster_id_);
  return "hello names " + std::to_string(first.from) + ", not another member";
}

}  // namespace ballot::peer
