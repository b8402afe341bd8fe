#pragma once

#include <cstdint>
#include <regex>
#include <string>

#include "tests/support/http_get.hpp"

namespace ballot::testing {

/// The sum of every sample of metric `name` on the node's /metrics, or -1.
inline double metric_sum(std::uint16_t port, const std::string& name) {
  auto body = http_get(port, "/metrics").body;
  std::regex line{"\n" + name + "(\\{[^}]*\\})? ([0-9.e+-]+)"};
  double total = -1;
  for (std::sregex_iterator it{body.begin(), body.end(), line}, end; it != end; ++it)
    total = (total < 0 ? 0 : total) + std::stod((*it)[2]);
  return total;
}

}  // namespace ballot::testing
