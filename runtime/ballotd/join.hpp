#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/ballotd/join_plan.hpp"
#include "runtime/ballotd/options.hpp"

/// `ballotd --join` (README "Changing the membership"): a node that joins a
/// running cluster learns from it, once, what it needs to replay the log
/// from slot 1 (the bootstrap voters and alpha), whom to reach (the current
/// members' peer addresses) and the cluster id, and gets its member id (it
/// adds itself as a learner unless --id names the learner an operator
/// added). All of it goes into `<data-dir>/join` (written durably) before
/// the node takes part, so a restart needs the cluster for nothing.
namespace ballot::ballotd {

constexpr const char* join_file_name = "join";

/// Reads `<data-dir>/join`, or (none there) asks the cluster at --join and
/// writes it. Returns the plan, or the exit code after printing why
/// (2: the flags or the cluster refuse; 3: the file is damaged or cannot be
/// written; 3: the cluster cannot be reached).
struct join_outcome {
  std::optional<join_plan> plan;
  int code = 0;
};
join_outcome prepare_join(const options& o);

}  // namespace ballot::ballotd
