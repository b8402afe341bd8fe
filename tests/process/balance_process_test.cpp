// A balancer in this process over two local workers and four workers in a
// `balance-worker` process on 127.0.0.1, under load from closed-loop clients.
// The worker process is killed with SIGKILL (or frozen with SIGSTOP) mid-load:
// every request must still get a reply or a clear balance error within its
// timeout, none may hang, and the traffic must move to the live workers.

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

#include "caf/all.hpp"
#include "caf/io/all.hpp"

#include "actors/balance/balancer_actor.hpp"
#include "actors/balance/type_ids.hpp"
#include "tests/support/process.hpp"

namespace {

using namespace ballot::balance;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

using go_atom = caf::atom_constant<caf::atom("go")>;
using finish_atom = caf::atom_constant<caf::atom("finish")>;

constexpr auto request_timeout = 1500ms;
constexpr auto attempt_timeout = 500ms;

/// A local worker like balance-worker's: answers "<name> did <job>" after `delay`.
struct local_worker_state {
  static inline const char* name = "test.local_worker";
  std::uint64_t next = 0;
  std::unordered_map<std::uint64_t,
                     std::pair<caf::typed_response_promise<std::string>, std::string>>
    pending;
};

caf::behavior local_worker(caf::stateful_actor<local_worker_state>* self, std::string name,
                           caf::timespan delay) {
  return {
    [=](const std::string& job) -> caf::result<std::string> {
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
      it->second.first.deliver(name + " did " + it->second.second);
      self->state.pending.erase(it);
    },
  };
}

struct record {
  clock_type::time_point began, ended;
  bool idempotent = false;
  std::optional<std::string> reply;
  std::optional<failure> balance_error;
  std::string other_error;  // an error that is not the balancer's (must not happen)
};

struct load {
  std::mutex mu;
  std::vector<record> records;
  std::atomic<bool> stop{false};
  std::atomic<int> in_flight{0};
  std::atomic<int> clients{0};
};

/// One closed-loop client: the next request leaves when the last is answered.
caf::behavior client(caf::event_based_actor* self, caf::actor balancer, std::shared_ptr<load> ld,
                     int id, bool idempotent) {
  ++ld->clients;
  self->attach_functor([ld] { --ld->clients; });
  self->send(self, go_atom::value);
  auto seq = std::make_shared<int>(0);
  return {
    [=](go_atom) {
      if (ld->stop) {
        self->quit();
        return;
      }
      auto began = clock_type::now();
      ++ld->in_flight;
      auto key = "client" + std::to_string(id) + "-" + std::to_string((*seq)++);
      auto done = [=](record r) {
        r.began = began;
        r.ended = clock_type::now();
        r.idempotent = idempotent;
        {
          std::lock_guard<std::mutex> guard{ld->mu};
          ld->records.push_back(std::move(r));
        }
        --ld->in_flight;
        self->send(self, go_atom::value);
      };
      // The client's own timeout is far beyond the balancer's: if it ever
      // fires, the balancer let a request hang.
      self->request(balancer, std::chrono::seconds(30), make_balance_request(key, idempotent, key))
        .then(
          [=](std::string& reply) {
            record r;
            r.reply = std::move(reply);
            done(std::move(r));
          },
          [=](caf::error& err) {
            record r;
            if (auto f = to_failure(err))
              r.balance_error = *f;
            else
              r.other_error = self->system().render(err);
            done(std::move(r));
          });
    },
  };
}

class BalanceProcessTest : public ::testing::Test {
 protected:
  static caf::actor_system_config& configure_system(caf::actor_system_config& cfg) {
    cfg.load<caf::io::middleman>();
    cfg.set("logger.file-verbosity", caf::atom("quiet"));
    configure(cfg);
    return cfg;
  }

  BalanceProcessTest() : sys(configure_system(cfg)) {}

  ~BalanceProcessTest() override {
    ld->stop = true;
    if (balancer)
      caf::anon_send_exit(balancer, caf::exit_reason::user_shutdown);
    for (auto& w : local)
      caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
    worker_process.reset();
  }

  /// Starts balance-worker and returns its workers (CAF proxies).
  std::vector<caf::actor> start_worker_process() {
    worker_process = std::make_unique<ballot::testing::process>(std::vector<std::string>{
      BALANCE_WORKER_BIN, "--workers", "4", "--delay-ms", "20", "--name", "remote"});
    if (!worker_process->wait_for_output("balance-worker ready", 10s)) {
      ADD_FAILURE() << "balance-worker did not start:\n" << worker_process->err();
      return {};
    }
    auto& out = worker_process->out();
    auto at = out.find("port=");
    auto port = static_cast<std::uint16_t>(std::stoi(out.substr(at + 5)));
    auto dir = sys.middleman().remote_actor("127.0.0.1", port);
    if (!dir) {
      ADD_FAILURE() << "cannot connect to balance-worker: " << sys.render(dir.error());
      return {};
    }
    std::vector<caf::actor> remote;
    caf::scoped_actor self{sys};
    self->request(*dir, 5s, caf::get_atom::value)
      .receive([&](std::vector<caf::actor>& xs) { remote = std::move(xs); },
               [&](caf::error& err) { ADD_FAILURE() << "directory: " << sys.render(err); });
    return remote;
  }

  void start_balancer(const std::vector<caf::actor>& remote) {
    balancer_config bc;
    bc.policy = policy_kind::least_outstanding;
    bc.limits.max_outstanding_per_backend = 16;
    bc.limits.max_queue = 64;
    bc.limits.request_timeout = request_timeout;
    bc.limits.attempt_timeout = attempt_timeout;
    bc.limits.max_attempts = 3;
    bc.limits.consecutive_failures = 3;
    bc.limits.base_ejection = 5000ms;
    bc.limits.slow_start_window = 0ms;
    for (int i = 0; i < 2; ++i) {
      auto name = "local/" + std::to_string(i);
      local.push_back(sys.spawn(local_worker, name, caf::timespan{5ms}));
      bc.workers.push_back({name, local.back(), 1, std::nullopt});
    }
    for (std::size_t i = 0; i < remote.size(); ++i)
      bc.workers.push_back({"remote/" + std::to_string(i), remote[i], 1, std::nullopt});
    balancer = spawn_balancer(sys, bc);
  }

  void start_clients(int n) {
    for (int i = 0; i < n; ++i)
      sys.spawn(client, balancer, ld, i, i % 2 == 0);
  }

  /// Stops the clients and waits for every open request; false if one hangs.
  bool stop_and_drain(std::chrono::milliseconds limit) {
    ld->stop = true;
    auto deadline = clock_type::now() + limit;
    while (clock_type::now() < deadline) {
      if (ld->in_flight == 0 && ld->clients == 0)
        return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  core_stats stats() {
    core_stats out;
    caf::scoped_actor self{sys};
    self->request(balancer, 5s, balance_stats_atom::value)
      .receive([&](core_stats& s) { out = std::move(s); },
               [&](caf::error& err) { ADD_FAILURE() << "stats: " << sys.render(err); });
    return out;
  }

  /// Every request answered within its timeout, with a reply or a clear error.
  void check_every_request(std::chrono::milliseconds slack) {
    std::lock_guard<std::mutex> guard{ld->mu};
    ASSERT_FALSE(ld->records.empty());
    for (auto& r : ld->records) {
      EXPECT_LE(r.ended - r.began, request_timeout + slack)
        << "answered after "
        << std::chrono::duration_cast<std::chrono::milliseconds>(r.ended - r.began).count()
        << " ms";
      EXPECT_TRUE(r.other_error.empty()) << "not a balancer error: " << r.other_error;
      if (r.balance_error) {
        EXPECT_FALSE(r.balance_error->message.empty());
      }
      EXPECT_TRUE(r.reply || r.balance_error);
    }
  }

  std::map<std::string, int> outcomes(clock_type::time_point from, clock_type::time_point to) {
    std::map<std::string, int> out;
    std::lock_guard<std::mutex> guard{ld->mu};
    for (auto& r : ld->records) {
      if (r.ended < from || r.ended >= to)
        continue;
      if (r.reply)
        out[r.reply->substr(0, r.reply->find('/'))]++;
      else if (r.balance_error)
        out[to_string(r.balance_error->code)]++;
      else
        out["other"]++;
    }
    return out;
  }

  static void print(const char* what, const std::map<std::string, int>& m) {
    std::string line;
    for (auto& [k, v] : m)
      line += " " + k + "=" + std::to_string(v);
    std::printf("%s:%s\n", what, line.c_str());
  }

  caf::actor_system_config cfg;
  caf::actor_system sys;
  std::unique_ptr<ballot::testing::process> worker_process;
  std::vector<caf::actor> local;
  caf::actor balancer;
  std::shared_ptr<load> ld = std::make_shared<load>();
};

TEST_F(BalanceProcessTest, KillingTheWorkerProcessMidLoadLeavesNoRequestHanging) {
  auto remote = start_worker_process();
  ASSERT_EQ(remote.size(), 4u);
  start_balancer(remote);
  start_clients(8);
  std::this_thread::sleep_for(800ms);
  auto killed_at = clock_type::now();
  worker_process->kill(SIGKILL);
  ASSERT_TRUE(worker_process->wait_exit(5s));
  std::this_thread::sleep_for(1500ms);
  ASSERT_TRUE(stop_and_drain(request_timeout + 1500ms)) << ld->in_flight << " requests hang";

  check_every_request(300ms);
  auto before = outcomes(clock_type::time_point::min(), killed_at);
  auto around = outcomes(killed_at, killed_at + 200ms);
  auto after = outcomes(killed_at + 200ms, clock_type::time_point::max());
  print("before the kill", before);
  print("first 200 ms after", around);
  print("after", after);
  EXPECT_GT(before["remote"], 0) << "the remote workers never served";
  EXPECT_GT(before["local"], 0);
  // Once the middleman reported the process gone, only local workers serve,
  // and they serve everything.
  EXPECT_EQ(after["remote"], 0);
  EXPECT_GT(after["local"], 0);
  EXPECT_EQ(after["local"], [&] {
    int n = 0;
    for (auto& [k, v] : after)
      n += v;
    return n;
  }());
  auto s = stats();
  int down = 0;
  for (auto& b : s.backends)
    down += b.name.rfind("remote/", 0) == 0 && !b.up ? 1 : 0;
  EXPECT_EQ(down, 4);
  EXPECT_EQ(s.in_flight, 0u);
  EXPECT_EQ(s.queued, 0u);
}

TEST_F(BalanceProcessTest, FreezingTheWorkerProcessTimesOutRetriesAndEjects) {
  auto remote = start_worker_process();
  ASSERT_EQ(remote.size(), 4u);
  start_balancer(remote);
  start_clients(8);
  std::this_thread::sleep_for(500ms);
  auto frozen_at = clock_type::now();
  worker_process->kill(SIGSTOP);  // no down message: only timeouts tell
  std::this_thread::sleep_for(2000ms);
  ASSERT_TRUE(stop_and_drain(request_timeout + 1500ms)) << ld->in_flight << " requests hang";
  worker_process->kill(SIGCONT);

  check_every_request(300ms);
  auto after = outcomes(frozen_at, clock_type::time_point::max());
  print("after the freeze", after);
  EXPECT_GT(after["local"], 0);
  EXPECT_GT(after["timeout"], 0) << "requests on the frozen workers must time out";
  // Outlier ejection: at most half of the six workers, all of them frozen ones.
  auto s = stats();
  int ejected = 0;
  for (auto& b : s.backends) {
    if (b.ejected) {
      ++ejected;
      EXPECT_EQ(b.name.rfind("remote/", 0), 0u) << b.name << " ejected";
    }
  }
  EXPECT_GE(ejected, 1);
  EXPECT_LE(ejected, 3);
}

}  // namespace
