#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "actors/lock/types.hpp"
#include "runtime/client/client.hpp"
#include "runtime/client/session.hpp"
#include "runtime/discovery/member.hpp"

namespace ballot::discovery {

struct registration_options {
  /// The session's TTL: how long the key outlives a worker that died without
  /// closing it (killed, frozen, cut off). The session keeps itself alive on
  /// the keeper's rules (`lock::keeper_config::defaults_for(ttl)`: jeopardy
  /// after TTL - TTL/4 without a confirmed keep-alive, lost after the TTL).
  std::chrono::milliseconds ttl{5000};
  /// Wait before trying again after the cluster did not answer.
  std::chrono::milliseconds retry{500};
  /// What went wrong and what was done about it (e.g. "session lost,
  /// registering again"); called from the registration's thread.
  std::function<void(const std::string&)> log;
};

/// The worker side of discovery: keeps `key` = `value` in the cluster as an
/// ephemeral key bound to a session that it keeps alive, so the key is there
/// while this process lives and vanishes when it stops (closed at once on
/// destruction; at most the TTL after a kill -9). If the session is lost
/// (expired while the worker was cut off or frozen), the key went with it:
/// the registration opens a new session and puts the key again.
///
/// A thread of its own does the (blocking) client calls; the client must
/// outlive the registration.
class registration {
 public:
  /// Starts registering at once; returns without waiting (`wait_registered`).
  registration(client::client& c, std::string key, std::string value,
               registration_options opts = {});

  /// The usual key and value: `<prefix><name>` = `encode(address)`.
  registration(client::client& c, const std::string& prefix, const std::string& name,
               const member_address& address, registration_options opts = {});

  /// Closes the session (deleting the key) and stops the thread.
  ~registration();

  registration(const registration&) = delete;
  registration& operator=(const registration&) = delete;

  /// Waits until the key is in the cluster; false after `timeout`.
  bool wait_registered(std::chrono::milliseconds timeout) const;

  /// The key is in the cluster (as far as the registration knows).
  bool registered() const;

  /// The health of the session the key is bound to, as its keeper last
  /// reported it: in jeopardy the key may vanish any moment (the cluster may
  /// expire the session); expired while there is no session.
  client::session_health health() const;

  /// The session the key is bound to now (0 while there is none).
  lock::session_id session() const;

  /// How often the key was put (1 once registered; more after lost sessions
  /// or value updates).
  std::uint64_t puts() const;

  const std::string& key() const;

  /// Puts a new value (e.g. another weight) under the same session, soon.
  void update(std::string value);

 private:
  struct state;
  std::shared_ptr<state> st_;
};

}  // namespace ballot::discovery
