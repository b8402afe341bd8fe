#include "runtime/ballotctl/lock_commands.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <iostream>
#include <mutex>
#include <thread>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actors/lock/wait_limit.hpp"
#include "runtime/ballotctl/json.hpp"
#include "runtime/client/session.hpp"

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
    std::cout << "{\"ok\":false,\"error\":" << json_string(lock::to_string(r.code));
    if (!r.message.empty())
      std::cout << ",\"message\":" << json_string(r.message);
    std::cout << "}" << std::endl;
  }
  std::cerr << "ballotctl: " << printable(what) << ": " << lock::to_string(r.code)
            << (r.message.empty() ? "" : " (" + r.message + ")") << "\n";
  switch (r.code) {
    case result_code::bad_request:
      return exit_usage;
    case result_code::unavailable:
    case result_code::overloaded:  // still overloaded when --timeout ran out
      return exit_unavailable;
    default:  // limit_reached, quota_exceeded, request_id_reused, busy, ...
      return exit_refused;
  }
}

}  // namespace

int run_check_token(const std::string& name, std::uint64_t token, bool json, client::client& c) {
  auto r = c.check_token(name, token);
  if (!r.ok() && r.code != result_code::stale)
    return fail(r, json, "check-token " + name);
  bool valid = r.ok();
  if (json)
    std::cout << "{\"ok\":true,\"name\":" << json_string(name) << ",\"token\":" << token
              << ",\"valid\":" << (valid ? "true" : "false") << "}" << std::endl;
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
          std::cout << "{\"type\":\"" << (put ? "put" : "delete")
                    << "\",\"key\":" << json_string(e.key) << ",\"revision\":" << e.revision;
          if (put)
            std::cout << ",\"value\":" << json_string(e.value);
          std::cout << "}\n";
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

}  // namespace

int run_lock(const lock_args& a, client::client& c) {
  std::atomic<bool> lost{false};
  lock::result why;
  auto ttl = std::chrono::milliseconds(static_cast<std::int64_t>(a.ttl_s * 1000));
  auto s = client::session::open(
    c, ttl, [&](const std::string&) { lost = true; }, &why);
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
  auto pid = spawn(a.command, a.name, got.token, s->id());
  if (pid < 0) {
    std::cerr << "ballotctl: cannot start '" << a.command[0] << "': " << std::strerror(errno)
              << "\n";
    s->close();
    return exit_usage;
  }
  int status = 0;
  bool warned = false;
  for (;;) {
    auto done = waitpid(pid, &status, WNOHANG);
    if (done == pid)
      break;
    if (done < 0 && errno != EINTR) {
      status = 0;
      break;
    }
    if (lost && !warned) {
      warned = true;
      std::cerr << "ballotctl: lost the session holding '" << printable(a.name)
                << "' (it expired); stopping the command: its fencing token " << got.token
                << " is no longer valid\n";
      kill(pid, SIGTERM);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!lost) {
    auto released = s->close();
    if (!released.ok())
      std::cerr << "ballotctl: releasing '" << printable(a.name) << "' failed ("
                << lock::to_string(released.code) << "); it is freed when the session expires\n";
  }
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return exit_refused;
}

}  // namespace ballot::ctl
