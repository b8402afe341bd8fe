#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/peer/frame.hpp"
#include "runtime/peer/peer_policy.hpp"

/// The peer port: framed messages between members over TCP, with mutual TLS
/// when given a CA and this member's certificate and key. It runs on its own
/// KJ event-loop thread and knows nothing of CAF: it moves frames, and the
/// caller (see peer_service) turns them into actor messages.
///
/// Each member dials every other member and sends only on the connection it
/// dialed; it receives only on connections it accepted. So a frame's sender
/// is whoever the accepted connection authenticated (certificate common name
/// `member-<id>`, or with insecure peers the hello frame's id; either way
/// the hello must carry this cluster's id), and the
/// dialer checks that the server it reached is the member it meant
/// (certificate name `member-<id>`) before sending it anything.
namespace ballot::peer {

struct tls_material {
  std::string ca_pem;    ///< the cluster CA: the only issuer trusted
  std::string cert_pem;  ///< this member's certificate (CN and SAN DNS member-<id>)
  std::string key_pem;
};

struct transport_options {
  std::uint32_t self = 0;
  /// Every member's peer address ("host", port), this one's included (it listens there).
  std::map<std::uint32_t, std::pair<std::string, std::uint16_t>> members;
  /// Without it, the hello naming the member is all there is: no authentication.
  std::optional<tls_material> tls;
  /// The raw bytes of the cluster id: every connection starts with a hello
  /// carrying it (TLS or not), and one from another cluster is refused
  /// (`foreign_cluster`).
  std::string cluster_id;
  /// Bytes queued for one member before frames for it are dropped.
  std::size_t budget_bytes = std::size_t{64} << 20;
  /// Without TLS, a frame of at most this many bytes sent while nothing
  /// waits for that member is written by the caller's thread at once (a
  /// non-blocking send), and the transport's thread is not woken for it;
  /// what the socket does not take is queued for that thread as usual.
  /// 0: every frame goes through that thread.
  std::size_t direct_write_bytes = 512;
  std::size_t max_inbound_connections = 64;
  /// A connection must finish TLS (or send its hello) within this.
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds first_backoff{100};
  std::chrono::milliseconds max_backoff{2'000};
  /// Called on the transport's thread with each frame that passed the checks
  /// (a member's connection, `from` is that member); returns a reason when
  /// the frame is dropped after all (its payload does not decode).
  std::function<std::optional<drop_reason>(std::uint32_t member, frame&&)> on_frame;
  /// Receives each operator line (rate-limited by the transport) instead of
  /// the process's logger (runtime/log), which gets them with their level
  /// and fields (peer_connected, peer_lost, ...) when this is empty.
  std::function<void(const std::string&)> log;
};

class transport {
 public:
  enum class send_result { queued, not_connected, over_budget };

  /// Listens and starts dialing. Throws std::runtime_error when it cannot
  /// listen or the TLS material does not load (the message says which).
  static std::shared_ptr<transport> start(transport_options opts);

  ~transport();

  /// Queues a whole frame for `member`; thread-safe.
  send_result send(std::uint32_t member, std::vector<char> frame);

  /// The members changed (every member, this one included, with its peer
  /// address): dials the new ones, closes the links to those gone and takes
  /// frames only from the members named. Thread-safe (not from the
  /// transport's own thread); waits until the transport's thread applied it.
  void set_members(std::map<std::uint32_t, std::pair<std::string, std::uint16_t>> members);

  /// Whether a connection to `member` is up (thread-safe; changes any time).
  bool connected(std::uint32_t member) const;

  /// How often the connection to `member` went down (thread-safe): frames
  /// queued for it before a change of this number may be lost.
  std::uint64_t resets(std::uint32_t member) const;

  drop_counters& counters();

  /// Frames the senders' threads wrote whole (transport_options::
  /// direct_write_bytes), since start; the rest went through the loop.
  std::uint64_t direct_frames() const;

  /// Closes every connection and joins the thread; later sends are refused.
  void stop();

  /// The port actually listened on.
  std::uint16_t port() const;

  struct impl;

 private:
  explicit transport(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace ballot::peer
