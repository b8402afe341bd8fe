#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ballot::client {

/// A client endpoint of a node: "host:port", IPv6 hosts in brackets
/// ("[::1]:7400").
struct endpoint {
  std::string host;
  std::uint16_t port = 0;

  /// Back to "host:port" (brackets restored for IPv6).
  std::string to_string() const;
};

/// Parses one "host:port". On failure returns false and sets `error` to a
/// message that quotes the text and says what is wrong with it.
bool parse_endpoint(std::string_view text, endpoint& out, std::string& error);

/// Parses a comma-separated list of endpoints (at least one).
bool parse_endpoints(std::string_view text, std::vector<endpoint>& out, std::string& error);

}  // namespace ballot::client
