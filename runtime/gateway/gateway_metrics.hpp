#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "runtime/metrics/registry.hpp"

namespace ballot::gateway {

/// The client gateway's instruments: calls by operation and result with
/// their latency, open connections, refused connections and watches. Made
/// once per gateway; on the call path an update is a few atomic operations
/// (each (operation, result) series is looked up once, then cached).
class gateway_metrics {
 public:
  /// The calls of schemas/client.capnp's `Ballot`, as counted.
  enum class op : std::size_t {
    put,
    get,
    delete_,
    list,
    status,
    open_session,
    keep_alive,
    close_session,
    acquire,
    release,
    check_token,
    lock_info,
    put_ephemeral,
    authenticate,
    auth_change,
    auth_list,
    who_am_i,
    snapshot,
    member_list,
    member_change,
    count_
  };

  /// Registers the families in `reg` (names `ballot_client_*`).
  explicit gateway_metrics(metrics::registry& reg);

  /// Result index 0 is "ok", 1 + n is the Error union's member n (its
  /// schema name, e.g. "notFound"), and `failed` a call that threw.
  static constexpr std::size_t failed = 63;
  void call_done(op o, std::size_t result, std::chrono::steady_clock::duration took);

  metrics::gauge& connections;
  metrics::counter& refused_connections;
  metrics::gauge& watchers;
  /// Log commands sent to keep sessions alive, each with the keepAlive calls
  /// of one turn (service_keep_alive.cpp), and the sessions they carried.
  metrics::counter& keep_alive_commands;
  metrics::counter& keep_alive_sessions;

 private:
  static constexpr std::size_t ops = static_cast<std::size_t>(op::count_);
  static constexpr std::size_t results = 64;

  metrics::family<metrics::counter>& calls_;
  metrics::family<metrics::histogram>& latency_;
  std::vector<std::string> result_names_;
  std::array<std::array<std::atomic<metrics::counter*>, results>, ops> counters_{};
  std::array<std::atomic<metrics::histogram*>, ops> histograms_{};
};

}  // namespace ballot::gateway
