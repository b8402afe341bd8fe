#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <utility>

#include <gtest/gtest.h>

#include "tests/process/cluster_fixture.hpp"
#include "tests/process/metric_sum.hpp"

/// The set-up the snapshot process tests share: members with a metrics port
/// and small peer snapshot chunks, and a state of large values to send.
namespace ballot::testing {

/// Gives each of `c`'s first `members` nodes a metrics port (returned by
/// id) and peer snapshot chunks of `chunk_bytes`.
inline std::map<std::size_t, std::uint16_t> with_metrics_and_chunks(cluster_processes& c,
                                                                    std::size_t members,
                                                                    std::size_t chunk_bytes) {
  std::map<std::size_t, std::uint16_t> metrics;
  for (std::size_t id = 1; id <= members; ++id) {
    metrics[id] = free_port();
    c.node_flags[id] = {"--metrics", "127.0.0.1:" + std::to_string(metrics[id])};
    c.launch_prefix[id] = {"/usr/bin/env",
                           "BALLOT_PEER_SNAPSHOT_CHUNK_BYTES=" + std::to_string(chunk_bytes)};
  }
  return metrics;
}

/// Puts `value_of(i)` under "big-i" for i in [0, n), each acknowledged.
inline ::testing::AssertionResult put_big_values(client::client& cl, int n,
                                                 const std::function<std::string(int)>& value_of) {
  for (int i = 0; i < n; ++i) {
    auto r = cl.put("big-" + std::to_string(i), value_of(i));
    if (!r.ok())
      return ::testing::AssertionFailure() << "big-" << i << ": " << r.message;
  }
  return ::testing::AssertionSuccess();
}

/// Starts `c`, writes `n` large values through a patient client, then
/// kills a member other than the leader and wipes its data directory: the
/// member a snapshot must rebuild. Returns it, or 0 with the failure added.
inline std::size_t fill_then_wipe_a_follower(cluster_processes& c, std::size_t members, int n,
                                             const std::function<std::string(int)>& value_of) {
  using namespace std::chrono_literals;
  c.start_all();
  auto leader = c.leader();
  if (leader == 0) {
    ADD_FAILURE() << "no leader";
    return 0;
  }
  auto opts = c.client_options();
  opts.timeout = 15s;
  client::client cl{opts};
  if (auto filled = put_big_values(cl, n, value_of); !filled) {
    ADD_FAILURE() << filled.message();
    return 0;
  }
  std::size_t victim = leader % members + 1;
  c.kill9(victim);
  std::filesystem::remove_all(c.data_dir(victim));
  return victim;
}

/// A live member that was never wiped, to compare the wiped `victim` with:
/// the leader, unless the caught-up victim leads by now (compared with itself
/// it proves nothing), then the first of `members` that is neither the victim
/// nor `down`.
inline std::size_t never_wiped_member(std::size_t leader, std::size_t victim, std::size_t members,
                                      std::size_t down = 0) {
  for (std::size_t id = 1; leader == victim && id <= members; ++id)
    if (id != victim && id != down)
      return id;
  return leader;
}

/// The state bytes (`ballot_state_bytes`) of the nodes behind metrics ports
/// `leader` and `member`, scraped until they agree or `within` passes (gauges
/// are refreshed now and then): {leader's, member's}.
inline std::pair<double, double> state_bytes_once_agreed(std::uint16_t leader, std::uint16_t member,
                                                         std::chrono::milliseconds within) {
  using namespace std::chrono_literals;
  double want = 0, got = 0;
  auto deadline = std::chrono::steady_clock::now() + within;
  do {
    std::this_thread::sleep_for(100ms);
    want = metric_sum(leader, "ballot_state_bytes");
    got = metric_sum(member, "ballot_state_bytes");
    // A leader's state is never empty here: 0 (its gauge not refreshed yet;
    // once both read 0 and the test failed) or -1 (no answer) is read again.
  } while ((want <= 0 || got != want) && std::chrono::steady_clock::now() < deadline);
  return {want, got};
}

}  // namespace ballot::testing
