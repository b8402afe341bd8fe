// Service discovery through the lock service: a balancer that follows a key
// prefix, over workers in two other processes that register themselves.
//
// Start a cluster, then the example (after `make`, or
// `cmake --build build --target ballotd discovery_example balance-worker`):
//
//   build/bin/ballotd --data-dir /tmp/ballot-demo &     # clients on 127.0.0.1:7400
//   build/bin/discovery_example                         # starts two balance-workers itself
//
// It spawns a balancer over the prefix svc/echo/ (no workers of its own) and
// starts two `balance-worker --register` processes, "alpha" and "beta", with
// two workers each, sessions of 2 s. They join the balancer by themselves;
// the example sends requests and prints who served them, kills alpha with
// SIGKILL (the balancer stops using it at once; its keys go when its session
// expires), starts "gamma" (it joins by itself), and stops beta with SIGTERM
// (its keys go at once).
//
// Or follow the prefix while you start and kill workers yourself:
//
//   build/bin/discovery_example --follow 60 &
//   build/bin/balance-worker --register 127.0.0.1:7400 --prefix svc/echo/ --ttl 2 --workers 2
//
// Options: --endpoints HOST:PORT,... (default 127.0.0.1:7400), --prefix P
// (default svc/echo/), --follow SECONDS (send a request every 500 ms and print
// the members, spawning nothing). Exit 0 if every request was answered.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "caf/all.hpp"
#include "caf/io/all.hpp"

#include "actors/balance/balancer_actor.hpp"
#include "actors/balance/type_ids.hpp"
#include "runtime/client/client.hpp"
#include "runtime/discovery/discovery.hpp"

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

/// A `balance-worker --register` started next to this binary; killed with the object.
class worker_process {
 public:
  worker_process(const std::string& name, const std::string& endpoints, const std::string& prefix) {
    char self[4096];
    auto n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    std::string dir = n > 0 ? std::string(self, static_cast<std::size_t>(n)) : std::string{};
    std::string bin = dir.substr(0, dir.rfind('/')) + "/balance-worker";
    int out[2];
    if (pipe(out) != 0)
      return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      close(out[1]);
      execl(bin.c_str(), bin.c_str(), "--workers", "2", "--name", name.c_str(), "--register",
            endpoints.c_str(), "--prefix", prefix.c_str(), "--ttl", "2", "--delay-ms", "5",
            static_cast<char*>(nullptr));
      std::perror(("cannot run " + bin).c_str());
      _exit(127);
    }
    close(out[1]);
    // "balance-worker ready ..." comes once its workers are registered (at most 15 s).
    std::string text;
    for (int i = 0; i < 150 && text.find("ready") == std::string::npos; ++i) {
      pollfd pfd{out[0], POLLIN, 0};
      if (poll(&pfd, 1, 100) > 0) {
        char buf[512];
        auto got = read(out[0], buf, sizeof(buf));
        if (got <= 0)
          break;
        text.append(buf, static_cast<std::size_t>(got));
      }
    }
    close(out[0]);
    ready_ = text.find("ready") != std::string::npos;
  }

  ~worker_process() { stop(SIGTERM); }

  void stop(int sig) {
    if (pid_ <= 0)
      return;
    ::kill(pid_, sig);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  bool ready() const { return ready_; }
  int pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  bool ready_ = false;
};

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= text.size()) {
    auto comma = text.find(',', at);
    auto part = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    if (!part.empty())
      out.push_back(part);
    if (comma == std::string::npos)
      break;
    at = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string endpoints = "127.0.0.1:7400";
  std::string prefix = "svc/echo/";
  int follow_s = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--endpoints")
      endpoints = value;
    else if (flag == "--prefix")
      prefix = value;
    else if (flag == "--follow")
      follow_s = std::max(1, std::atoi(value.c_str()));
    else {
      std::cerr << "unknown flag " << flag << " (see the top of examples/discovery.cpp)\n";
      return 2;
    }
  }
  if (argc % 2 == 0) {
    std::cerr << "missing value for " << argv[argc - 1] << "\n";
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);

  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  ballot::balance::configure(cfg);
  caf::actor_system sys{cfg};

  ballot::client::options co;
  co.endpoints = split(endpoints);
  ballot::client::client cluster{co};
  auto st = cluster.status();
  if (!st.ok()) {
    std::cerr << "no Ballot cluster at " << endpoints << " (" << st.message
              << "): start one with `build/bin/ballotd --data-dir /tmp/ballot-demo`\n";
    return 1;
  }

  // The embedded API: a balancer over a discovery prefix.
  ballot::balance::balancer_config bc;
  bc.policy = ballot::balance::policy_kind::round_robin;
  bc.limits.request_timeout = 2s;
  bc.limits.attempt_timeout = 500ms;
  ballot::discovery::discovery_options opts;
  auto t0 = clock_type::now();
  auto stamp = [t0] {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0);
    char buf[32];
    std::snprintf(buf, sizeof(buf), "[%6.3f s] ", static_cast<double>(ms.count()) / 1000.0);
    return std::string{buf};
  };
  opts.log = [stamp](const std::string& what) { std::cout << stamp() << what << "\n"; };
  auto follower = ballot::discovery::spawn_discovering_balancer(sys, cluster, prefix, bc, opts);
  auto balancer = follower->balancer();
  std::cout << stamp() << "balancer following " << prefix << " on " << endpoints << "\n";

  caf::scoped_actor self{sys};
  int total = 0, answered = 0;
  auto send = [&](int n, const std::string& what) {
    std::map<std::string, int> by;
    for (int i = 0; i < n; ++i) {
      ++total;
      auto job = what + "-" + std::to_string(i);
      self->request(balancer, 5s, ballot::balance::make_balance_request(job, true, job))
        .receive(
          [&](std::string& reply) {
            ++answered;
            by[reply.substr(0, reply.find(' '))]++;
          },
          [&](caf::error& err) {
            ++answered;
            by["error: " + sys.render(err)]++;
          });
    }
    std::cout << stamp() << n << " requests (" << what << "):";
    for (auto& [who, k] : by)
      std::cout << " " << who << "=" << k;
    std::cout << "\n";
  };
  auto print_members = [&] {
    std::cout << stamp() << "members:";
    for (auto& m : follower->members())
      std::cout << " " << m.key << (m.connected ? "" : " (connecting)");
    std::cout << "\n";
  };

  if (follow_s > 0) {
    auto end = clock_type::now() + std::chrono::seconds(follow_s);
    while (clock_type::now() < end) {
      std::this_thread::sleep_for(500ms);
      if (follower->members().empty())
        std::cout << stamp() << "no members under " << prefix << " yet\n";
      else
        send(1, "tick");
    }
    return answered == total ? 0 : 1;
  }

  auto alpha = std::make_unique<worker_process>("alpha", endpoints, prefix);
  auto beta = std::make_unique<worker_process>("beta", endpoints, prefix);
  if (!alpha->ready() || !beta->ready()) {
    std::cerr << "balance-worker did not start (build it next to this binary)\n";
    return 1;
  }
  std::cout << stamp() << "started alpha (pid " << alpha->pid() << ") and beta (pid " << beta->pid()
            << ")\n";
  if (!follower->wait_connected(4, 10s))
    std::cerr << "not every worker joined in 10 s\n";
  print_members();
  send(8, "first");

  std::cout << stamp() << "killing alpha (SIGKILL)\n";
  alpha->stop(SIGKILL);
  std::this_thread::sleep_for(100ms);  // the middleman notices the lost connection
  send(4, "after-kill");
  std::cout << stamp() << "waiting for alpha's session (TTL 2 s) to expire\n";
  for (int i = 0; i < 100 && follower->members().size() > 2; ++i)
    std::this_thread::sleep_for(100ms);
  print_members();

  auto gamma = std::make_unique<worker_process>("gamma", endpoints, prefix);
  std::cout << stamp() << "started gamma (pid " << gamma->pid() << ")\n";
  follower->wait_connected(4, 10s);
  print_members();
  send(8, "with-gamma");

  std::cout << stamp() << "stopping beta (SIGTERM)\n";
  beta->stop(SIGTERM);
  for (int i = 0; i < 50 && follower->members().size() > 2; ++i)
    std::this_thread::sleep_for(20ms);
  print_members();
  send(4, "last");
  gamma.reset();
  follower.reset();
  return answered == total ? 0 : 1;
}
