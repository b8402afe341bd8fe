#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "caf/fwd.hpp"

#include "actors/replica/peer_map.hpp"
#include "runtime/ballotd/options.hpp"
#include "runtime/gateway/member_roster.hpp"

namespace ballot::gateway {
class server;
class change_feed;
class audit_log;
class gateway_metrics;
}  // namespace ballot::gateway

namespace ballot::ballotd {

/// The replica actors this node can reach now, by id: local ones, plus the
/// peers' proxies that the peer connector keeps current. Shared between the
/// connector (writer) and the gateway's bridge actor (reader).
class replica_directory {
 public:
  void set(actors::peer_map map) {
    std::lock_guard<std::mutex> guard{mutex_};
    map_ = std::move(map);
  }
  caf::actor find(std::uint32_t id) const;

 private:
  mutable std::mutex mutex_;
  actors::peer_map map_;
};

/// The node's client endpoint: the Cap'n Proto gateway in front of the
/// local replica, forwarding to the leader through the directory.
class client_service {
 public:
  client_service();
  ~client_service();

  /// Reads and checks the client TLS files of `opts`; the error text (naming
  /// the flag and the file) if one is unusable. `start` does it too; call it
  /// first to refuse bad files before anything else starts.
  static std::optional<std::string> check_tls(const options& opts);
  /// Opens `opts.audit_log` (if set) for `start`; the error text, naming the
  /// flag and the path, if it cannot. Called before anything else starts.
  std::optional<std::string> open_audit(const options& opts);

  /// The cluster id (raw bytes) online backups carry; set before `start`.
  /// Empty: zeros (the embedded default has none).
  std::string cluster_id;
  /// The membership as the replica applied it (status, leader hints).
  std::shared_ptr<gateway::member_roster> roster;

  /// Starts serving on `opts.client`; the error text if it cannot.
  std::optional<std::string> start(caf::actor_system& sys, const options& opts, std::uint32_t self,
                                   std::shared_ptr<replica_directory> dir,
                                   std::shared_ptr<gateway::change_feed> feed,
                                   std::shared_ptr<gateway::gateway_metrics> metrics = nullptr);

  /// Stops accepting, lets in-flight calls end (bounded), closes.
  void stop();

  /// "host:port" as bound.
  std::string bound() const;

 private:
  std::unique_ptr<gateway::server> server_;
  std::shared_ptr<gateway::audit_log> audit_;
};

}  // namespace ballot::ballotd
