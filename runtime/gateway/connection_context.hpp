#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace ballot::gateway {

/// Who is on the other end of one client connection, as far as the gateway
/// knows: one per accepted connection, owned by that connection's capability
/// (connection_service.hpp) and handed to every call the connection makes, so
/// that checks (authentication, permissions, audit) can ask who is calling.
///
/// It lives as long as the connection's capability, and Cap'n Proto keeps a
/// capability's server alive while any of its calls runs: a call may hold a
/// reference to it until the call's promise completes or is cancelled.
/// Only the gateway's KJ thread touches it.
struct connection_context {
  /// The client's address without the port (as peer_address gives it).
  std::string address;
  /// The common name of the client certificate the TLS handshake verified
  /// against the client CA; empty without client TLS or without a certificate.
  std::string cert_common_name;
  /// The user this connection authenticated as; empty = anonymous.
  std::string user;
  /// Secrets of the sessions this connection opened (at most
  /// `max_remembered_sessions`): a call on one of them that names no secret
  /// (a client written before secrets existed) gets it from here, so such
  /// clients keep working on their own connection while a guessed id from
  /// any other connection stays useless.
  std::map<std::uint64_t, std::uint64_t> session_secrets;
  static constexpr std::size_t max_remembered_sessions = 1024;
};

}  // namespace ballot::gateway
