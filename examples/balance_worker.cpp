// balance-worker: a process of N worker actors for balancers in other
// processes (examples/balancer.cpp, examples/discovery.cpp,
// tests/process/balance_process_test.cpp, tests/discovery/).
//
//   build/bin/balance-worker [--port P] [--workers N] [--name NAME] [--delay-ms D]
//                            [--register ENDPOINTS [--prefix P] [--ttl S] [--weight W]]
//
// It publishes a directory actor through CAF's middleman on 127.0.0.1:P (P = 0,
// the default, picks a free port), prints
//
//   balance-worker ready port=<P> workers=<N> pid=<pid>
//
// and serves until SIGINT or SIGTERM (exit 0). The directory answers
// `(caf::get_atom)` with the workers' handles (a std::vector<caf::actor>; the
// other process sees CAF proxies). A worker answers `(std::string job)` with
// "<NAME>/<i> (pid <pid>) did <job>" after D milliseconds (default 0), so
// requests can be caught in flight. Bad flags exit 2.
//
// With --register (a Ballot cluster's client endpoints, host:port,...), each
// worker is also published on a port of its own and registered for service
// discovery (runtime/discovery/): the key `<P><NAME>/<i>` (prefix P, default
// "svc/echo/"; NAME defaults to "worker-<pid>" there) holds
// "127.0.0.1:<its port>[;weight=W]", an ephemeral key bound to a session with
// a TTL of S seconds (default 5, fractions allowed) that the process keeps
// alive. Balancers that follow the prefix add the workers by themselves; on
// SIGINT/SIGTERM the sessions are closed and the keys vanish at once, after a
// kill -9 when the TTL runs out. One line per key comes before the ready line:
//
//   balance-worker registered key=<key> session=<session id>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "caf/all.hpp"
#include "caf/io/all.hpp"

#include "actors/balance/balancer_actor.hpp"
#include "runtime/client/client.hpp"
#include "runtime/discovery/registration.hpp"

namespace {

using finish_atom = caf::atom_constant<caf::atom("finish")>;

struct worker_state {
  static inline const char* name = "ballot.balance_worker";
  std::uint64_t next = 0;
  std::unordered_map<std::uint64_t,
                     std::pair<caf::typed_response_promise<std::string>, std::string>>
    pending;
};

caf::behavior worker(caf::stateful_actor<worker_state>* self, std::string name,
                     caf::timespan delay) {
  auto reply = [name](const std::string& job) {
    return name + " (pid " + std::to_string(getpid()) + ") did " + job;
  };
  return {
    [=](const std::string& job) -> caf::result<std::string> {
      if (delay.count() == 0)
        return reply(job);
      // Answer later without blocking a scheduler thread.
      auto id = self->state.next++;
      auto promise = self->make_response_promise<std::string>();
      self->state.pending.emplace(id, std::make_pair(promise, job));
      self->delayed_send(self, delay, finish_atom::value, id);
      return promise;
    },
    [=](finish_atom, std::uint64_t id) {
      auto it = self->state.pending.find(id);
      if (it == self->state.pending.end())
        return;
      it->second.first.deliver(reply(it->second.second));
      self->state.pending.erase(it);
    },
  };
}

caf::behavior directory(caf::event_based_actor*, std::vector<caf::actor> workers) {
  return {
    [=](caf::get_atom) { return workers; },
  };
}

[[noreturn]] void bad(const std::string& flag, const std::string& value, const char* why) {
  std::fprintf(stderr, "balance-worker: bad %s '%s': %s\n", flag.c_str(), value.c_str(), why);
  std::exit(2);
}

long number(const std::string& flag, const std::string& value, long min, long max) {
  char* end = nullptr;
  long n = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || n < min || n > max)
    bad(flag, value,
        ("expected a number from " + std::to_string(min) + " to " + std::to_string(max)).c_str());
  return n;
}

double seconds(const std::string& flag, const std::string& value, double min, double max) {
  char* end = nullptr;
  double x = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || !(x >= min && x <= max))
    bad(flag, value,
        ("expected seconds from " + std::to_string(min) + " to " + std::to_string(max)).c_str());
  return x;
}

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
  std::uint16_t port = 0;
  long workers = 4;
  std::string name;
  long delay_ms = 0;
  std::string register_endpoints;
  std::string prefix = "svc/echo/";
  double ttl_s = 5;
  long weight = 1;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help") {
      std::puts(
        "usage: balance-worker [--port P] [--workers N] [--name NAME] [--delay-ms D]\n"
        "                      [--register ENDPOINTS [--prefix P] [--ttl S] [--weight W]]");
      return 0;
    }
    if (i + 1 >= argc)
      bad(flag, "", "unknown flag or missing value");
    std::string value = argv[++i];
    if (flag == "--port")
      port = static_cast<std::uint16_t>(number(flag, value, 0, 65535));
    else if (flag == "--workers")
      workers = number(flag, value, 1, 1000);
    else if (flag == "--name")
      name = value;
    else if (flag == "--delay-ms")
      delay_ms = number(flag, value, 0, 60000);
    else if (flag == "--register")
      register_endpoints = value;
    else if (flag == "--prefix")
      prefix = value;
    else if (flag == "--ttl")
      ttl_s = seconds(flag, value, 0.1, 3600);
    else if (flag == "--weight")
      weight = number(flag, value, 1, ballot::discovery::max_weight);
    else
      bad(flag, value, "unknown flag");
  }
  if (!register_endpoints.empty() && split(register_endpoints).empty())
    bad("--register", register_endpoints, "expected host:port,...");
  if (name.empty())
    name = register_endpoints.empty() ? "remote" : "worker-" + std::to_string(getpid());

  // SIGINT/SIGTERM are taken by the main thread with sigwait; CAF's threads
  // inherit the blocked mask.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  ballot::balance::configure(cfg);
  caf::actor_system sys{cfg};

  std::vector<caf::actor> handles;
  for (long i = 0; i < workers; ++i)
    handles.push_back(sys.spawn(worker, name + "/" + std::to_string(i),
                                caf::timespan{std::chrono::milliseconds(delay_ms)}));
  auto dir = sys.spawn(directory, handles);
  auto published = sys.middleman().publish(dir, port, "127.0.0.1", true);
  if (!published) {
    std::fprintf(stderr, "balance-worker: cannot publish on 127.0.0.1:%u: %s\n", port,
                 sys.render(published.error()).c_str());
    return 3;
  }

  // Service discovery: each worker on a port of its own, under its own key.
  std::unique_ptr<ballot::client::client> cluster;
  std::vector<std::unique_ptr<ballot::discovery::registration>> registrations;
  if (!register_endpoints.empty()) {
    ballot::client::options co;
    co.endpoints = split(register_endpoints);
    try {
      cluster = std::make_unique<ballot::client::client>(co);
    } catch (const std::invalid_argument& e) {
      bad("--register", register_endpoints, e.what());
    }
    ballot::discovery::registration_options ro;
    ro.ttl = std::chrono::milliseconds(static_cast<long>(ttl_s * 1000));
    ro.log = [](const std::string& what) {
      std::fprintf(stderr, "balance-worker: %s\n", what.c_str());
    };
    for (long i = 0; i < workers; ++i) {
      auto& h = handles[static_cast<std::size_t>(i)];
      auto port = sys.middleman().publish(h, 0, "127.0.0.1", true);
      if (!port) {
        std::fprintf(stderr, "balance-worker: cannot publish worker %ld: %s\n", i,
                     sys.render(port.error()).c_str());
        return 3;
      }
      ballot::discovery::member_address addr;
      addr.host = "127.0.0.1";
      addr.port = *port;
      addr.weight = static_cast<std::uint32_t>(weight);
      registrations.push_back(std::make_unique<ballot::discovery::registration>(
        *cluster, prefix, name + "/" + std::to_string(i), addr, ro));
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (auto& r : registrations) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
      if (!r->wait_registered(std::max(left, std::chrono::milliseconds(0))))
        std::fprintf(stderr, "balance-worker: %s is not registered yet (still trying)\n",
                     r->key().c_str());
      else
        std::printf("balance-worker registered key=%s session=%llu\n", r->key().c_str(),
                    static_cast<unsigned long long>(r->session()));
    }
  }

  std::printf("balance-worker ready port=%u workers=%ld pid=%d\n", *published, workers,
              static_cast<int>(getpid()));
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  std::fprintf(stderr, "balance-worker: %s received, stopping\n",
               sig == SIGINT ? "SIGINT" : "SIGTERM");
  // Closing the sessions deletes the keys: balancers drop these workers now.
  registrations.clear();
  cluster.reset();
  for (auto& h : handles)
    caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(dir, caf::exit_reason::user_shutdown);
  return 0;
}
