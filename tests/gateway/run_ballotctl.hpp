#pragma once

// Runs the ballotctl binary from the gateway tests.

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace ballot::test_support {

struct run_result {
  int exit_code = -1;
  std::string out;
};

/// Runs ballotctl with `args` (a shell fragment); stdout is captured, stderr
/// goes to the test log. A --timeout in every cluster call bounds the run.
inline run_result ballotctl(const std::string& args) {
  run_result r;
  auto cmd = std::string{BALLOTCTL_PATH} + " " + args;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe)
    return r;
  char buf[4096];
  while (auto n = std::fread(buf, 1, sizeof(buf), pipe))
    r.out.append(buf, n);
  auto status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace ballot::test_support
