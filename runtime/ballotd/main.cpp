// ballotd: one node of a Ballot cluster, or (without --id/--peers) a whole
// three-replica cluster in one process. See `ballotd --help` and SURFACE.md.
#include <mimalloc.h>
#include <systemd/sd-daemon.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "runtime/ballotd/node.hpp"
#include "runtime/ballotd/options.hpp"
#include "runtime/log/log.hpp"

namespace {

/// SIGINT and SIGTERM are blocked in every thread (CAF's threads inherit the
/// mask) and taken synchronously by the main thread with sigwait, so no
/// handler runs in the middle of CAF or the KJ loop.
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ballot::ballotd;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = parse_options(args);
  if (parsed.error) {
    std::fprintf(stderr, "ballotd: %s\n(run `ballotd --help` for usage)\n",
                 parsed.error->message.c_str());
    return exit_usage;
  }
  if (parsed.opts->help) {
    std::fputs(usage_text(), stdout);
    return 0;
  }
  // Values of up to 1 MiB pass through every thread (gateway, replica, peer
  // transport), allocated on one and freed on another. mimalloc (linked in,
  // it replaces malloc) frees them to the thread that owns their page without
  // a lock and gives the pages of free segments back to the kernel shortly
  // after: glibc's arenas kept such pages, so its mmap threshold had to be
  // pinned (README "Limits and budgets"). Naming it here (its version in a
  // debug line) also keeps it linked where a linker drops unnamed libraries.
  // Before anything logs; usage errors above go to stderr whatever the level.
  ballot::logging::set_level(parsed.opts->log_level);
  ballot::logging::set_format(parsed.opts->log_format);
  // Free segments go back to the kernel at once, not after mimalloc's default
  // 500 ms: under 1 MB puts from many clients, segments freed and not yet
  // returned pushed a node's RSS past its budget (AbuseTest: 1,003 MiB at
  // the peak with the delay, 800 without). Freed pages inside a segment stay
  // for 1 s: returning them at once made every 1 MB copy fault its pages in
  // again (57 against 43 puts/s of 1 MB), and after the default 25 ms page
  // faults were still a fifth of the CPU under 128 clients of 1 MB; 1 s took
  // the nodes' CPU per put from 21-28 to 16-18 ms for 120-200 MiB more RSS
  // (bench/README "The allocator"). MIMALLOC_* in the environment still
  // override these.
  mi_option_set_default(mi_option_segment_decommit_delay, 0);
  mi_option_set_default(mi_option_decommit_delay, 1000);
  ballot::logging::debug("allocator mimalloc " + std::to_string(mi_version()),
                         {{"event", "allocator"}});
  auto signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // Write errors to a closed pipe must not kill a node.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    node n{*parsed.opts};
    auto code = n.start();
    if (code != 0)
      return code;
    std::printf("ballotd ready id=%s client=%s\n",
                parsed.opts->embedded ? "embedded" : std::to_string(n.id()).c_str(),
                n.client_endpoint().c_str());
    // After the ready line, whose wording is the contract (SURFACE.md).
    std::fflush(stdout);
    // systemd's Type=notify (deploy/ballotd.service): the client port serves
    // now. Without NOTIFY_SOCKET (not under systemd) this does nothing.
    sd_notify(0, "READY=1");
    if (auto where = n.metrics_endpoint(); !where.empty())
      ballot::logging::info("metrics, health and status page on http://" + where + "/",
                            {{"event", "metrics_on"}, {"address", where}});
    int sig = 0;
    sigwait(&signals, &sig);
    sd_notify(0, "STOPPING=1");
    auto name = sig == SIGINT ? "SIGINT" : "SIGTERM";
    ballot::logging::info(std::string{name} + " received, stopping",
                          {{"event", "stopping"}, {"signal", name}});
    n.stop();
    ballot::logging::info("stopped", {{"event", "stopped"}});
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ballotd: %s\n", e.what());
    return exit_data;
  }
}
