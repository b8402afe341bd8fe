#pragma once

#include <string>

#include "runtime/client/client.hpp"

namespace ballot::client {

/// A cluster status as one line of JSON, the one `ballotctl --json status`
/// prints and ballotd serves at /status:
/// {"ok":true,"leader":..,"commit_index":..,"answered_by":"host:port","node_id":..,
///  "members":[{"id":..,"up":..,"leader":..,"commit_index":..,"endpoint":".."},...]}
std::string status_json(const cluster_status& st);

}  // namespace ballot::client
