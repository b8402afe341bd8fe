#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ballot::testing {

/// A child process for tests with real processes: started with fork/exec,
/// its stdout and stderr read through pipes, killed when the object goes
/// away, so a failing test never leaves a node running.
class process {
 public:
  explicit process(std::vector<std::string> argv) : argv_(std::move(argv)) {
    int out[2], err[2];
    if (pipe(out) != 0 || pipe(err) != 0)
      throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ < 0)
      throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      dup2(out[1], 1);
      dup2(err[1], 2);
      close(out[0]), close(out[1]), close(err[0]), close(err[1]);
      std::vector<char*> args;
      for (auto& a : argv_)
        args.push_back(a.data());
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(out[1]);
    close(err[1]);
    out_ = out[0];
    err_ = err[0];
    fcntl(out_, F_SETFL, O_NONBLOCK);
    fcntl(err_, F_SETFL, O_NONBLOCK);
  }

  process(const process&) = delete;
  process& operator=(const process&) = delete;

  ~process() {
    kill(SIGKILL);
    wait_exit(std::chrono::seconds(5));
    close(out_);
    close(err_);
  }

  /// Waits until stdout has a line containing `text`; false on timeout or exit.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (stdout_.find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline || !running())
        return pump(), stdout_.find(text) != std::string::npos;
      pump(50);
    }
    return true;
  }

  /// Waits until stderr (where ballotd logs) has `text`; false on timeout or exit.
  bool wait_for_error(const std::string& text, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (stderr_.find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline || !running())
        return pump(), stderr_.find(text) != std::string::npos;
      pump(50);
    }
    return true;
  }

  void kill(int sig) {
    if (pid_ > 0 && !status_)
      ::kill(pid_, sig);
  }

  /// The exit status (as from waitpid) once the process ended within `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!status_ && std::chrono::steady_clock::now() < deadline) {
      pump(20);
      running();
    }
    pump();
    return status_;
  }

  /// Exit code if the process exited normally.
  std::optional<int> exit_code(std::chrono::milliseconds timeout) {
    auto st = wait_exit(timeout);
    if (!st || !WIFEXITED(*st))
      return std::nullopt;
    return WEXITSTATUS(*st);
  }

  pid_t pid() const { return pid_; }

  bool running() {
    if (status_)
      return false;
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) == pid_)
      status_ = st;
    return !status_;
  }

  const std::string& out() {
    pump();
    return stdout_;
  }
  const std::string& err() {
    pump();
    return stderr_;
  }

 private:
  void pump(int wait_ms = 0) {
    pollfd fds[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
    poll(fds, 2, wait_ms);
    char buf[4096];
    for (auto [fd, sink] : {std::pair{out_, &stdout_}, std::pair{err_, &stderr_}}) {
      ssize_t n;
      while ((n = read(fd, buf, sizeof(buf))) > 0)
        sink->append(buf, static_cast<std::size_t>(n));
    }
  }

  std::vector<std::string> argv_;
  pid_t pid_ = -1;
  int out_ = -1, err_ = -1;
  std::optional<int> status_;
  std::string stdout_, stderr_;
};

/// A TCP port on 127.0.0.1 that was free a moment ago.
/// Drawn below the kernel's ephemeral range (32768 and up), so no outgoing
/// connection of a test (a thousand idle sockets, say) takes it meanwhile,
/// and never twice in one process.
inline std::uint16_t free_port() {
  // The product wraps in 32 bits on purpose (a multiplicative hash of the pid).
  static std::mt19937 rng{
    static_cast<std::mt19937::result_type>(static_cast<std::uint32_t>(getpid()) * 2654435761u)};
  static std::set<std::uint16_t> handed_out;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    auto port = static_cast<std::uint16_t>(20000 + rng() % 12000);
    if (handed_out.count(port) != 0)
      continue;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    close(fd);
    if (ok) {
      handed_out.insert(port);
      return port;
    }
  }
  throw std::runtime_error("no free port in 20000..31999");
}

}  // namespace ballot::testing
