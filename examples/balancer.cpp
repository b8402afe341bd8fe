// A balancer over workers in two processes: two worker actors in this process
// and four in a `balance-worker` process, reached through CAF's middleman on
// 127.0.0.1. It prints which worker served each request, then kills the worker
// process and shows the balancer moving everything to the local workers (the
// dead ones are removed at once; idempotent requests they held are retried).
//
// Run it (after `make` or `cmake --build build --target balancer_example balance-worker`):
//
//   build/bin/balancer_example                    # starts build/bin/balance-worker itself
//   build/bin/balancer_example --policy ring-hash # same key, same worker
//
// or with a worker process of your own (it is then not killed):
//
//   build/bin/balance-worker --port 7500 --workers 4 &
//   build/bin/balancer_example --connect 127.0.0.1:7500
//
// Options: --policy NAME (random, round-robin, weighted-round-robin,
// least-outstanding, power-of-two (the default), ring-hash, maglev),
// --requests N (default 12). Exit 0 if every request was answered.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "caf/all.hpp"
#include "caf/io/all.hpp"

#include "actors/balance/balancer_actor.hpp"
#include "actors/balance/type_ids.hpp"

using namespace ballot::balance;
using namespace std::chrono_literals;

namespace {

/// The worker of this process: answers like balance-worker's.
caf::behavior local_worker(caf::event_based_actor*, std::string name) {
  return {
    [=](const std::string& job) {
      return name + " (pid " + std::to_string(getpid()) + ") did " + job;
    },
  };
}

/// `balance-worker` started next to this binary; stopped with the object.
class worker_process {
 public:
  worker_process() {
    char self[4096];
    auto n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    std::string dir = n > 0 ? std::string(self, static_cast<std::size_t>(n)) : std::string{};
    dir = dir.substr(0, dir.rfind('/'));
    std::string bin = dir + "/balance-worker";
    int out[2];
    if (pipe(out) != 0)
      return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      close(out[1]);
      execl(bin.c_str(), bin.c_str(), "--workers", "4", "--name", "remote", "--delay-ms", "10",
            static_cast<char*>(nullptr));
      std::perror(("cannot run " + bin).c_str());
      _exit(127);
    }
    close(out[1]);
    // Wait (at most 10 s) for "balance-worker ready port=<P> ...".
    std::string text;
    for (int i = 0; i < 100 && text.find('\n') == std::string::npos; ++i) {
      pollfd pfd{out[0], POLLIN, 0};
      if (poll(&pfd, 1, 100) > 0) {
        char buf[256];
        auto got = read(out[0], buf, sizeof(buf));
        if (got <= 0)
          break;
        text.append(buf, static_cast<std::size_t>(got));
      }
    }
    close(out[0]);
    auto at = text.find("port=");
    if (at != std::string::npos)
      port_ = static_cast<std::uint16_t>(std::atoi(text.c_str() + at + 5));
  }

  ~worker_process() { kill(SIGTERM); }

  void kill(int sig) {
    if (pid_ <= 0)
      return;
    ::kill(pid_, sig);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  std::optional<std::uint16_t> port() const { return port_; }
  int pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::optional<std::uint16_t> port_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string connect;
  std::string policy_name = "power-of-two";
  int requests = 12;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--connect")
      connect = value;
    else if (flag == "--policy")
      policy_name = value;
    else if (flag == "--requests")
      requests = std::max(1, std::atoi(value.c_str()));
    else {
      std::cerr << "unknown flag " << flag << " (see the top of examples/balancer.cpp)\n";
      return 2;
    }
  }
  auto kind = parse_policy_kind(policy_name);
  if (!kind) {
    std::cerr << "unknown policy '" << policy_name << "'\n";
    return 2;
  }

  // The second process: ours, or one given with --connect.
  std::optional<worker_process> child;
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  if (connect.empty()) {
    child.emplace();
    if (!child->port()) {
      std::cerr << "balance-worker did not start (build it next to this binary)\n";
      return 1;
    }
    port = *child->port();
    std::cout << "started balance-worker (pid " << child->pid() << ") on " << host << ":" << port
              << "\n";
  } else {
    auto colon = connect.rfind(':');
    host = connect.substr(0, colon);
    port = static_cast<std::uint16_t>(std::atoi(connect.c_str() + colon + 1));
  }

  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  configure(cfg);
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};

  // Its workers: the directory it publishes hands out their handles (proxies here).
  auto dir = sys.middleman().remote_actor(host, port);
  if (!dir) {
    std::cerr << "cannot reach " << host << ":" << port << ": " << sys.render(dir.error()) << "\n";
    return 1;
  }
  std::vector<caf::actor> remote;
  self->request(*dir, 5s, caf::get_atom::value)
    .receive([&](std::vector<caf::actor>& xs) { remote = std::move(xs); },
             [&](caf::error& err) { std::cerr << "directory: " << sys.render(err) << "\n"; });

  balancer_config bc;
  bc.policy = *kind;
  bc.limits.request_timeout = 2s;
  bc.limits.attempt_timeout = 500ms;
  for (int i = 0; i < 2; ++i) {
    auto name = "local/" + std::to_string(i);
    bc.workers.push_back({name, sys.spawn(local_worker, name), 1, std::nullopt});
  }
  for (std::size_t i = 0; i < remote.size(); ++i)
    bc.workers.push_back({"remote/" + std::to_string(i), remote[i], 1, std::nullopt});
  auto balancer = spawn_balancer(sys, bc);
  std::cout << "balancer (" << to_string(*kind) << ") over " << bc.workers.size()
            << " workers: 2 here, " << remote.size() << " in the other process\n";

  int answered = 0, total = 0;
  auto send = [&](const std::string& key, const std::string& job, bool idempotent) {
    ++total;
    self->request(balancer, 5s, make_balance_request(key, idempotent, job))
      .receive(
        [&](std::string& reply) {
          ++answered;
          std::cout << "  " << job << " key=" << key << " -> " << reply << "\n";
        },
        [&](caf::error& err) {
          ++answered;
          std::cout << "  " << job << " key=" << key << " -> error: " << sys.render(err) << "\n";
        });
  };

  std::cout << "requests:\n";
  for (int i = 0; i < requests; ++i)
    send("user-" + std::to_string(i % 4), "job-" + std::to_string(i), true);

  if (child) {
    std::cout << "killing balance-worker (SIGKILL)\n";
    child->kill(SIGKILL);
    std::this_thread::sleep_for(200ms);  // the middleman notices the lost connection
    std::cout << "requests after the kill:\n";
    for (int i = 0; i < requests / 2; ++i)
      send("user-" + std::to_string(i % 4), "late-job-" + std::to_string(i), true);
  }

  self->request(balancer, 5s, balance_stats_atom::value)
    .receive(
      [&](core_stats& s) {
        std::cout << "workers:\n";
        for (auto& b : s.backends)
          std::cout << "  " << b.name << ": served " << b.served << ", failed " << b.failures
                    << (b.up ? "" : ", down") << (b.ejected ? ", ejected" : "") << "\n";
        std::cout << "retries " << s.retries << ", timeouts " << s.timeouts << ", overloaded "
                  << s.overloaded << "\n";
      },
      [&](caf::error& err) { std::cerr << "stats: " << sys.render(err) << "\n"; });
  caf::anon_send_exit(balancer, caf::exit_reason::user_shutdown);
  return answered == total ? 0 : 1;
}
