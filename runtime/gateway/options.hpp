#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actors/paxos/types.hpp"
#include "runtime/gateway/audit_log.hpp"
#include "runtime/gateway/change_feed.hpp"
#include "runtime/gateway/connection_context.hpp"
#include "runtime/gateway/member_roster.hpp"

namespace ballot::gateway {

class gateway_metrics;

/// How a node's client gateway listens, forwards and limits.
struct options {
  /// Where clients connect. Port 0 picks a free port (see `server::port`).
  std::string host = "127.0.0.1";
  std::uint16_t port = 7400;
  /// TLS on this endpoint; off while `tls.cert_pem` is empty. PEM text, not
  /// file names: ballotd reads and checks the files, so that a bad one is a
  /// usage error naming its flag.
  struct tls_options {
    /// The gateway's certificate (a chain, leaf first) and its private key.
    std::string cert_pem;
    std::string key_pem;
    /// The CA that signs client certificates.
    std::string client_ca_pem;
    /// The handshake fails unless the client presents a certificate signed
    /// by `client_ca_pem`; its common name becomes the connection's
    /// `connection_context::cert_common_name`. Without it clients are not
    /// asked for a certificate (KJ's TLS cannot ask yet accept none).
    bool client_cert_auth = false;
  } tls;
  /// Called on the gateway's thread for each connection once it is set up
  /// (after its TLS handshake), with who is on it: for connection logs and
  /// tests. Must not block; may be empty.
  std::function<void(const connection_context&)> on_connect;

  /// The id of the replica this gateway fronts; writes and reads go to it
  /// first (a follower answers not_leader with a hint, and the gateway
  /// forwards to the hinted leader's replica actor).
  paxos::node_id self = 1;
  /// What the `self` replica applies (its service machine's observer feeds
  /// it): waiting acquires and watches follow it. `start` makes an empty one
  /// if unset; then waits only end by their timers and watches poll.
  std::shared_ptr<change_feed> feed;
  /// How often the gateway checks (with one read for all its watches) that
  /// its replica's feed keeps up with the cluster; watches whose feed fell
  /// behind ask the cluster's history instead. Idle watches cost nothing.
  std::chrono::milliseconds watch_poll{1000};
  /// A watcher that has not taken (returned) one batch of events within this
  /// long is cut off with `overloaded`; others are not held up meanwhile.
  std::chrono::milliseconds watch_stall_timeout{30'000};
  /// Bytes of event batches sent to watchers and not yet taken, over all
  /// watches; a watch whose next batch would pass it ends with `overloaded`.
  std::size_t max_watch_bytes_in_flight = 256u << 20;
  /// Where authentication failures, permission denials and user or role
  /// changes are recorded; null: nowhere.
  std::shared_ptr<audit_log> audit;
  /// Where the gateway counts calls, connections and watches; null: nowhere.
  std::shared_ptr<gateway_metrics> metrics;
  /// Every member, `self` included; `status` probes each one. Empty: {self}.
  std::vector<paxos::node_id> members;
  /// Client endpoints ("host:port") of members, as far as this node knows
  /// them: they fill in leader hints and the status listing.
  std::map<paxos::node_id, std::string> client_endpoints;
  /// When set, the members as the replica applied them: `status` probes
  /// these (with their roles), and their client endpoints add to
  /// `client_endpoints`.
  std::shared_ptr<member_roster> roster;

  /// The client endpoint of member `id` as far as this node knows it ("").
  std::string endpoint_of(paxos::node_id id) const {
    if (auto it = client_endpoints.find(id); it != client_endpoints.end())
      return it->second;
    if (roster)
      if (auto all = roster->get(); all.count(id) != 0)
        return all.at(id).client;
    return {};
  }
  /// Forward to the leader (true) or answer notLeader with a hint (false).
  bool forward = true;
  /// Writes larger than this are not forwarded by a follower when it can
  /// name the leader's client endpoint: the client gets notLeader with the
  /// hint and sends them there itself. The peer
  /// links then carry consensus traffic, not megabytes of clients' values
  /// that votes and heartbeats would queue behind. ballotd sets 64 KiB for a
  /// cluster; in one process (the embedded default) everything is forwarded.
  std::size_t max_forward_bytes = SIZE_MAX;
  /// Such larger writes are still forwarded when the leader's client
  /// endpoint is unknown here (the client could not follow a hint), but only
  /// this many bytes of them at once; past it they wait their turn in order,
  /// and one that does not get it by its deadline is `unavailable`. While
  /// this node leads, its own clients' larger writes go to its replica under
  /// the same budget, so that every node's clients get their turn.
  std::size_t max_forward_in_flight_bytes = 4u << 20;

  /// Longest a client call waits for the cluster, retries, forwarding and
  /// queueing behind other writes included; then it gets `unavailable`. Like
  /// etcd's (5 s plus two election timeouts): under a load of megabyte
  /// values a healthy cluster queues writes for seconds, and a write given
  /// up on while it is already in the log is work done for nothing (at 128
  /// clients of 1 MB puts, 2 s made a fifth of the calls fail and cut
  /// throughput by about a quarter).
  std::chrono::milliseconds request_timeout{5000};
  /// Longest one ask of one replica actor waits. CAF never fails a request to
  /// a dead or frozen peer by itself: this is what moves on from one.
  std::chrono::milliseconds hop_timeout{1000};
  /// Pause between asks while no leader is known (an election is running).
  std::chrono::milliseconds retry_delay{20};
  /// How long `status` waits for each member's answer before calling it down.
  std::chrono::milliseconds status_timeout{300};
  /// On stop: how long in-flight calls may still finish.
  std::chrono::milliseconds drain_timeout{2000};

  /// A connection that sends a bigger message is closed (Cap'n Proto's
  /// traversal limit, checked before the message is read into memory).
  std::size_t max_message_bytes = 16u << 20;
  /// Deepest pointer nesting accepted in a message.
  int max_nesting_depth = 32;
  /// Larger keys (and list prefixes) or values are answered badRequest.
  std::size_t max_key_bytes = 4096;
  std::size_t max_value_bytes = 1u << 20;
  /// Most entries one list returns (a larger or zero limit is capped to it).
  std::uint32_t max_list_entries = 10000;
  /// A list page ends (truncated) before its keys and values pass this many
  /// bytes (at least one entry): a listing with values stays a bounded message.
  std::size_t max_list_bytes = 4u << 20;
  /// More connections than this are closed at once (the process needs as
  /// many file descriptors: ballotd raises its limit to fit).
  std::size_t max_connections = 4096;
  /// More connections than this from one client address are closed at once,
  /// so one address cannot take every slot.
  std::size_t max_connections_per_address = 256;
  /// A connection that sends nothing this long after it opened is closed.
  std::chrono::milliseconds handshake_timeout{10'000};
  /// A connection with no bytes either way this long is closed (a watch
  /// with no news included: the client library resumes it). 0: never.
  std::chrono::milliseconds idle_timeout{600'000};
  /// Bytes of calls one connection may have in flight before the gateway stops
  /// reading from it (back-pressure instead of unbounded memory).
  std::size_t max_in_flight_bytes_per_connection = 16u << 20;
  /// Bytes (keys, values, queries) and count of calls in flight on the whole
  /// gateway; past either, a call is answered `overloaded` at once.
  std::size_t max_in_flight_bytes = 64u << 20;
  std::size_t max_in_flight_calls = 100'000;

  /// Online backups (`snapshot`, README "Backup and restore"): the cluster
  /// id their header carries (32 bytes; zeros when the node has none), how
  /// long taking one may wait for the leader, the size of a streamed piece,
  /// and how long a stream may go without a pull before the node ends it.
  std::string cluster_id = std::string(32, '\0');
  std::chrono::milliseconds backup_timeout{60'000};
  std::size_t backup_chunk_bytes = 1u << 20;
  std::chrono::milliseconds backup_stall_timeout{30'000};
  /// Whether a follower fetches a backup from the leader (in one process,
  /// the embedded default) or answers notLeader so the client asks the
  /// leader's node itself (a cluster: the whole state would otherwise cross
  /// the peer links, ahead of votes and heartbeats and over their budget).
  bool forward_backups = true;

  /// Whether the keepAlive calls of one turn go to the log as one command
  /// (lock::keep_alive_many) rather than one each. Off only to compare.
  bool coalesce_keep_alives = true;
};

}  // namespace ballot::gateway
