#include "runtime/client/endpoint.hpp"

#include <charconv>

namespace ballot::client {

std::string endpoint::to_string() const {
  auto h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

bool parse_endpoint(std::string_view text, endpoint& out, std::string& error) {
  auto quoted = "endpoint '" + std::string{text} + "'";
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    error = quoted + " has no port (expected HOST:PORT)";
    return false;
  }
  auto host = text.substr(0, colon);
  auto port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  else if (host.find(':') != std::string_view::npos) {
    error = quoted + ": write an IPv6 host in brackets, as [::1]:7400";
    return false;
  }
  if (host.empty()) {
    error = quoted + " has no host (expected HOST:PORT)";
    return false;
  }
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || ptr != port_text.data() + port_text.size() ||
      port == 0 || port > 65535) {
    error = quoted + ": port '" + std::string{port_text} + "' is not a number in 1..65535";
    return false;
  }
  out.host = std::string{host};
  out.port = static_cast<std::uint16_t>(port);
  return true;
}

bool parse_endpoints(std::string_view text, std::vector<endpoint>& out, std::string& error) {
  out.clear();
  while (true) {
    auto comma = text.find(',');
    endpoint ep;
    if (!parse_endpoint(text.substr(0, comma), ep, error))
      return false;
    out.push_back(std::move(ep));
    if (comma == std::string_view::npos)
      return true;
    text.remove_prefix(comma + 1);
  }
}

}  // namespace ballot::client
