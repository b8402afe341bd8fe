#include "runtime/ballotctl/lock_commands.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actors/lock/wait_limit.hpp"
#include "runtime/ballotctl/printable.hpp"
#include "runtime/client/session.hpp"
#include "runtime/json/json_line.hpp"

namespace ballot::ctl {

namespace {

using lock::result_code;

constexpr int exit_ok = 0;
constexpr int exit_refused = 1;
constexpr int exit_usage = 2;
constexpr int exit_unavailable = 3;

/// Reports a lock-service failure and returns its exit code.
int fail(const lock::result& r, bool json, const std::string& what) {
  if (json) {
    json::value j{{"ok", false}, {"error", lock::to_string(r.code)}};
    if (!r.message.empty())
      j["message"] = json::text(r.message);
    std::cout << json::line(j) << std::endl;
  }
  std::cerr << "ballotctl: " << printable(what) << ": " << lock::to_string(r.code)
            << (r.message.empty() ? "" : " (" + printable(r.message) + ")") << "\n";
  switch (r.code) {
    case result_code::bad_request:
      return exit_usage;
    case result_code::unavailable:
    case result_code::expired:     // unknown whether it applied, like unavailable
    case result_code::overloaded:  // still overloaded when --timeout ran out
      return exit_unavailable;
    default:  // limit_reached, quota_exceeded, request_id_reused, busy, ...
      return exit_refused;
  }
}

/// The --json line of a lock given up because the session is in jeopardy.
std::string jeopardy_json(const std::string& name, std::uint64_t token) {
  return json::line(
    {{"ok", false}, {"error", "jeopardy"}, {"name", json::text(name)}, {"token", token}});
}

}  // namespace

int run_check_token(const std::string& name, std::uint64_t token, bool json, client::client& c) {
  auto r = c.check_token(name, token);
  if (!r.ok() && r.code != result_code::stale)
    return fail(r, json, "check-token " + name);
  bool valid = r.ok();
  if (json)
    std::cout << json::line(
                   {{"ok", true}, {"name", json::text(name)}, {"token", token}, {"valid", valid}})
              << std::endl;
  else
    std::cout << (valid ? "valid" : "stale") << std::endl;
  return valid ? exit_ok : exit_refused;
}

int run_watch(const watch_args& a, client::client& c) {
  std::mutex m;
  std::condition_variable cv;
  std::uint64_t printed = 0;
  std::optional<lock::result> ended;
  auto w = c.watch(
    a.key, a.prefix, a.from_revision,
    [&](const std::vector<kv::event>& events, std::uint64_t) {
      std::lock_guard<std::mutex> guard{m};
      for (auto& e : events) {
        if (a.count && printed >= *a.count)
          break;
        bool put = e.type == kv::event_type::put;
        if (a.json) {
          json::value j{
            {"type", put ? "put" : "delete"}, {"key", json::text(e.key)}, {"revision", e.revision}};
          if (put)
            j["value"] = json::text(e.value);
          std::cout << json::line(j) << "\n";
        } else {
          std::cout << (put ? "put " : "delete ") << printable(e.key) << " " << e.revision;
          if (put)
            std::cout << " " << printable(e.value);
          std::cout << "\n";
        }
        ++printed;
      }
      std::cout.flush();
      cv.notify_all();
    },
    [&](lock::result why) {
      std::lock_guard<std::mutex> guard{m};
      ended = std::move(why);
      cv.notify_all();
    });
  std::unique_lock<std::mutex> guard{m};
  cv.wait(guard, [&] { return ended.has_value() || (a.count && printed >= *a.count); });
  if (ended) {
    if (ended->code == result_code::compacted)
      ended->message = "the history no longer reaches back to revision " +
                       std::to_string(a.from_revision.value_or(0)) + "; the current revision is " +
                       std::to_string(ended->revision);
    auto code = fail(*ended, a.json, "watch " + a.key);
    guard.unlock();
    return code;
  }
  guard.unlock();
  w.reset();
  return exit_ok;
}

namespace {

/// Starts `argv` with the lock in its environment; the child's pid or -1.
pid_t spawn(const std::vector<std::string>& command, const std::string& name, std::uint64_t token,
            lock::session_id session) {
  std::vector<char*> argv;
  argv.reserve(command.size() + 1);
  for (auto& s : command)
    argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  std::string name_env = "BALLOT_LOCK_NAME=" + name;
  std::string token_env = "BALLOT_FENCING_TOKEN=" + std::to_string(token);
  std::string session_env = "BALLOT_SESSION=" + std::to_string(session);
  std::cout.flush();
  std::cerr.flush();
  pid_t pid = fork();
  if (pid == 0) {
    putenv(name_env.data());
    putenv(token_env.data());
    putenv(session_env.data());
    execvp(argv[0], argv.data());
    std::fprintf(stderr, "ballotctl: cannot run '%s': %s\n", argv[0], std::strerror(errno));
    _exit(127);
  }
  return pid;
}

std::string seconds(double s) {
  std::ostringstream out;
  out << s;
  return out.str();
}

std::chrono::milliseconds to_ms(double s) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(s * 1000)));
}

client::keeper_config keeper_timing(const lock_args& a) {
  auto k = client::keeper_config::defaults_for(to_ms(a.ttl_s));
  k.jeopardy_margin = a.jeopardy_margin;
  k.interval = (k.ttl - k.jeopardy_margin) / 3;
  k.retry = std::max(std::chrono::milliseconds(1), k.interval / 4);
  return k;
}

/// Stops CMD at jeopardy: SIGTERM, then SIGKILL after the grace. Returns
/// CMD's wait status and whether ballotctl stopped it.
struct supervision {
  int status = 0;
  bool stopped = false;
};

supervision supervise(pid_t pid, const lock_args& a, std::uint64_t token, client::session& s) {
  using clock_type = std::chrono::steady_clock;
  supervision out;
  std::optional<clock_type::time_point> term_at;
  bool killed = false;
  for (;;) {
    auto done = waitpid(pid, &out.status, WNOHANG);
    if (done == pid)
      return out;
    if (done < 0 && errno != EINTR) {
      out.status = 0;
      return out;
    }
    auto now = clock_type::now();
    // Asked at every turn, not from a callback: the health is computed from
    // the clock at the call, so a late timer on a busy machine delays nothing.
    auto health = s.health();
    if (!term_at && health != client::session_health::healthy) {
      term_at = now;
      out.stopped = true;
      auto& k = s.timing();
      if (health == client::session_health::jeopardy)
        std::cerr << "ballotctl: jeopardy: the cluster confirmed no keep-alive of session "
                  << s.id() << " sent in the last " << (k.ttl - k.jeopardy_margin).count()
                  << " ms (TTL " << k.ttl.count() << " ms minus the jeopardy margin of "
                  << k.jeopardy_margin.count() << " ms); it may expire the session and grant '"
                  << printable(a.name) << "' to another holder in " << k.jeopardy_margin.count()
                  << " ms";
      else
        std::cerr << "ballotctl: lost the session holding '" << printable(a.name)
                  << "' (it expired, or no keep-alive was confirmed within its TTL); its "
                     "fencing token "
                  << token << " is no longer valid";
      std::cerr << "; stopping the command (pid " << pid << "): SIGTERM now, SIGKILL in "
                << a.kill_grace.count() << " ms" << std::endl;
      kill(pid, SIGTERM);
    }
    if (term_at && !killed && now - *term_at >= a.kill_grace) {
      killed = true;
      std::cerr << "ballotctl: the command (pid " << pid
                << ") did not exit within the kill grace of " << a.kill_grace.count()
                << " ms: sending SIGKILL" << std::endl;
      kill(pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace

std::string settle_lock_timing(lock_args& a, bool margin_given, bool grace_given) {
  auto ttl = to_ms(a.ttl_s);
  if (!margin_given)
    a.jeopardy_margin = ttl / 4;
  if (a.jeopardy_margin >= ttl)
    return "--jeopardy-margin '" + seconds(a.jeopardy_margin.count() / 1000.0) +
           "' must be less than the session's TTL (--ttl " + seconds(a.ttl_s) + ")";
  if (!grace_given)
    a.kill_grace = a.jeopardy_margin / 2;
  if (a.kill_grace >= a.jeopardy_margin)
    return "--kill-grace '" + seconds(a.kill_grace.count() / 1000.0) +
           "' must be less than the jeopardy margin (" +
           seconds(a.jeopardy_margin.count() / 1000.0) +
           " s): the command must be dead before the cluster may expire the session";
  if (auto why = lock::validate(keeper_timing(a)); !why.empty())
    return "--jeopardy-margin '" + seconds(a.jeopardy_margin.count() / 1000.0) + "' with --ttl " +
           seconds(a.ttl_s) + ": " + why;
  return {};
}

int run_lock(const lock_args& a, client::client& c) {
  lock::result why;
  auto s = client::session::open(c, keeper_timing(a), nullptr, nullptr, &why);
  if (!s)
    return fail(why, a.json, "cannot open a session");
  auto mode = a.shared ? lock::lock_mode::shared : lock::lock_mode::exclusive;
  auto delay = std::chrono::milliseconds(static_cast<std::int64_t>(a.lock_delay_s * 1000));
  lock::result got;
  if (a.wait_s) {
    got = s->acquire(a.name, mode,
                     std::chrono::milliseconds(static_cast<std::int64_t>(*a.wait_s * 1000)), delay);
  } else {
    // As long as it takes, in waits of the longest a node allows (an hour);
    // a new wait queues at the back again.
    auto longest = std::chrono::milliseconds(lock::max_acquire_wait_ms);
    do {
      got = s->acquire(a.name, mode, longest, delay);
    } while (got.code == result_code::timeout);
  }
  if (!got.ok()) {
    auto code = fail(got, a.json,
                     got.code == result_code::busy || got.code == result_code::timeout
                       ? "lock '" + a.name + "' not acquired"
                       : "lock '" + a.name + "'");
    s->close();
    return code;
  }
  // Granted, but the session may have fallen into jeopardy while the grant
  // was on its way: then the lock cannot be trusted for a whole margin.
  if (s->health() != client::session_health::healthy) {
    std::cerr << "ballotctl: acquired '" << printable(a.name) << "' but session " << s->id()
              << " is in jeopardy (no keep-alive confirmed lately): not starting the command\n";
    if (a.json)
      std::cout << jeopardy_json(a.name, got.token) << std::endl;
    s->abandon();
    return exit_jeopardy;
  }
  auto pid = spawn(a.command, a.name, got.token, s->id());
  if (pid < 0) {
    std::cerr << "ballotctl: cannot start '" << a.command[0] << "': " << std::strerror(errno)
              << "\n";
    s->close();
    return exit_usage;
  }
  auto run = supervise(pid, a, got.token, *s);
  // Cut off from the cluster, a close would wait for the whole --timeout:
  // leave the session to expire instead (the lock is free after its TTL and
  // lock-delay). Healthy again, release the lock now.
  if (s->health() == client::session_health::healthy) {
    auto released = s->close();
    if (!released.ok())
      std::cerr << "ballotctl: releasing '" << printable(a.name) << "' failed ("
                << lock::to_string(released.code) << "); it is freed when the session expires\n";
  } else {
    s->abandon();
  }
  if (run.stopped) {
    if (a.json)
      std::cout << jeopardy_json(a.name, got.token) << std::endl;
    std::cerr << "ballotctl: stopped the command holding '" << printable(a.name)
              << "': the session could no longer be trusted to hold it; fencing token " << got.token
              << " may be stale (exit " << exit_jeopardy << ")\n";
    return exit_jeopardy;
  }
  if (WIFEXITED(run.status))
    return WEXITSTATUS(run.status);
  if (WIFSIGNALED(run.status))
    return 128 + WTERMSIG(run.status);
  return exit_refused;
}

}  // namespace ballot::ctl
