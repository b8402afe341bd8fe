#pragma once

#include <pthread.h>

#include <string>

namespace ballot::logging {

/// Names the calling thread as `top`, `perf` and /proc/PID/task/TID/comm
/// show it, so an operator (and bench/README's per-hop profile) can tell the
/// gateway's event loop from the peer transport's or a CAF worker. Linux
/// keeps 15 bytes; a longer name is cut rather than refused, since a thread
/// name is a diagnostic, never worth failing for.
inline void name_this_thread(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace ballot::logging
