#pragma once

#include <cstdint>
#include <string>

#include <kj/async-io.h>
#include <kj/timer.h>

#include "runtime/tls/forwarding_stream.hpp"

/// A client connection's stream, watched: when bytes last moved each way, and
/// whether the client has said anything at all. The gateway closes a
/// connection that stays silent past its handshake timeout or idle past its
/// idle timeout, so sockets that only sit there cannot use up the node's
/// connection slots.
namespace ballot::gateway {

class metered_stream final : public tls::forwarding_stream {
 public:
  /// `opened`: when the connection was accepted (before a TLS handshake, if
  /// any, so that the handshake counts against the handshake timeout).
  metered_stream(kj::Own<kj::AsyncIoStream> inner, const kj::Timer& timer, kj::TimePoint opened);

  kj::Promise<size_t> tryRead(void* buffer, size_t min_bytes, size_t max_bytes) override;
  kj::Promise<void> write(const void* buffer, size_t size) override;
  kj::Promise<void> write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) override;

  /// The client sent at least one byte.
  bool heard_from() const { return heard_from_; }
  /// When the connection opened, and when bytes last moved either way.
  kj::TimePoint opened() const { return opened_; }
  kj::TimePoint last_activity() const { return last_activity_; }

 private:
  const kj::Timer& timer_;
  kj::TimePoint opened_;
  kj::TimePoint last_activity_;
  bool heard_from_ = false;
};

/// The peer's address without its port ("127.0.0.1", "::1"), for counting
/// connections per address; "unknown" if the socket cannot tell.
std::string peer_address(kj::AsyncIoStream& stream);

}  // namespace ballot::gateway
