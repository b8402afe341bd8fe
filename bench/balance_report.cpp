// balance-report: the policy-quality report of issue 5, rerunnable by anyone.
//
// For each load-balancing policy it prints
//   - load balance: max / mean requests per backend over 1M requests, with
//     uniformly drawn keys and with hot (Zipf) keys, while requests really are
//     outstanding (a simulation at 70 % utilisation, see below);
//   - keys moved when one backend of ten leaves or one joins, against the
//     ideal 1/N (only for the key-affine, hashing policies);
//   - p50 / p99 latency when one backend of eight is ten times slower;
//   - the cost of one pick in nanoseconds (Google Benchmark), 8 and 64
//     backends.
//
// The simulation is a discrete-event one in virtual time, so its figures do
// not depend on the machine: Poisson arrivals, each backend one FIFO server
// with exponential service times (mean 1 ms; the slow one 10 ms), arrival rate
// 70 % of the backends' total capacity. A request is outstanding from its
// pick until it completes, and the policy sees exactly that through its
// load_view. Only the nanoseconds per pick depend on the machine.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "actors/balance/policies/policy.hpp"

namespace {

using namespace ballot::balance;

// ---------------------------------------------------------------- options

struct options {
  bool json = false;
  bool bench = true;
  std::uint64_t requests = 1'000'000;     ///< per policy, load-balance scenarios
  std::uint64_t slow_requests = 200'000;  ///< per policy, slow-backend scenario
  std::uint64_t seed = 1;
};

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: balance-report [--json] [--no-bench] [--requests N] [--seed N]\n"
               "                      [--benchmark_... flags of Google Benchmark]\n"
               "\n"
               "Prints, for each load-balancing policy: load balance (max/mean requests per\n"
               "backend) with uniform and with Zipf(1.1) keys, keys moved when one backend of\n"
               "10 leaves or joins (ideal 1/N), p50/p99 latency with one backend of 8 ten\n"
               "times slower, and nanoseconds per pick with 8 and 64 backends.\n"
               "\n"
               "  --json        one JSON object per policy per line instead of a table\n"
               "  --no-bench    skip the Google Benchmark timing of pick (ns columns empty)\n"
               "  --requests N  requests per policy in the load-balance runs (default 1000000;\n"
               "                the slow-backend run uses a fifth of it)\n"
               "  --seed N      seed of the simulation and of the policies (default 1)\n"
               "  --help        this text\n");
}

/// Parses our flags; Google Benchmark's (--benchmark_*) are left in argv.
std::optional<options> parse(int& argc, char** argv) {
  options opts;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto number = [&](std::uint64_t& into) {
      if (i + 1 >= argc)
        return false;
      char* end = nullptr;
      into = std::strtoull(argv[++i], &end, 10);
      return end != nullptr && *end == '\0' && into > 0;
    };
    if (arg == "--help" || arg == "-h") {
      usage(stdout);
      std::exit(0);
    } else if (arg == "--json") {
      opts.json = true;
    } else if (arg == "--no-bench") {
      opts.bench = false;
    } else if (arg == "--requests") {
      if (!number(opts.requests))
        return std::nullopt;
      opts.slow_requests = std::max<std::uint64_t>(1, opts.requests / 5);
    } else if (arg == "--seed") {
      if (!number(opts.seed))
        return std::nullopt;
    } else if (arg.rfind("--benchmark_", 0) == 0) {
      argv[out++] = argv[i];
    } else {
      std::fprintf(stderr, "balance-report: unknown argument '%s'\n", arg.c_str());
      return std::nullopt;
    }
  }
  argc = out;
  return opts;
}

// ---------------------------------------------------------------- helpers

/// splitmix64; the report's own generator, apart from the policies'.
class rng {
 public:
  explicit rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double exponential(double mean) { return -mean * std::log1p(-unit()); }

 private:
  std::uint64_t state_;
};

/// Backends 1..n: the load_view reads outstanding counts by id directly.
class counted_load final : public load_view {
 public:
  explicit counted_load(std::size_t n) : outstanding_(n + 1) {}
  std::uint32_t outstanding(backend_id id) const override { return outstanding_[id]; }
  bool available(backend_id) const override { return true; }
  std::uint32_t& operator[](backend_id id) { return outstanding_[id]; }

 private:
  std::vector<std::uint32_t> outstanding_;
};

std::vector<backend> equal_backends(std::size_t n) {
  std::vector<backend> out;
  for (std::size_t i = 1; i <= n; ++i)
    out.push_back(backend{i, 1});
  return out;
}

/// Request keys: 100,000 distinct keys, drawn uniformly or by Zipf(s).
class key_source {
 public:
  key_source(std::size_t distinct, double zipf_s) {
    for (std::size_t i = 0; i < distinct; ++i)
      keys_.push_back(hash_key("user:" + std::to_string(i)));
    if (zipf_s > 0) {
      double sum = 0;
      for (std::size_t rank = 1; rank <= distinct; ++rank)
        cdf_.push_back(sum += 1.0 / std::pow(static_cast<double>(rank), zipf_s));
      for (auto& c : cdf_)
        c /= sum;
    }
  }
  std::uint64_t draw(rng& r) const {
    if (cdf_.empty())
      return keys_[r.next() % keys_.size()];
    auto it = std::lower_bound(cdf_.begin(), cdf_.end(), r.unit());
    auto rank =
      std::min<std::size_t>(static_cast<std::size_t>(it - cdf_.begin()), keys_.size() - 1);
    return keys_[rank];
  }
  const std::vector<std::uint64_t>& keys() const { return keys_; }

 private:
  std::vector<std::uint64_t> keys_;
  std::vector<double> cdf_;
};

bool key_affine(policy_kind kind) {
  return kind == policy_kind::ring_hash || kind == policy_kind::maglev;
}

policy_options policy_opts(std::uint64_t seed) {
  policy_options o;
  o.seed = seed;
  return o;
}

// ---------------------------------------------------------------- simulation

struct sim_config {
  std::vector<double> service_ms;  ///< mean service time per backend (index 0 = id 1)
  double utilisation = 0.7;
  std::uint64_t requests = 0;
  const key_source* keys = nullptr;
  std::uint64_t seed = 1;
};

struct sim_result {
  std::vector<std::uint64_t> sent;  ///< requests per backend (index 0 = id 1)
  double p50_ms = 0;
  double p99_ms = 0;
  /// Requests waiting at the slowest-draining backend when arrivals stop. In a
  /// stable system a handful; when a backend is sent more than it can serve,
  /// it grows with the length of the run.
  std::size_t backlog = 0;
  bool stable = true;
};

double percentile(std::vector<double>& values, double q) {
  auto k = static_cast<std::size_t>(q * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + static_cast<long>(k), values.end());
  return values[k];
}

/// Runs `cfg.requests` arrivals through `p`, then drains every queue.
sim_result simulate(policy& p, const sim_config& cfg) {
  auto n = cfg.service_ms.size();
  p.update(equal_backends(n));
  double capacity = 0;  // requests per ms all backends together can serve
  for (double s : cfg.service_ms)
    capacity += 1.0 / s;
  const double mean_gap = 1.0 / (cfg.utilisation * capacity);
  constexpr double never = std::numeric_limits<double>::infinity();

  rng r{cfg.seed};
  counted_load load{n};
  std::vector<std::deque<double>> queue(n);  // arrival times; front in service
  std::vector<double> done(n, never);        // completion of the one in service
  sim_result out;
  out.sent.assign(n, 0);
  std::vector<double> latency;
  latency.reserve(cfg.requests);

  double next_arrival = r.exponential(mean_gap);
  std::uint64_t arrived = 0;
  while (true) {
    auto first_done = std::min_element(done.begin(), done.end());
    if (arrived < cfg.requests && next_arrival <= *first_done) {
      double now = next_arrival;
      auto picked = p.pick(cfg.keys->draw(r), load);
      if (!picked)
        std::abort();  // every backend is available
      auto b = static_cast<std::size_t>(*picked - 1);
      ++out.sent[b];
      ++load[*picked];
      queue[b].push_back(now);
      if (queue[b].size() == 1)
        done[b] = now + r.exponential(cfg.service_ms[b]);
      if (++arrived == cfg.requests)
        for (const auto& q : queue)
          out.backlog = std::max(out.backlog, q.size());
      next_arrival = now + r.exponential(mean_gap);
    } else if (*first_done != never) {
      auto b = static_cast<std::size_t>(first_done - done.begin());
      double now = done[b];
      latency.push_back(now - queue[b].front());
      queue[b].pop_front();
      --load[b + 1];
      done[b] = queue[b].empty() ? never : now + r.exponential(cfg.service_ms[b]);
    } else {
      break;
    }
  }
  // A backlog of 1 % of all requests is far beyond what a stable queue at
  // these loads holds (tens), and far below what a growing one reaches.
  out.stable = out.backlog < std::max<std::uint64_t>(100, cfg.requests / 100);
  out.p50_ms = percentile(latency, 0.50);
  out.p99_ms = percentile(latency, 0.99);
  return out;
}

double max_over_mean(const std::vector<std::uint64_t>& sent) {
  double total = 0;
  std::uint64_t most = 0;
  for (auto s : sent) {
    total += static_cast<double>(s);
    most = std::max(most, s);
  }
  return static_cast<double>(most) / (total / static_cast<double>(sent.size()));
}

// ---------------------------------------------------------------- keys moved

struct moved {
  double remove_mean = 0;  ///< over removing each of the N backends in turn
  double remove_max = 0;
  double add_mean = 0;  ///< over adding each of N different new backends
  double add_max = 0;
};

std::vector<backend_id> route(policy_kind kind, const std::vector<backend>& set,
                              const std::vector<std::uint64_t>& keys) {
  auto p = make_policy(kind);
  p->update(set);
  struct all_idle final : load_view {
    std::uint32_t outstanding(backend_id) const override { return 0; }
    bool available(backend_id) const override { return true; }
  } none;
  std::vector<backend_id> out;
  out.reserve(keys.size());
  for (auto k : keys)
    out.push_back(*p->pick(k, none));
  return out;
}

double fraction_changed(const std::vector<backend_id>& a, const std::vector<backend_id>& b) {
  std::size_t changed = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    changed += a[i] != b[i];
  return static_cast<double>(changed) / static_cast<double>(a.size());
}

moved keys_moved(policy_kind kind, std::size_t n, const std::vector<std::uint64_t>& keys) {
  auto set = equal_backends(n);
  auto before = route(kind, set, keys);
  moved m;
  for (std::size_t gone = 0; gone < n; ++gone) {
    auto rest = set;
    rest.erase(rest.begin() + static_cast<long>(gone));
    double f = fraction_changed(before, route(kind, rest, keys));
    m.remove_mean += f / static_cast<double>(n);
    m.remove_max = std::max(m.remove_max, f);
  }
  for (std::size_t extra = 0; extra < n; ++extra) {
    auto more = set;
    more.push_back(backend{1000 + extra, 1});
    double f = fraction_changed(before, route(kind, more, keys));
    m.add_mean += f / static_cast<double>(n);
    m.add_max = std::max(m.add_max, f);
  }
  return m;
}

// ---------------------------------------------------------------- pick cost

/// Registers one benchmark per policy and backend count: picks with random
/// keys against fixed, uneven outstanding counts.
void register_pick_benchmarks() {
  for (auto kind : all_policy_kinds()) {
    for (std::size_t n : {8, 64}) {
      auto name = std::string("pick/") + to_string(kind) + "/" + std::to_string(n);
      benchmark::RegisterBenchmark(name.c_str(), [kind, n](benchmark::State& state) {
        auto p = make_policy(kind);
        p->update(equal_backends(n));
        counted_load load{n};
        rng r{7};
        for (backend_id id = 1; id <= n; ++id)
          load[id] = static_cast<std::uint32_t>(r.next() % 8);
        std::vector<std::uint64_t> keys(4096);
        for (auto& k : keys)
          k = r.next();
        std::size_t i = 0;
        for (auto _ : state)
          benchmark::DoNotOptimize(p->pick(keys[i++ & 4095], load));
      })->Unit(benchmark::kNanosecond);
    }
  }
}

/// Keeps the results instead of printing them; the report prints one table.
class collector final : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& run : runs)
      if (!run.error_occurred && run.run_type == Run::RT_Iteration)
        results.emplace_back(run.benchmark_name(), run.GetAdjustedRealTime());
  }
  std::vector<std::pair<std::string, double>> results;
};

std::optional<double> ns_per_pick(const collector& c, policy_kind kind, std::size_t n) {
  auto name = std::string("pick/") + to_string(kind) + "/" + std::to_string(n);
  for (const auto& [bench, ns] : c.results)
    if (bench == name)
      return ns;
  return std::nullopt;
}

// ---------------------------------------------------------------- output

struct row {
  policy_kind kind;
  double balance_uniform = 0;
  double balance_zipf = 0;
  std::optional<moved> keys;
  sim_result slow;
  double slow_share = 0;  ///< of all requests, sent to the slow backend
  std::optional<double> ns8;
  std::optional<double> ns64;
};

std::string fixed(const std::optional<double>& v, int decimals) {
  if (!v)
    return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, *v);
  return buf;
}

std::string json_number(const std::optional<double>& v, int decimals) {
  return v ? fixed(v, decimals) : "null";
}

void print_json(const std::vector<row>& rows, std::size_t moved_n) {
  for (const auto& r : rows) {
    std::printf(
      "{\"policy\":\"%s\",\"max_over_mean_uniform\":%.4f,\"max_over_mean_zipf\":%.4f,"
      "\"moved_on_remove\":%s,\"moved_on_remove_max\":%s,\"ideal_remove\":%.4f,"
      "\"moved_on_add\":%s,\"moved_on_add_max\":%s,\"ideal_add\":%.4f,"
      "\"slow_p50_ms\":%.3f,\"slow_p99_ms\":%.3f,\"slow_share\":%.4f,\"slow_backlog\":%zu,"
      "\"slow_stable\":%s,"
      "\"ns_per_pick_8\":%s,\"ns_per_pick_64\":%s}\n",
      to_string(r.kind), r.balance_uniform, r.balance_zipf,
      json_number(r.keys ? std::optional<double>(r.keys->remove_mean) : std::nullopt, 4).c_str(),
      json_number(r.keys ? std::optional<double>(r.keys->remove_max) : std::nullopt, 4).c_str(),
      1.0 / static_cast<double>(moved_n),
      json_number(r.keys ? std::optional<double>(r.keys->add_mean) : std::nullopt, 4).c_str(),
      json_number(r.keys ? std::optional<double>(r.keys->add_max) : std::nullopt, 4).c_str(),
      1.0 / static_cast<double>(moved_n + 1), r.slow.p50_ms, r.slow.p99_ms, r.slow_share,
      r.slow.backlog, r.slow.stable ? "true" : "false", json_number(r.ns8, 1).c_str(),
      json_number(r.ns64, 1).c_str());
  }
}

std::string percent(double f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * f);
  return buf;
}

void print_table(const std::vector<row>& rows, const options& opts, std::size_t moved_n,
                 double fair_slow_share) {
  std::printf("Balancing policies: quality report (seed %llu)\n\n",
              static_cast<unsigned long long>(opts.seed));
  std::printf(
    "| policy | max/mean uniform | max/mean Zipf | keys moved, 1 of %zu leaves "
    "(ideal %s) | 1 joins (ideal %s) | slow backend: p50 / p99 ms | sent to slow "
    "| ns/pick 8 | ns/pick 64 |\n",
    moved_n, percent(1.0 / static_cast<double>(moved_n)).c_str(),
    percent(1.0 / static_cast<double>(moved_n + 1)).c_str());
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& r : rows) {
    std::string leave = "n/a (not key-affine)";
    std::string join = "n/a (not key-affine)";
    if (r.keys) {
      leave = percent(r.keys->remove_mean) + " (max " + percent(r.keys->remove_max) + ")";
      join = percent(r.keys->add_mean) + " (max " + percent(r.keys->add_max) + ")";
    }
    char latency[64];
    std::snprintf(latency, sizeof latency, "%.2f / %.2f%s", r.slow.p50_ms, r.slow.p99_ms,
                  r.slow.stable ? "" : " *");
    std::printf("| %s | %.3f | %.3f | %s | %s | %s | %s | %s | %s |\n", to_string(r.kind),
                r.balance_uniform, r.balance_zipf, leave.c_str(), join.c_str(), latency,
                percent(r.slow_share).c_str(), fixed(r.ns8, 1).c_str(), fixed(r.ns64, 1).c_str());
  }
  std::printf(
    "\nmax/mean: requests per backend over %llu requests, 8 equal backends (mean service 1 ms)\n"
    "  at 70%% utilisation; keys uniform over 100,000, or Zipf(s = 1.1) over the same keys.\n"
    "keys moved: share of 100,000 keys routed elsewhere (idle backends) when one of %zu\n"
    "  backends leaves (mean and max over each one leaving) or one joins (10 new ids).\n"
    "slow backend: 8 backends, one with mean service 10 ms (the others 1 ms), FIFO, Poisson\n"
    "  arrivals at 70%% of total capacity, %llu requests; latency = queueing + service.\n"
    "  Its fair share of requests is %s. * = a backend was sent more than it can serve:\n"
    "  its queue (and so the p99) grows with the length of the run.\n"
    "ns/pick: Google Benchmark, one pick with a random key, 8 or 64 backends, uneven loads.\n",
    static_cast<unsigned long long>(opts.requests), moved_n,
    static_cast<unsigned long long>(opts.slow_requests), percent(fair_slow_share).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  // Google Benchmark's own default (0.5 s per benchmark) would take the
  // report past 30 s; 0.25 s is plenty for a pick. A later flag overrides it.
  std::vector<char*> args(argv, argv + argc);
  static char default_min_time[] = "--benchmark_min_time=0.25";
  args.insert(args.begin() + 1, default_min_time);
  int bench_argc = static_cast<int>(args.size());
  auto opts = parse(bench_argc, args.data());
  if (!opts) {
    usage(stderr);
    return 2;
  }

  constexpr std::size_t backends = 8;
  constexpr std::size_t moved_n = 10;
  key_source uniform{100'000, 0};
  key_source zipf{100'000, 1.1};
  std::vector<double> equal(backends, 1.0);
  std::vector<double> one_slow(backends, 1.0);
  one_slow.back() = 10.0;
  double fair_slow_share = 0.1 / (backends - 1 + 0.1);

  std::vector<row> rows;
  for (auto kind : all_policy_kinds()) {
    std::fprintf(stderr, "balance-report: %s...\n", to_string(kind));
    row r;
    r.kind = kind;
    auto run = [&](const std::vector<double>& service, const key_source& keys,
                   std::uint64_t requests) {
      auto p = make_policy(kind, policy_opts(opts->seed));
      return simulate(*p, sim_config{service, 0.7, requests, &keys, opts->seed});
    };
    r.balance_uniform = max_over_mean(run(equal, uniform, opts->requests).sent);
    r.balance_zipf = max_over_mean(run(equal, zipf, opts->requests).sent);
    r.slow = run(one_slow, uniform, opts->slow_requests);
    r.slow_share =
      static_cast<double>(r.slow.sent.back()) / static_cast<double>(opts->slow_requests);
    if (key_affine(kind))
      r.keys = keys_moved(kind, moved_n, uniform.keys());
    rows.push_back(std::move(r));
  }

  if (opts->bench) {
    std::fprintf(stderr, "balance-report: timing pick (Google Benchmark)...\n");
    benchmark::Initialize(&bench_argc, args.data());
    register_pick_benchmarks();
    collector c;
    benchmark::RunSpecifiedBenchmarks(&c);
    benchmark::Shutdown();
    for (auto& r : rows) {
      r.ns8 = ns_per_pick(c, r.kind, 8);
      r.ns64 = ns_per_pick(c, r.kind, 64);
    }
  }

  if (opts->json)
    print_json(rows, moved_n);
  else
    print_table(rows, *opts, moved_n, fair_slow_share);
  return 0;
}
