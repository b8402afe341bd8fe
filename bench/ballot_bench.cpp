// ballot-bench: closed-loop load on a Ballot cluster through the C++ client
// (Cap'n Proto RPC), with progress every second and a summary (SURFACE.md).
//
//   ballot-bench --embedded --workload put --clients 64 --duration 10
//   ballot-bench --endpoints 127.0.0.1:7401,127.0.0.1:7402 --workload get --clients 16 --duration 5
//   --json
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "bench/balance_workload.hpp"
#include "bench/watch_load.hpp"
#include "runtime/ballotd/node.hpp"
#include "runtime/client/client.hpp"
#include "runtime/json/json_line.hpp"

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

const char* usage =
  "usage: ballot-bench [--endpoints H:P,...] [--embedded] --workload W --clients N\n"
  "                    --duration SECS [--value-size BYTES] [--keys K] [--warmup SECS] [--json]\n"
  "                    [--cacert FILE [--cert FILE --key FILE] [--tls-server-name NAME]]\n"
  "\n"
  "Closed-loop load: N clients, each with one request outstanding at a time, for\n"
  "SECS seconds after a warm-up. Progress goes to stderr every second; the summary\n"
  "(ops, ops/s, latency p50/p90/p99/max in microseconds, errors) to stdout, and with\n"
  "--json the last stdout line is one JSON object.\n"
  "\n"
  "  --endpoints LIST   cluster client endpoints (default 127.0.0.1:7400)\n"
  "  --embedded         start a three-replica cluster in this process (temporary dir)\n"
  "  --workload W       put: --value-size bytes to a random key of --keys;\n"
  "                     get: linearizable reads of random keys (written first);\n"
  "                     lock: each client acquires and releases its own lock name\n"
  "                       (an op is one acquire+release cycle);\n"
  "                     lock-contended: every client on one name (an op is one\n"
  "                       acquisition: acquire, then release);\n"
  "                     sessions: opens --sessions sessions (TTL --ttl) and keeps\n"
  "                       them all alive (an op is one keep-alive); reports how\n"
  "                       many expired although kept alive (should be 0);\n"
  "                     balance: requests through a balancer actor to 8 local\n"
  "                       worker actors (--policy; no cluster involved)\n"
  "  --clients N        concurrent clients (default 1)\n"
  "  --duration SECS    measured seconds (default 10)\n"
  "  --value-size BYTES value size for put (default 100)\n"
  "  --keys K           key space (default 1000)\n"
  "  --warmup SECS      unmeasured seconds first (default 1)\n"
  "  --connections C    client connections the N clients share (default N: one\n"
  "                     connection and I/O thread per client, like peerbench)\n"
  "  --sessions S       sessions for the sessions workload (default 100000)\n"
  "  --ttl SECS         their TTL (default 60; kept alive every TTL/3)\n"
  "  --policy P         balance: least-outstanding (default), power-of-two,\n"
  "                     round-robin, weighted-round-robin, random, ring-hash, maglev\n"
  "  --watchers W       with put: W watches (from now) of --watch-prefix open\n"
  "                     before the run, on connections of their own; reports the\n"
  "                     events they received (default 0)\n"
  "  --watch-prefix P   what they watch (default /bench/, the keys put writes;\n"
  "                     another prefix makes them idle watchers)\n"
  "  --watch-connections C  connections the watchers share (default 16)\n"
  "  --json             print the summary as one JSON object too\n"
  "  --cacert FILE      talk TLS to the nodes, trusting this CA (as ballotctl --cacert;\n"
  "                     not with --embedded, whose nodes serve plaintext)\n"
  "  --cert FILE, --key FILE  a client certificate (nodes with --client-cert-auth)\n"
  "  --tls-server-name NAME   the DNS name the nodes' certificates carry\n";

struct settings {
  std::vector<std::string> endpoints{"127.0.0.1:7400"};
  bool embedded = false;
  std::string workload;
  std::size_t clients = 1;
  double duration = 10;
  double warmup = 1;
  std::size_t value_size = 100;
  std::size_t keys = 1000;
  std::size_t connections = 0;  ///< 0: one per client
  std::size_t sessions = 100000;
  double ttl = 60;
  std::string policy = "least-outstanding";
  std::size_t watchers = 0;
  std::string watch_prefix = "/bench/";
  std::size_t watch_connections = 16;
  bool json = false;
  ballot::client::options::tls_options tls;
};

[[noreturn]] void bad(const std::string& flag, const std::string& value, const std::string& why) {
  std::fprintf(stderr, "ballot-bench: invalid value '%s' for %s: %s\n(run --help for usage)\n",
               value.c_str(), flag.c_str(), why.c_str());
  std::exit(2);
}

double positive(const std::string& flag, const std::string& text, bool allow_zero = false) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || v < 0 || (!allow_zero && v == 0) || v > 1e7)
    bad(flag, text, allow_zero ? "expected a number >= 0" : "expected a positive number");
  return v;
}

std::vector<std::string> endpoint_list(const std::string& flag, const std::string& list) {
  std::vector<std::string> out;
  for (std::size_t start = 0; start <= list.size();) {
    auto end = list.find(',', start);
    auto item = list.substr(start, end - start);
    if (item.find(':') == std::string::npos)
      bad(flag, list, "expected HOST:PORT[,HOST:PORT...]");
    out.push_back(item);
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  return out;
}

/// What the flags must agree on, before any load starts.
void check_settings(const settings& s) {
  if (s.workload.empty())
    bad("--workload", "", "a workload is required");
  if (s.watchers > 0 && s.workload != "put")
    bad("--watchers", std::to_string(s.watchers), "watchers go with --workload put");
  if (s.embedded && !s.tls.ca_file.empty())
    bad("--cacert", s.tls.ca_file, "the --embedded cluster serves plaintext");
  try {  // an unusable TLS file is a usage error, before any load starts
    ballot::client::options probe;
    probe.tls = s.tls;
    ballot::client::client check{probe};
  } catch (const std::invalid_argument& e) {
    bad("--cacert/--cert/--key", s.tls.ca_file, e.what());
  }
}

settings parse(int argc, char** argv) {
  settings s;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        bad(flag, "", "missing value");
      return argv[++i];
    };
    if (flag == "--help" || flag == "-h") {
      std::fputs(usage, stdout);
      std::exit(0);
    } else if (flag == "--endpoints") {
      s.endpoints = endpoint_list(flag, value());
    } else if (flag == "--embedded") {
      s.embedded = true;
    } else if (flag == "--workload") {
      s.workload = value();
      if (s.workload != "put" && s.workload != "get" && s.workload != "lock" &&
          s.workload != "lock-contended" && s.workload != "sessions" && s.workload != "balance")
        bad(flag, s.workload, "expected put, get, lock, lock-contended, sessions or balance");
    } else if (flag == "--clients") {
      s.clients = static_cast<std::size_t>(positive(flag, value()));
    } else if (flag == "--duration") {
      s.duration = positive(flag, value());
    } else if (flag == "--warmup") {
      s.warmup = positive(flag, value(), true);
    } else if (flag == "--value-size") {
      s.value_size = static_cast<std::size_t>(positive(flag, value(), true));
    } else if (flag == "--keys") {
      s.keys = static_cast<std::size_t>(positive(flag, value()));
    } else if (flag == "--connections") {
      s.connections = static_cast<std::size_t>(positive(flag, value()));
    } else if (flag == "--watchers") {
      s.watchers = static_cast<std::size_t>(positive(flag, value(), true));
    } else if (flag == "--watch-prefix") {
      s.watch_prefix = value();
    } else if (flag == "--watch-connections") {
      s.watch_connections = static_cast<std::size_t>(positive(flag, value()));
    } else if (flag == "--sessions") {
      s.sessions = static_cast<std::size_t>(positive(flag, value()));
    } else if (flag == "--ttl") {
      s.ttl = positive(flag, value());
      if (s.ttl < 1 || s.ttl > 3600)
        bad(flag, std::to_string(s.ttl), "expected 1..3600 seconds");
    } else if (flag == "--policy") {
      s.policy = value();
    } else if (flag == "--json") {
      s.json = true;
    } else if (flag == "--cacert") {
      s.tls.ca_file = value();
    } else if (flag == "--cert") {
      s.tls.cert_file = value();
    } else if (flag == "--key") {
      s.tls.key_file = value();
    } else if (flag == "--tls-server-name") {
      s.tls.server_name = value();
    } else {
      bad(flag, flag, "unknown flag");
    }
  }
  check_settings(s);
  return s;
}

std::string key_name(std::size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "/bench/k%06zu", i);
  return buf;
}

/// The closed-loop clients that share one client connection set (and its
/// I/O thread). Callbacks run on that thread only, so no locking inside.
struct client_group {
  std::unique_ptr<ballot::client::client> conn;
  std::vector<std::uint32_t> latencies_us;  ///< ops completed inside the window
  std::uint64_t errors = 0;
  std::mt19937_64 rng;
};

/// One logical client of the lock workloads, or one session of `sessions`.
struct session_loop {
  client_group* g = nullptr;
  ballot::lock::session_id session = 0;
  std::string name;
};

/// Resident memory of this process in MiB (the whole cluster with --embedded).
double rss_mib() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f)
    return 0;
  char line[256];
  double kib = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "VmRSS: %lf kB", &kib) == 1)
      break;
  std::fclose(f);
  return kib / 1024;
}

/// Prints the summary (and the JSON line) of SURFACE.md.
void report(const settings& s, std::vector<std::uint32_t>& all, std::uint64_t errors,
            double seconds) {
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) -> unsigned long long {
    if (all.empty())
      return 0;
    return all[std::min(all.size() - 1, static_cast<std::size_t>(p * all.size()))];
  };
  unsigned long long max = all.empty() ? 0 : all.back();
  double ops_per_s = static_cast<double>(all.size()) / seconds;
  std::printf(
    "workload %s, %zu clients, %.1f s: %zu ops, %.0f ops/s, latency p50 %llu us, p90 "
    "%llu us, p99 %llu us, max %llu us, %llu errors\n",
    s.workload.c_str(), s.clients, seconds, all.size(), ops_per_s, pct(0.50), pct(0.90), pct(0.99),
    max, static_cast<unsigned long long>(errors));
  if (s.json) {
    // The keys in SURFACE.md's order; the seconds to the millisecond and the
    // rate to a tenth, as the text line.
    ballot::json::value j;
    j["workload"] = s.workload;
    j["clients"] = s.clients;
    j["duration_s"] = std::round(seconds * 1000) / 1000;
    j["ops"] = all.size();
    j["ops_per_s"] = std::round(ops_per_s * 10) / 10;
    j["p50_us"] = pct(0.50);
    j["p90_us"] = pct(0.90);
    j["p99_us"] = pct(0.99);
    j["max_us"] = max;
    j["errors"] = errors;
    std::printf("%s\n", ballot::json::line(j).c_str());
  }
  std::fflush(stdout);
}

int run_balance(const settings& s) {
  ballot::bench::balance_workload_options o;
  o.clients = s.clients;
  o.duration = std::chrono::duration<double>(s.duration);
  o.warmup = std::chrono::duration<double>(s.warmup);
  o.policy = s.policy;
  o.keys = s.keys;
  std::vector<std::uint32_t> all;
  std::uint64_t errors = 0;
  auto r = ballot::bench::run_balance_workload(
    o,
    [&](std::uint32_t us, bool ok) {
      if (ok)
        all.push_back(us);
      else
        ++errors;
    },
    [](int second, std::uint64_t answered, bool warm) {
      std::fprintf(stderr, "ballot-bench: %3ds %s %8llu ops/s\n", second,
                   warm ? "warm-up " : "measured", static_cast<unsigned long long>(answered));
    });
  if (!r.error.empty()) {
    std::fprintf(stderr, "ballot-bench: invalid value '%s' for --policy: %s\n", s.policy.c_str(),
                 r.error.c_str());
    return 2;
  }
  std::fprintf(stderr, "ballot-bench: balance policy %s over %zu workers\n", r.policy.c_str(),
               o.workers);
  report(s, all, errors, r.seconds > 0 ? r.seconds : s.duration);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto s = parse(argc, argv);
  if (s.workload == "balance")
    return run_balance(s);
  std::unique_ptr<ballot::ballotd::node> embedded;
  std::filesystem::path tmp;
  if (s.embedded) {
    tmp = std::filesystem::temp_directory_path() / ("ballot-bench-" + std::to_string(::getpid()));
    ballot::ballotd::options o;
    o.data_dir = tmp.string();
    o.client = {"127.0.0.1", 0};
    embedded = std::make_unique<ballot::ballotd::node>(o);
    if (embedded->start() != 0)
      return 3;
    s.endpoints = {embedded->client_endpoint()};
    std::fprintf(stderr, "ballot-bench: embedded cluster at %s (data in %s)\n",
                 s.endpoints[0].c_str(), tmp.c_str());
  }

  // Like peerbench: clients are spread over the members starting with the
  // leader, so one client talks to the leader directly.
  for (std::size_t i = 0; i < s.endpoints.size(); ++i) {
    ballot::client::options o;
    o.endpoints = {s.endpoints[i]};
    o.timeout = 3s;
    o.tls = s.tls;
    auto st = ballot::client::client{o}.status();
    if (st.ok() && st.leader_id != 0 && st.node_id == st.leader_id) {
      std::rotate(s.endpoints.begin(), s.endpoints.begin() + static_cast<std::ptrdiff_t>(i),
                  s.endpoints.end());
      break;
    }
  }

  std::string value(s.value_size, 'v');
  // Each connection set has its own I/O thread; sharing them among clients
  // spares the client CPU on a small machine but hides per-connection costs.
  std::size_t groups = std::min(s.clients, s.connections == 0 ? s.clients : s.connections);
  std::vector<client_group> group(groups);
  for (std::size_t g = 0; g < groups; ++g) {
    ballot::client::options o;
    // Spread the groups over the members, like peerbench spreads its clients.
    o.endpoints = s.endpoints;
    std::rotate(o.endpoints.begin(),
                o.endpoints.begin() + static_cast<std::ptrdiff_t>(g % o.endpoints.size()),
                o.endpoints.end());
    o.timeout = 10s;
    o.max_writes_in_flight = 64;
    o.tls = s.tls;
    group[g].conn = std::make_unique<ballot::client::client>(o);
    group[g].rng.seed(g + 1);
  }

  if (s.workload == "get") {
    std::fprintf(stderr, "ballot-bench: writing %zu keys first\n", s.keys);
    for (std::size_t k = 0; k < s.keys; ++k) {
      auto r = group[0].conn->put(key_name(k), value);
      if (!r.ok()) {
        std::fprintf(stderr, "ballot-bench: cluster unavailable: %s\n", r.message.c_str());
        return 3;
      }
    }
  }

  std::unique_ptr<ballot::bench::watch_load> watchers;
  if (s.watchers > 0) {
    ballot::client::options o;
    o.endpoints = s.endpoints;
    o.timeout = 10s;
    o.tls = s.tls;
    watchers = std::make_unique<ballot::bench::watch_load>(o, s.watchers, s.watch_connections,
                                                           s.watch_prefix, 120s);
    std::fprintf(stderr, "ballot-bench: %zu of %zu watches of %s started\n", watchers->started(),
                 s.watchers, s.watch_prefix.c_str());
  }

  bool locks = s.workload == "lock" || s.workload == "lock-contended";
  bool sessions = s.workload == "sessions";
  // Long enough for the whole run: the lock workloads do not keep alive.
  auto lock_ttl =
    std::chrono::milliseconds(static_cast<std::int64_t>((s.warmup + s.duration + 60) * 1000));
  std::vector<session_loop> lockers;
  if (locks) {
    for (std::size_t c = 0; c < s.clients; ++c) {
      auto& g = group[c % groups];
      auto r = g.conn->open_session(lock_ttl);
      if (!r.ok()) {
        std::fprintf(stderr, "ballot-bench: cannot open a session: %s\n", r.message.c_str());
        return 3;
      }
      auto name = s.workload == "lock" ? "/bench/lock/" + std::to_string(c) : "/bench/contended";
      lockers.push_back({&g, r.session, name});
    }
  }

  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> completed{0};
  std::atomic<int> holders{0};
  std::atomic<std::uint64_t> overlaps{0};
  std::atomic<std::uint64_t> expired{0};
  std::atomic<std::uint64_t> opened{0};

  if (sessions) {
    // Open them all first (pipelined, up to 256 per connection in flight).
    lockers.resize(s.sessions);
    auto ttl = std::chrono::milliseconds(static_cast<std::int64_t>(s.ttl * 1000));
    std::atomic<std::uint64_t> failed_opens{0};
    std::function<void(std::size_t)> open_next;
    std::atomic<std::size_t> next_index{0};
    open_next = [&](std::size_t gi) {
      auto i = next_index.fetch_add(1);
      if (i >= s.sessions)
        return;
      auto& g = group[gi];
      lockers[i].g = &g;
      g.conn->async_open_session(ttl, [&, i, gi](ballot::lock::result r) {
        if (stop)
          return;
        if (r.ok()) {
          lockers[i].session = r.session;
          opened.fetch_add(1);
        } else {
          failed_opens.fetch_add(1);
        }
        open_next(gi);
      });
    };
    auto open_start = clock_type::now();
    for (std::size_t gi = 0; gi < groups; ++gi)
      for (int k = 0; k < 256; ++k)
        open_next(gi);
    while (opened + failed_opens < s.sessions) {
      std::this_thread::sleep_for(1s);
      std::fprintf(stderr, "ballot-bench: %llu of %zu sessions open\n",
                   static_cast<unsigned long long>(opened.load()), s.sessions);
    }
    auto took = std::chrono::duration<double>(clock_type::now() - open_start).count();
    std::fprintf(stderr, "ballot-bench: opened %llu sessions in %.1f s (%.0f/s), %llu failed\n",
                 static_cast<unsigned long long>(opened.load()), took,
                 static_cast<double>(opened.load()) / took,
                 static_cast<unsigned long long>(failed_opens.load()));
    if (s.duration < s.ttl)
      std::fprintf(stderr,
                   "ballot-bench: note: --duration %.0f s is shorter than the TTL (%.0f s); "
                   "expiries show only after a whole TTL\n",
                   s.duration, s.ttl);
  }

  auto start = clock_type::now();
  auto window_open = start + std::chrono::duration_cast<clock_type::duration>(
                               std::chrono::duration<double>(s.warmup));
  auto window_close = window_open + std::chrono::duration_cast<clock_type::duration>(
                                      std::chrono::duration<double>(s.duration));
  auto record = [&](client_group& g, clock_type::time_point began, bool ok) {
    auto ended = clock_type::now();
    if (ended >= window_open && ended < window_close) {
      if (ok)
        g.latencies_us.push_back(static_cast<std::uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(ended - began).count()));
      else
        ++g.errors;
      completed.fetch_add(1, std::memory_order_relaxed);
    }
  };

  // One closed loop per logical client: each completion starts the next op.
  std::function<void(client_group&)> next;
  next = [&](client_group& g) {
    if (stop)
      return;
    auto key = key_name(g.rng() % s.keys);
    auto began = clock_type::now();
    auto done = [&, began](ballot::kv::result r) {
      if (stop)
        return;
      record(g, began, r.ok());
      next(g);
    };
    if (s.workload == "put")
      g.conn->async_put(key, value, std::nullopt, done);
    else
      g.conn->async_get(key, done);
  };
  // The lock workloads: acquire (waiting), release, and that is one op.
  std::function<void(session_loop&)> cycle;
  cycle = [&](session_loop& l) {
    if (stop)
      return;
    auto began = clock_type::now();
    l.g->conn->async_acquire(l.session, l.name, ballot::lock::lock_mode::exclusive, 10s,
                             [&, began](ballot::lock::result got) {
                               if (stop)
                                 return;  // the client may be closing: touch nothing
                               if (!got.ok()) {
                                 record(*l.g, began, false);
                                 cycle(l);
                                 return;
                               }
                               // A cheap mutual-exclusion check, as peerbench's: all holders are
                               // here.
                               if (s.workload == "lock-contended" && holders.fetch_add(1) != 0)
                                 overlaps.fetch_add(1);
                               if (s.workload == "lock-contended")
                                 holders.fetch_sub(1);
                               l.g->conn->async_release(l.session, l.name,
                                                        [&, began](ballot::lock::result rel) {
                                                          if (stop)
                                                            return;
                                                          record(*l.g, began, rel.ok());
                                                          cycle(l);
                                                        });
                             });
  };
  // The sessions workload: every session keeps itself alive every TTL/3.
  std::function<void(session_loop&)> beat;
  beat = [&](session_loop& l) {
    if (stop)
      return;
    auto began = clock_type::now();
    l.g->conn->async_keep_alive(l.session, [&, began](ballot::lock::result r) {
      if (r.code == ballot::lock::result_code::no_session) {
        expired.fetch_add(1);
        record(*l.g, began, false);
        return;  // gone: nothing to keep alive
      }
      record(*l.g, began, r.ok());
      if (stop)
        return;  // the client may be closing: touch nothing
      l.g->conn->schedule(std::chrono::milliseconds(static_cast<std::int64_t>(s.ttl * 1000 / 3)),
                          [&] { beat(l); });
    });
  };

  if (locks) {
    for (auto& l : lockers)
      cycle(l);
  } else if (sessions) {
    // Spread the first keep-alives over one interval, as real clients are.
    auto interval = s.ttl * 1000 / 3;
    for (std::size_t i = 0; i < lockers.size(); ++i) {
      auto& l = lockers[i];
      if (l.session == 0)
        continue;
      auto delay = static_cast<std::int64_t>(interval * static_cast<double>(i) /
                                             static_cast<double>(lockers.size()));
      l.g->conn->schedule(std::chrono::milliseconds(delay), [&] { beat(l); });
    }
  } else {
    for (std::size_t c = 0; c < s.clients; ++c)
      next(group[c % groups]);
  }

  std::uint64_t last = 0;
  for (int second = 1; clock_type::now() < window_close; ++second) {
    std::this_thread::sleep_until(start + std::chrono::seconds(second));
    auto now_done = completed.load();
    bool warm = second <= s.warmup;
    std::fprintf(stderr, "ballot-bench: %3ds %s %8llu ops/s\n", second,
                 warm ? "warm-up " : "measured", static_cast<unsigned long long>(now_done - last));
    last = now_done;
  }
  stop = true;
  // Let the last ops finish before reading the groups' data.
  std::this_thread::sleep_for(200ms);
  double rss = rss_mib();
  // Close what this run opened: a later run must not queue behind sessions
  // that would hold their locks until they expire.
  if (locks) {
    std::atomic<std::size_t> closing{lockers.size()};
    for (auto& l : lockers)
      l.g->conn->async_close_session(l.session, [&](ballot::lock::result) { --closing; });
    for (int i = 0; i < 500 && closing > 0; ++i)
      std::this_thread::sleep_for(10ms);
  }
  std::vector<std::uint32_t> all;
  std::uint64_t errors = 0;
  for (auto& g : group) {
    g.conn.reset();  // joins the I/O thread
    all.insert(all.end(), g.latencies_us.begin(), g.latencies_us.end());
    errors += g.errors;
  }
  std::uint64_t acked = all.size();
  report(s, all, errors, s.duration);
  if (watchers) {
    // Give the last events a moment to arrive before counting.
    std::this_thread::sleep_for(1s);
    std::fprintf(
      stderr,
      "ballot-bench: %zu watches of %s: %llu events received (fewest by one watch "
      "%llu; %llu puts acknowledged in the window), %llu watches ended early\n",
      s.watchers, s.watch_prefix.c_str(), static_cast<unsigned long long>(watchers->events()),
      static_cast<unsigned long long>(watchers->min_events()),
      static_cast<unsigned long long>(acked), static_cast<unsigned long long>(watchers->ended()));
    watchers.reset();
  }
  if (s.workload == "lock-contended")
    std::fprintf(stderr, "ballot-bench: mutual-exclusion violations seen: %llu\n",
                 static_cast<unsigned long long>(overlaps.load()));
  if (sessions)
    std::fprintf(stderr,
                 "ballot-bench: %llu sessions open, %llu expired although kept alive; "
                 "resident memory %.0f MiB%s\n",
                 static_cast<unsigned long long>(opened.load()),
                 static_cast<unsigned long long>(expired.load()), rss,
                 embedded ? " (this process, with the embedded cluster)" : " (this client)");
  if (embedded) {
    embedded->stop();
    std::error_code ec;
    std::filesystem::remove_all(tmp, ec);
  }
  return 0;
}
