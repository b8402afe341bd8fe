#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "caf/fwd.hpp"

#include "actors/replica/peer_map.hpp"
#include "runtime/peer/snapshot_receiver.hpp"
#include "runtime/peer/snapshot_sender.hpp"
#include "runtime/peer/transport.hpp"
#include "runtime/peer/transport_outlet.hpp"

/// ballotd's side of the peer port: the transport plus one local link actor
/// per remote member, wired to the local replica actor. The replica and the
/// client gateway talk to the links exactly as they would to the members'
/// replicas; what arrives from the network reaches the replica only as the
/// core's `(from, M)` messages or as the three member requests.
namespace ballot::peer {

struct service_options {
  std::uint32_t self = 0;
  std::map<std::uint32_t, std::pair<std::string, std::uint16_t>> members;
  std::optional<tls_material> tls;
  /// Raw bytes; every hello carries it (see transport_options::cluster_id).
  std::string cluster_id;
  /// Snapshots to lagging members: chunk size, window, stall timeout.
  sender_options snapshot_out;
  /// Snapshots from members: the largest taken, the idle timeout; one
  /// transfer at a time for the whole node (a slot every link shares is
  /// made unless `snapshot_in.slot` is given).
  receiver_options snapshot_in;
  /// A request of this node's gateway to a member not answered within this
  /// fails with `request_timeout` (link_options::request_timeout).
  std::chrono::milliseconds request_timeout{30'000};
  /// Optional: each operator line here instead of the process logger.
  std::function<void(const std::string&)> log;
  /// transport_options::direct_write_bytes (its default unless set).
  std::size_t direct_write_bytes = transport_options{}.direct_write_bytes;
  /// Optional: the outlet the replica was given (replica_options::outlet),
  /// attached to the transport once it runs.
  std::shared_ptr<transport_outlet> outlet;
};

class peer_service {
 public:
  /// Listens, dials and spawns the links. Throws std::runtime_error (with
  /// the reason) when it cannot listen or the TLS material does not load.
  static std::unique_ptr<peer_service> start(caf::actor_system& sys, caf::actor replica,
                                             service_options opts);
  ~peer_service();

  /// The link actors by member id (the local replica not included).
  actors::peer_map links() const;

  /// The membership changed: `members` is every member (this node
  /// included) with its peer address. Dials and links the new ones, stops
  /// the links of those gone. Returns the links now. Thread-safe.
  actors::peer_map set_members(
    const std::map<std::uint32_t, std::pair<std::string, std::uint16_t>>& members);

  /// Frames dropped and connections refused so far, by reason.
  std::string drop_summary() const;
  /// The same, one reason (thread-safe; for metrics).
  std::uint64_t drops(drop_reason r) const;
  /// Whether this node's connection to `member` is up now (thread-safe).
  bool connected(std::uint32_t member) const;

  /// Stops the transport (joins its thread) and the links.
  void stop();

  struct impl;

 private:
  explicit peer_service(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace ballot::peer
