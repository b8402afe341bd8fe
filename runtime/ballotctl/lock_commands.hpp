#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/client/client.hpp"

/// ballotctl's lock-service commands: lock, check-token, watch.
namespace ballot::ctl {

struct watch_args {
  std::string key;
  bool prefix = false;
  std::optional<std::uint64_t> count;
  /// nullopt: from now.
  std::optional<std::uint64_t> from_revision;
  bool json = false;
};

struct lock_args {
  std::string name;
  bool shared = false;
  /// nullopt: wait as long as it takes; 0: a try-lock.
  std::optional<double> wait_s;
  double ttl_s = 10;
  double lock_delay_s = 0;
  /// Jeopardy begins this long before the cluster may expire the session.
  std::chrono::milliseconds jeopardy_margin{2500};
  /// From SIGTERM at jeopardy to SIGKILL; less than the margin, so that CMD
  /// is dead before the cluster may expire the session.
  std::chrono::milliseconds kill_grace{1250};
  std::vector<std::string> command;
  bool json = false;
  double timeout_s = 5;
};

/// Prints valid/stale; exit 0 / 1 (3 when the cluster does not answer).
int run_check_token(const std::string& name, std::uint64_t token, bool json, client::client& c);

/// Prints events until --count is reached (exit 0), the history is
/// compacted past the start (exit 1) or a bad request (exit 2).
int run_watch(const watch_args& a, client::client& c);

/// ballotctl lock's exit code when it stopped CMD because the session was
/// in jeopardy or lost (EX_TEMPFAIL: try again later).
constexpr int exit_jeopardy = 75;

/// Defaults for what the user left out (margin ttl/4, grace margin/2) and
/// the rules they must meet; "" or why not, naming the flag and its value.
std::string settle_lock_timing(lock_args& a, bool margin_given, bool grace_given);

/// Opens a session, acquires, runs the command, releases; the command's
/// status (128+N for signal N), or 1 not acquired, 3 unavailable, 2 when the
/// command cannot be started, exit_jeopardy when the session fell into
/// jeopardy (or was lost) while the command ran and the command was stopped
/// (SIGTERM, SIGKILL after the kill grace).
int run_lock(const lock_args& a, client::client& c);

}  // namespace ballot::ctl
