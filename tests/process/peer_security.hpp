#pragma once

// What the PeerTls and ForgedPeer process tests share: running ballotctl and
// the forging program, writing and checking a set of keys, and the checks
// that a cluster still agrees after an attack.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/process/cluster_fixture.hpp"

namespace ballot::testing {

struct run_result {
  std::optional<int> code;
  std::string out, err;
};

/// Runs a program to its end (bounded) and returns its exit code and output.
inline run_result run_program(std::vector<std::string> argv,
                              std::chrono::milliseconds within = std::chrono::seconds(30)) {
  process p{std::move(argv)};
  run_result r;
  r.code = p.exit_code(within);
  r.out = p.out();
  r.err = p.err();
  return r;
}

inline std::string joined_endpoints(const cluster_processes& c) {
  std::string out;
  for (auto& e : c.endpoints())
    out += (out.empty() ? "" : ",") + e;
  return out;
}

/// Writes `n` keys `sec-<i>` = `value-<i>`, all acknowledged.
inline void write_keys(cluster_processes& c, int n, const std::string& tag) {
  client::client cl{c.client_options()};
  for (int i = 0; i < n; ++i) {
    auto r = cl.put("sec-" + std::to_string(i), tag + "-" + std::to_string(i));
    ASSERT_TRUE(r.ok()) << "put sec-" << i << ": " << kv::to_string(r.code);
  }
}

/// Every key reads back as written, through every node, and the forger's key is absent.
inline void check_keys(cluster_processes& c, int n, const std::string& tag) {
  for (auto& e : c.endpoints()) {
    auto o = c.client_options();
    o.endpoints = {e};
    client::client cl{o};
    for (int i = 0; i < n; ++i) {
      auto r = cl.get("sec-" + std::to_string(i));
      ASSERT_TRUE(r.ok()) << "sec-" << i << " via " << e << ": " << kv::to_string(r.code);
      EXPECT_EQ(r.value, tag + "-" + std::to_string(i)) << "via " << e;
    }
    auto forged = cl.get("forged");
    EXPECT_EQ(forged.code, kv::result_code::not_found) << "a forged write applied, via " << e;
  }
}

/// The cluster still elects: kill -9 the leader, a new one is elected among
/// the others and serves, the old one comes back and catches up.
inline void check_elects_after_killing_the_leader(cluster_processes& c, int n,
                                                  const std::string& tag) {
  auto leader = c.leader();
  ASSERT_NE(leader, 0u) << "no leader";
  c.kill9(leader);
  auto o = c.client_options();
  o.endpoints.clear();
  for (std::size_t id = 1; id <= 3; ++id)
    if (id != leader)
      o.endpoints.push_back(c.client_endpoint(id));
  client::client cl{o};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  bool ok = false;
  while (!ok && std::chrono::steady_clock::now() < deadline)
    ok = cl.put("after-failover", "yes").ok();
  ASSERT_TRUE(ok) << "no new leader took writes after node " << leader << " was killed";
  auto st = cl.status();
  EXPECT_NE(st.leader_id, leader);
  c.start(leader);
  check_keys(c, n, tag);
}

}  // namespace ballot::testing
