// ballot-netproxy: a userspace TCP proxy that makes a link slow and unreliable, for tests.
//
// The kernels Ballot is tested on have veth and bridges but no netem qdisc, so latency,
// jitter and loss between namespaces (or processes) come from this proxy instead. It accepts
// on --listen, connects each accepted connection to --target, and forwards both directions:
//
// - every chunk read is delivered no sooner than latency + U[0, jitter] after it arrived, and
//   never before the chunk ahead of it (a TCP stream stays in order);
// - "loss": TCP cannot lose bytes, so a lost segment shows as what it costs a real stream, a
//   stall (the retransmission timeout): with --stall-prob a chunk waits U[stall/2, stall]
//   more, holding up everything behind it; and with --reset-prob the connection is reset
//   (RST to both ends), as a middlebox or a peer restart would;
// - bounded in time: after --faults-for-s seconds it forwards without delay or faults, so a
//   test can end its fault phase and check the cluster recovers; every delay is at most 10 s.
//
// Decisions are drawn from a generator seeded with (--seed, connection number, direction),
// three draws a chunk whatever is decided, so a run that sees the same chunks on the same
// connections makes the same decisions; --trace prints each one on stdout. Each accepted
// connection is announced on stdout too (`accepted conn=N`).
//
// SIGSTOP freezes every link (both directions stop, connections stay open); SIGCONT thaws.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct config {
  sockaddr_in listen{};
  sockaddr_in target{};
  std::uint64_t seed = 1;
  int latency_ms = 0;
  int jitter_ms = 0;
  double stall_prob = 0;
  int stall_ms = 0;
  double reset_prob = 0;
  double faults_for_s = 86400;
  bool trace = false;
};

config cfg;
clock_type::time_point faults_end;
std::mutex trace_mutex;

/// A direction's queue holds at most this much: past it the reader stops reading, so a slow
/// receiver slows the sender down as TCP would, instead of filling the proxy's memory.
constexpr std::size_t max_queued_bytes = 4u << 20;

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

struct chunk {
  clock_type::time_point due;
  std::string bytes;  // empty: the sender closed its side (EOF)
};

/// One accepted connection and its connection to the target: fd[0] the client side, fd[1]
/// the target side. Closed when the last of its four threads lets go; with an RST when it
/// was reset.
struct link {
  int fd[2] = {-1, -1};
  std::uint64_t number = 0;
  std::atomic<bool> dead{false};
  std::atomic<bool> reset{false};

  struct direction {
    std::mutex mutex;
    std::condition_variable cv;
    std::deque<chunk> queue;
    std::size_t queued = 0;
    clock_type::time_point last_due{};
  } dir[2];  // dir[0]: client -> target, dir[1]: target -> client

  void kill(bool with_reset) {
    if (with_reset)
      reset = true;
    dead = true;
    for (auto& d : dir) {
      std::lock_guard<std::mutex> g{d.mutex};
      d.cv.notify_all();
    }
  }

  ~link() {
    for (int f : fd) {
      if (f < 0)
        continue;
      if (reset) {
        linger l{1, 0};  // close with RST instead of FIN
        setsockopt(f, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
      }
      close(f);
    }
  }
};

/// Reads from one side, decides each chunk's fate, queues it for the writer.
void reader(std::shared_ptr<link> l, int d) {
  int from = l->fd[d];
  auto& q = l->dir[d];
  std::mt19937_64 rng{splitmix(cfg.seed ^ splitmix(l->number * 2 + static_cast<std::uint64_t>(d)))};
  std::vector<char> buf(64 * 1024);
  for (std::uint64_t index = 0; !l->dead;) {
    pollfd p{from, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0)
      continue;
    ssize_t n = read(from, buf.data(), buf.size());
    auto now = clock_type::now();
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (n < 0) {
      l->kill(true);  // a reset on one side is passed on as a reset to the other
      return;
    }
    chunk c;
    c.bytes.assign(buf.data(), static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
    // Three draws a chunk, always, so the decisions of later chunks do not depend on what
    // was decided for this one.
    auto jitter_draw = rng(), fault_draw = rng(), stall_draw = rng();
    int delay_ms = 0, stall_ms = 0;
    bool reset = false;
    if (n > 0 && now < faults_end) {
      delay_ms = cfg.latency_ms +
                 (cfg.jitter_ms > 0 ? static_cast<int>(jitter_draw % (cfg.jitter_ms + 1)) : 0);
      double u = static_cast<double>(fault_draw >> 11) * 0x1.0p-53;
      if (u < cfg.reset_prob)
        reset = true;
      else if (u < cfg.reset_prob + cfg.stall_prob && cfg.stall_ms > 0)
        stall_ms = cfg.stall_ms / 2 + static_cast<int>(stall_draw % (cfg.stall_ms / 2 + 1));
      if (cfg.trace) {
        std::lock_guard<std::mutex> g{trace_mutex};
        std::printf("conn=%llu dir=%d chunk=%llu delay_ms=%d stall_ms=%d reset=%d\n",
                    static_cast<unsigned long long>(l->number), d,
                    static_cast<unsigned long long>(index), delay_ms, stall_ms, reset ? 1 : 0);
        std::fflush(stdout);
      }
    }
    ++index;
    if (reset) {
      l->kill(true);
      return;
    }
    std::unique_lock<std::mutex> g{q.mutex};
    c.due = std::max(q.last_due, now + milliseconds(delay_ms + stall_ms));
    q.last_due = c.due;
    q.queued += c.bytes.size();
    q.queue.push_back(std::move(c));
    q.cv.notify_all();
    if (n == 0)
      return;  // EOF queued: the writer passes it on after what is ahead of it
    q.cv.wait(g, [&] { return l->dead || q.queued <= max_queued_bytes; });
  }
}

/// Delivers one direction's chunks when they are due.
void writer(std::shared_ptr<link> l, int d) {
  int to = l->fd[1 - d];
  auto& q = l->dir[d];
  std::unique_lock<std::mutex> g{q.mutex};
  while (!l->dead) {
    if (q.queue.empty()) {
      q.cv.wait_for(g, milliseconds(100));
      continue;
    }
    auto due = q.queue.front().due;
    if (clock_type::now() < due) {
      q.cv.wait_until(g, due);
      continue;
    }
    chunk c = std::move(q.queue.front());
    q.queue.pop_front();
    q.queued -= c.bytes.size();
    q.cv.notify_all();
    g.unlock();
    if (c.bytes.empty()) {
      shutdown(to, SHUT_WR);
      return;
    }
    std::size_t sent = 0;
    while (sent < c.bytes.size() && !l->dead) {
      ssize_t n = send(to, c.bytes.data() + sent, c.bytes.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0) {
        l->kill(true);
        return;
      }
      sent += static_cast<std::size_t>(n);
    }
    g.lock();
  }
}

/// Connects an accepted connection to the target (in its own thread: a target behind a
/// partition can take minutes to refuse) and starts the four forwarding threads.
void serve(int client, std::uint64_t number) {
  int target = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (target < 0 ||
      connect(target, reinterpret_cast<const sockaddr*>(&cfg.target), sizeof(cfg.target)) != 0) {
    linger lg{1, 0};
    setsockopt(client, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(client);
    if (target >= 0)
      close(target);
    return;
  }
  int one = 1;
  setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  setsockopt(target, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  auto l = std::make_shared<link>();
  l->fd[0] = client;
  l->fd[1] = target;
  l->number = number;
  for (int d = 0; d < 2; ++d) {
    std::thread{reader, l, d}.detach();
    std::thread{writer, l, d}.detach();
  }
}

bool parse_address(const std::string& text, sockaddr_in& out) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos)
    return false;
  out = sockaddr_in{};
  out.sin_family = AF_INET;
  char* end = nullptr;
  long port = std::strtol(text.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || port < 0 || port > 65535 || end == text.c_str() + colon + 1)
    return false;
  out.sin_port = htons(static_cast<std::uint16_t>(port));
  return inet_pton(AF_INET, text.substr(0, colon).c_str(), &out.sin_addr) == 1;
}

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "ballot-netproxy: %s\n"
               "usage: ballot-netproxy --listen IP:PORT --target IP:PORT [--seed N]\n"
               "         [--latency-ms MS] [--jitter-ms MS] [--stall-prob P --stall-ms MS]\n"
               "         [--reset-prob P] [--faults-for-s S] [--trace]\n"
               "Delays are at most 10000 ms; probabilities are per chunk read, in [0, 1].\n",
               why.c_str());
  std::exit(2);
}

config parse(int argc, char** argv) {
  config c;
  bool has_listen = false, has_target = false;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--trace") {
      c.trace = true;
      continue;
    }
    if (i + 1 >= argc)
      usage("missing value for " + flag);
    std::string value = argv[++i];
    char* end = nullptr;
    auto number = [&](double lo, double hi) {
      double v = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || !(v >= lo && v <= hi))
        usage("invalid value '" + value + "' for " + flag);
      return v;
    };
    if (flag == "--listen")
      has_listen = parse_address(value, c.listen) || (usage("bad --listen " + value), false);
    else if (flag == "--target")
      has_target = parse_address(value, c.target) || (usage("bad --target " + value), false);
    else if (flag == "--seed")
      c.seed = std::strtoull(value.c_str(), nullptr, 10);
    else if (flag == "--latency-ms")
      c.latency_ms = static_cast<int>(number(0, 10000));
    else if (flag == "--jitter-ms")
      c.jitter_ms = static_cast<int>(number(0, 10000));
    else if (flag == "--stall-ms")
      c.stall_ms = static_cast<int>(number(0, 10000));
    else if (flag == "--stall-prob")
      c.stall_prob = number(0, 1);
    else if (flag == "--reset-prob")
      c.reset_prob = number(0, 1);
    else if (flag == "--faults-for-s")
      c.faults_for_s = number(0, 86400);
    else
      usage("unknown option " + flag);
  }
  if (!has_listen || !has_target)
    usage("--listen and --target are required");
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  cfg = parse(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  faults_end = clock_type::now() + std::chrono::duration_cast<clock_type::duration>(
                                     std::chrono::duration<double>(cfg.faults_for_s));
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(listener, reinterpret_cast<sockaddr*>(&cfg.listen), sizeof(cfg.listen)) != 0 ||
      listen(listener, 128) != 0) {
    std::fprintf(stderr, "ballot-netproxy: cannot listen: %s\n", std::strerror(errno));
    return 1;
  }
  sockaddr_in bound{};
  socklen_t len = sizeof(bound);
  getsockname(listener, reinterpret_cast<sockaddr*>(&bound), &len);
  char host[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &bound.sin_addr, host, sizeof(host));
  std::printf("ballot-netproxy ready listen=%s:%u\n", host, ntohs(bound.sin_port));
  std::fflush(stdout);
  for (std::uint64_t number = 0;;) {
    int client = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      std::fprintf(stderr, "ballot-netproxy: accept: %s\n", std::strerror(errno));
      return 1;
    }
    // One line per connection, so a test can tell that traffic really crossed the proxy.
    std::printf("accepted conn=%llu\n", static_cast<unsigned long long>(number));
    std::fflush(stdout);
    std::thread{serve, client, number++}.detach();
  }
}
