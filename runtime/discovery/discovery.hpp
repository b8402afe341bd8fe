#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

#include "actors/balance/balancer_actor.hpp"
#include "runtime/client/client.hpp"
#include "runtime/discovery/member.hpp"

namespace ballot::discovery {

namespace detail {
struct discovery_state;
}  // namespace detail

struct discovery_options {
  /// Longest wait for the middleman to connect to a worker.
  std::chrono::milliseconds connect_timeout{3000};
  /// Wait before connecting again after a failed connection or a lost one
  /// (the worker's key is still there), doubled up to `retry_max`.
  std::chrono::milliseconds retry_min{200};
  std::chrono::milliseconds retry_max{5000};
  /// Wait before listing again after the cluster did not answer.
  std::chrono::milliseconds relist_delay{500};
  /// Joins, leaves, connection failures, rejected values; called from the
  /// client's I/O thread or a CAF scheduler thread (must not block), not
  /// after the discovery is destroyed.
  std::function<void(const std::string&)> log;
};

/// One member as the discovery sees it.
struct member_status {
  /// The worker's key, which is also its name in the balancer.
  std::string key;
  member_address address;
  /// Connected and added to the balancer; false while connecting or waiting
  /// to connect again.
  bool connected = false;
  /// Why the last connection attempt failed or the last connection ended.
  std::string last_error;
};

/// The balancer side of discovery: follows the members under a key prefix
/// into a balancer actor. It lists the prefix (keys and the revision), reads
/// their values, then watches the prefix from that revision, so no change in
/// between is missed. For every member (a key whose value decodes as a
/// `member_address`) it connects to the published worker through the
/// middleman, asynchronously (a connection never blocks the balancer or a
/// scheduler thread), and adds it to the balancer under its key; a member
/// whose key is deleted (closed by the worker, or its session expired) is
/// removed; a new weight is a reweight; a new address is a remove and an add.
/// A worker whose connection is lost while its key remains is reconnected
/// with backoff (the balancer takes it down at once by itself, and back when
/// it is added again). A watch that ends because the history was compacted
/// lists again and resumes.
///
/// The actor system must have the middleman loaded and the balancer's types
/// announced (`balance::configure`). The client must outlive the discovery.
class discovery {
 public:
  /// Starts following `prefix` into `balancer` at once.
  discovery(caf::actor_system& sys, client::client& c, std::string prefix, caf::actor balancer,
            discovery_options opts = {});

  /// Stops following. The workers it added stay in the balancer (with
  /// `owns_balancer`, the balancer is stopped instead).
  ~discovery();

  discovery(const discovery&) = delete;
  discovery& operator=(const discovery&) = delete;

  const caf::actor& balancer() const;
  const std::string& prefix() const;

  /// The first listing was applied (its members may still be connecting).
  bool synced() const;

  /// Waits until at least `at_least` members are connected and added to the
  /// balancer (true), at most `timeout`.
  bool wait_connected(std::size_t at_least, std::chrono::milliseconds timeout) const;

  /// The members, in key order.
  std::vector<member_status> members() const;

  /// How many listings were read (1 after the start, more after compaction or
  /// failures).
  std::uint64_t listings() const;

  /// Stop the balancer (exit reason user_shutdown) when the discovery ends.
  void owns_balancer(bool yes);

 private:
  std::shared_ptr<detail::discovery_state> st_;
  caf::actor follower_;
  caf::actor balancer_;
  std::string prefix_;
  bool owns_balancer_ = false;
};

/// The embedded API's "balancer over a discovery prefix": spawns a balancer
/// with `cfg` (its `workers` may be empty) and follows `prefix` into it. The
/// discovery owns the balancer: destroying it stops both. The client must
/// outlive it.
std::unique_ptr<discovery> spawn_discovering_balancer(caf::actor_system& sys, client::client& c,
                                                      std::string prefix,
                                                      balance::balancer_config cfg,
                                                      discovery_options opts = {});

}  // namespace ballot::discovery
