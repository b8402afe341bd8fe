#include "runtime/ballotctl/auth_commands.hpp"

#include <iostream>

#include "runtime/ballotctl/json.hpp"

namespace ballot::ctl {

namespace {

using client::auth_code;
using client::auth_result;

constexpr int exit_ok = 0;
constexpr int exit_refused = 1;
constexpr int exit_usage = 2;
constexpr int exit_unavailable = 3;

/// `'text'` with user-controlled bytes escaped, for human output.
std::string quoted(const std::string& text) {
  return "'" + printable(text) + "'";
}

/// The command as the user typed it ("user grant 'alice' 'ops'"), escaped.
std::string shown(const auth_args& a) {
  std::string out = a.command;
  for (std::size_t i = 0; i < a.args.size(); ++i)
    out += " " + (i == 0 ? a.args[i] : quoted(a.args[i]));
  return out;
}

/// What a not_found refers to: the node's answer names nothing.
std::string missing(const auth_args& a) {
  auto& sub = a.args[0];
  if (a.command == "user" && (sub == "grant" || sub == "revoke"))
    return "no user " + quoted(a.args[1]) + ", no role " + quoted(a.args[2]) +
           (sub == "revoke" ? ", or the user does not have the role" : "");
  if (a.command == "role" && sub == "revoke")
    return "no role " + quoted(a.args[1]) + ", or the role does not have that permission";
  return "no " + a.command + " " + quoted(a.args[1]);
}

int fail(const output& out, const auth_args& a, const auth_result& r) {
  auto message = r.message;
  if (r.code == auth_code::not_found && message.empty())
    message = missing(a);
  if (out.json) {
    std::cout << "{\"ok\":false,\"op\":" << json_string(a.command + " " + a.args[0])
              << ",\"error\":" << json_string(client::to_string(r.code));
    if (!message.empty())
      std::cout << ",\"message\":" << json_string(message);
    std::cout << "}" << std::endl;
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
    std::cout << "{\"ok\":true,\"op\":" << json_string(a.command + " " + a.args[0]);
    if (a.args.size() > 1)
      std::cout << ",\"" << (a.command == "role" ? "role" : "user")
                << "\":" << json_string(a.args[1]);
    if (a.command == "user" && a.args.size() > 2)
      std::cout << ",\"role\":" << json_string(a.args[2]);
    if (a.command == "role" && a.args.size() > 3)
      std::cout << ",\"kind\":" << json_string(a.args[2])
                << ",\"prefix\":" << json_string(a.args[3]);
    std::cout << "}" << std::endl;
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
    std::cout << "{\"ok\":true,\"enabled\":" << (who.enabled ? "true" : "false")
              << ",\"user\":" << json_string(who.user)
              << ",\"root\":" << (who.root ? "true" : "false") << "}" << std::endl;
    return exit_ok;
  }
  std::cout << "authentication " << (who.enabled ? "enabled" : "disabled") << "; connected as "
            << (who.user.empty() ? std::string{"(anonymous)"} : quoted(who.user))
            << (who.root ? " (root)" : "") << std::endl;
  return exit_ok;
}

int run_user_list(const output& out, const auth_args& a, client::client& c) {
  auto l = c.auth_list();
  if (!l.ok())
    return fail(out, a, l.result);
  for (auto& u : l.users) {
    if (out.json) {
      std::cout << "{\"user\":" << json_string(u.name) << ",\"roles\":[";
      for (std::size_t i = 0; i < u.roles.size(); ++i)
        std::cout << (i ? "," : "") << json_string(u.roles[i]);
      std::cout << "],\"password\":" << (u.has_password ? "true" : "false") << "}\n";
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
    std::cout << "{\"enabled\":" << (l.enabled ? "true" : "false") << "}\n";
  std::cout.flush();
  return exit_ok;
}

int run_role_list(const output& out, const auth_args& a, client::client& c) {
  auto l = c.auth_list();
  if (!l.ok())
    return fail(out, a, l.result);
  for (auto& r : l.roles) {
    if (out.json) {
      std::cout << "{\"role\":" << json_string(r.name) << ",\"permissions\":[";
      for (std::size_t i = 0; i < r.permissions.size(); ++i)
        std::cout << (i ? "," : "") << "{\"kind\":\"" << client::to_string(r.permissions[i].kind)
                  << "\",\"prefix\":" << json_string(r.permissions[i].prefix) << "}";
      std::cout << "]}\n";
      continue;
    }
    // One line a permission; a prefix is quoted (it may be empty or hold
    // spaces) and escaped like a key.
    if (r.permissions.empty())
      std::cout << printable(r.name) << " (no permissions)\n";
    for (auto& p : r.permissions)
      std::cout << printable(r.name) << " " << client::to_string(p.kind) << " "
                << json_string(p.prefix) << "\n";
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
    auto user = quoted(arg(1));
    if (sub == "add")
      return apply(c.user_add(arg(1), a.new_password.value_or("")), "user " + user + " added");
    if (sub == "passwd")
      return apply(c.user_passwd(arg(1), *a.new_password), "password of " + user + " changed");
    if (sub == "delete")
      return apply(c.user_delete(arg(1)), "user " + user + " deleted");
    if (sub == "grant")
      return apply(c.user_grant(arg(1), arg(2)),
                   "user " + user + " granted role " + quoted(arg(2)));
    return apply(c.user_revoke(arg(1), arg(2)), "user " + user + " revoked role " + quoted(arg(2)));
  }
  if (sub == "list")
    return run_role_list(out, a, c);
  auto role = quoted(arg(1));
  if (sub == "add")
    return apply(c.role_add(arg(1)), "role " + role + " added");
  if (sub == "delete")
    return apply(c.role_delete(arg(1)), "role " + role + " deleted");
  client::permission perm;
  client::parse_permission_kind(arg(2), perm.kind);
  perm.prefix = arg(3);
  auto what = std::string{client::to_string(perm.kind)} + " on prefix " + quoted(perm.prefix);
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
