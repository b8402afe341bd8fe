#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runtime/ballotctl/kv_commands.hpp"
#include "runtime/client/client.hpp"

/// ballotctl's user, role and authentication commands:
///
///     auth enable|disable|status
///     user add NAME (--new-password P|- | --no-password)
///     user passwd NAME --new-password P|-
///     user delete NAME | user grant USER ROLE | user revoke USER ROLE | user list
///     role add NAME | role delete NAME | role list
///     role grant ROLE read|write|readwrite|lock PREFIX
///     role revoke ROLE read|write|readwrite|lock PREFIX
namespace ballot::ctl {

struct auth_args {
  /// "auth", "user" or "role".
  std::string command;
  /// The sub-command and its arguments.
  std::vector<std::string> args;
  /// --new-password as given ("-": one line from stdin, read by ballotctl
  /// before this runs).
  std::optional<std::string> new_password;
  bool no_password = false;
};

/// Whether `command` is one of these commands.
bool is_auth_command(const std::string& command);

/// Checks a command's shape before anything is sent: "" if it is fine, else
/// the usage error naming the bad value.
std::string check_auth_args(const auth_args& a);

/// Runs it: exit 0 done; 1 refused (unauthenticated, permission_denied,
/// not_found, already_exists); 2 a bad request the cluster refused; 3
/// unavailable or overloaded within --timeout.
int run_auth(const output& out, const auth_args& a, client::client& c);

/// One line of stdin without its line end (for `--password -` and
/// `--new-password -`); false with `error` set at the end of the input.
bool read_secret_line(std::string& line, std::string& error);

}  // namespace ballot::ctl
