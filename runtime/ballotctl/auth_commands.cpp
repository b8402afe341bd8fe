#include "runtime/ballotctl/auth_commands.hpp"

#include <iostream>

#include "runtime/ballotctl/printable.hpp"
#include "runtime/json/json_line.hpp"

namespace ballot::ctl {

namespace {

using client::auth_code;
using client::auth_result;

constexpr int exit_ok = 0;
constexpr int exit_refused = 1;
constexpr int exit_usage = 2;
constexpr int exit_unavailable = 3;

/// `'text'` with user-controlled bytes escaped, for human output.
std::string in_quotes(const std::string& text) {
  return "'" + printable(text) + "'";
}

/// `"text"` escaped like a key in human output, with `"` as `\"`: a
/// permission's prefix, which may be empty or hold spaces.
std::string in_double_quotes(const std::string& text) {
  std::string out = "\"";
  for (char c : printable(text))
    out += c == '"' ? std::string{"\\\""} : std::string(1, c);
  return out + "\"";
}

/// The command as the user typed it ("user grant 'alice' 'ops'"), escaped.
std::string shown(const auth_args& a) {
  std::string out = a.command;
  for (std::size_t i = 0; i < a.args.size(); ++i)
    out += " " + (i == 0 ? a.args[i] : in_quotes(a.args[i]));
  return out;
}

/// What a not_found refers to: the node's answer names nothing.
std::string missing(const auth_args& a) {
  auto& sub = a.args[0];
  if (a.command == "user" && (sub == "grant" || sub == "revoke"))
    return "no user " + in_quotes(a.args[1]) + ", no role " + in_quotes(a.args[2]) +
           (sub == "revoke" ? ", or the user does not have the role" : "");
  if (a.command == "role" && sub == "revoke")
    return "no role " + in_quotes(a.args[1]) + ", or the role does not have that permission";
  return "no " + a.command + " " + in_quotes(a.args[1]);
}

int fail(const output& out, const auth_args& a, const auth_result& r) {
  auto message = r.message;
  if (r.code == auth_code::not_found && message.empty())
    message = missing(a);
  if (out.json) {
    json::value j{{"ok", false},
                  {"op", json::text(a.command + " " + a.args[0])},
                  {"error", client::to_string(r.code)}};
    if (!message.empty())
      j["message"] = json::text(message);
    std::cout << json::line(j) << std::endl;
  }
  std::cerr << "ballotctl: " << shown(a) << ": ";
  switch (r.code) {
    case auth_code::unavailable:
      std::cerr << "cluster unavailable within " << out.timeout_s << " s: ";
      break;
    case auth_code::overloaded:
      std::cerr << "cluster overloaded, still refusing after " << out.timeout_s
                << " s of retries: ";
      break;
    case auth_code::permission_denied:
      std::cerr << "permission denied (permissionDenied): ";
      break;
    default:
      std::cerr << client::to_string(r.code) << ": ";
      break;
  }
  std::cerr << printable(message) << "\n";
  switch (r.code) {
    case auth_code::ok:
      return exit_ok;
    case auth_code::bad_request:
      return exit_usage;
    case auth_code::unavailable:
    case auth_code::overloaded:
      return exit_unavailable;
    case auth_code::not_found:
    case auth_code::already_exists:
    case auth_code::unauthenticated:
    case auth_code::permission_denied:
      break;
  }
  return exit_refused;
}

/// The confirmation of a change that was applied.
int done(const output& out, const auth_args& a, const char* what) {
  if (out.json) {
    json::value j{{"ok", true}, {"op", json::text(a.command + " " + a.args[0])}};
    if (a.args.size() > 1)
      j[a.command == "role" ? "role" : "user"] = json::text(a.args[1]);
    if (a.command == "user" && a.args.size() > 2)
      j["role"] = json::text(a.args[2]);
    if (a.command == "role" && a.args.size() > 3) {
      j["kind"] = json::text(a.args[2]);
      j["prefix"] = json::text(a.args[3]);
    }
    std::cout << json::line(j) << std::endl;
    return exit_ok;
  }
  std::cout << what << std::endl;
  return exit_ok;
}

int run_status(const output& out, client::client& c) {
  auto who = c.whoami();
  if (!who.ok()) {
    auth_args a{"auth", {"status"}, {}, false};
    return fail(out, a, who.result);
  }
  if (out.json) {
    std::cout << json::line({{"ok", true},
                             {"enabled", who.enabled},
                             {"user", json::text(who.user)},
                             {"root", who.root}})
              << std::endl;
    return exit_ok;
  }
  std::cout << "authentication " << (who.enabled ? "enabled" : "disabled") << "; connected as "
            << (who.user.empty() ? std::string{"(anonymous)"} : in_quotes(who.user))
            << (who.root ? " (root)" : "") << std::endl;
  return exit_ok;
}

int run_user_list(const output& out, const auth_args& a, client::client& c) {
  auto l = c.auth_list();
  if (!l.ok())
    return fail(out, a, l.result);
  for (auto& u : l.users) {
    if (out.json) {
      auto roles = json::value::array();
      for (auto& role : u.roles)
        roles.push_back(json::text(role));
      std::cout << json::line({{"user", json::text(u.name)},
                               {"roles", std::move(roles)},
                               {"password", u.has_password}})
                << "\n";
      continue;
    }
    std::cout << printable(u.name) << " roles=";
    for (std::size_t i = 0; i < u.roles.size(); ++i)
      std::cout << (i ? "," : "") << printable(u.roles[i]);
    std::cout << (u.roles.empty() ? "-" : "")
              << " password=" << (u.has_password ? "yes" : "no (certificate only)") << "\n";
  }
  if (!out.json)
    std::cout << "authentication " << (l.enabled ? "enabled" : "disabled") << "\n";
  else
    std::cout << json::line({{"enabled", l.enabled}}) << "\n";
  std::cout.flush();
  return exit_ok;
}

int run_role_list(const output& out, const auth_args& a, client::client& c) {
  auto l = c.auth_list();
  if (!l.ok())
    return fail(out, a, l.result);
  for (auto& r : l.roles) {
    if (out.json) {
      auto permissions = json::value::array();
      for (auto& p : r.permissions)
        permissions.push_back(
          {{"kind", client::to_string(p.kind)}, {"prefix", json::text(p.prefix)}});
      std::cout << json::line(
                     {{"role", json::text(r.name)}, {"permissions", std::move(permissions)}})
                << "\n";
      continue;
    }
    // One line a permission.
    if (r.permissions.empty())
      std::cout << printable(r.name) << " (no permissions)\n";
    for (auto& p : r.permissions)
      std::cout << printable(r.name) << " " << client::to_string(p.kind) << " "
                << in_double_quotes(p.prefix) << "\n";
  }
  std::cout.flush();
  return exit_ok;
}

}  // namespace

bool is_auth_command(const std::string& command) {
  return command == "auth" || command == "user" || command == "role";
}

std::string check_auth_args(const auth_args& a) {
  auto& args = a.args;
  if (args.empty())
    return "'" + a.command + "' needs a sub-command (see --help)";
  auto& sub = args[0];
  auto want = [&](std::size_t n, const char* shape) -> std::string {
    if (args.size() - 1 == n)
      return {};
    return "'" + a.command + " " + sub + "' takes " + shape + " (got " +
           std::to_string(args.size() - 1) + " arguments)";
  };
  std::string bad;
  if (a.command == "auth") {
    if (sub != "enable" && sub != "disable" && sub != "status")
      return "unknown sub-command 'auth " + printable(sub) + "' (enable, disable or status)";
    bad = want(0, "no arguments");
  } else if (a.command == "user") {
    if (sub == "add" || sub == "delete" || sub == "passwd")
      bad = want(1, "NAME");
    else if (sub == "grant" || sub == "revoke")
      bad = want(2, "USER ROLE");
    else if (sub == "list")
      bad = want(0, "no arguments");
    else
      return "unknown sub-command 'user " + printable(sub) +
             "' (add, delete, passwd, grant, revoke or list)";
  } else {
    if (sub == "add" || sub == "delete")
      bad = want(1, "NAME");
    else if (sub == "grant" || sub == "revoke")
      bad = want(3, "ROLE KIND PREFIX");
    else if (sub == "list")
      bad = want(0, "no arguments");
    else
      return "unknown sub-command 'role " + printable(sub) +
             "' (add, delete, grant, revoke or list)";
    client::permission_kind kind;
    if (bad.empty() && (sub == "grant" || sub == "revoke") &&
        !client::parse_permission_kind(args[2], kind))
      return "permission kind '" + printable(args[2]) +
             "' is not one of read, write, readwrite, lock";
  }
  if (!bad.empty())
    return bad;
  bool takes_password = a.command == "user" && (sub == "add" || sub == "passwd");
  if (a.new_password && !takes_password)
    return "--new-password applies to 'user add' and 'user passwd', not to '" + a.command + " " +
           printable(sub) + "'";
  if (a.no_password && !(a.command == "user" && sub == "add"))
    return "--no-password applies to 'user add', not to '" + a.command + " " + printable(sub) + "'";
  if (a.no_password && a.new_password)
    return "--new-password and --no-password exclude each other";
  if (takes_password && !a.new_password && !a.no_password)
    return "'user " + sub + "' needs --new-password P (or '-' to read it from stdin)" +
           (sub == "add" ? std::string{", or --no-password for a user who presents a client "
                                       "certificate instead"}
                         : std::string{});
  if (takes_password && a.new_password && a.new_password->empty())
    return "--new-password is empty (use --no-password for a certificate-only user)";
  return {};
}

int run_auth(const output& out, const auth_args& a, client::client& c) {
  auto& sub = a.args[0];
  auto arg = [&](std::size_t i) -> const std::string& { return a.args[i]; };
  auto apply = [&](const auth_result& r, const std::string& what) {
    return r.ok() ? done(out, a, what.c_str()) : fail(out, a, r);
  };
  if (a.command == "auth") {
    if (sub == "status")
      return run_status(out, c);
    bool on = sub == "enable";
    return apply(on ? c.auth_enable() : c.auth_disable(),
                 on ? "authentication enabled" : "authentication disabled");
  }
  if (a.command == "user") {
    if (sub == "list")
      return run_user_list(out, a, c);
    auto user = in_quotes(arg(1));
    if (sub == "add")
      return apply(c.user_add(arg(1), a.new_password.value_or("")), "user " + user + " added");
    if (sub == "passwd")
      return apply(c.user_passwd(arg(1), *a.new_password), "password of " + user + " changed");
    if (sub == "delete")
      return apply(c.user_delete(arg(1)), "user " + user + " deleted");
    if (sub == "grant")
      return apply(c.user_grant(arg(1), arg(2)),
                   "user " + user + " granted role " + in_quotes(arg(2)));
    return apply(c.user_revoke(arg(1), arg(2)),
                 "user " + user + " revoked role " + in_quotes(arg(2)));
  }
  if (sub == "list")
    return run_role_list(out, a, c);
  auto role = in_quotes(arg(1));
  if (sub == "add")
    return apply(c.role_add(arg(1)), "role " + role + " added");
  if (sub == "delete")
    return apply(c.role_delete(arg(1)), "role " + role + " deleted");
  client::permission perm;
  client::parse_permission_kind(arg(2), perm.kind);
  perm.prefix = arg(3);
  auto what = std::string{client::to_string(perm.kind)} + " on prefix " + in_quotes(perm.prefix);
  if (sub == "grant")
    return apply(c.role_grant(arg(1), perm), "role " + role + " granted " + what);
  return apply(c.role_revoke(arg(1), perm), "role " + role + " revoked " + what);
}

bool read_secret_line(std::string& line, std::string& error) {
  if (!std::getline(std::cin, line)) {
    error = "stdin ended before a password line";
    return false;
  }
  if (!line.empty() && line.back() == '\r')
    line.pop_back();
  return true;
}

}  // namespace ballot::ctl
