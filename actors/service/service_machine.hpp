#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/auth/auth_store.hpp"
#include "actors/kv/byte_codec.hpp"
#include "actors/kv/event_history.hpp"
#include "actors/kv/request.hpp"
#include "actors/kv/shared_event.hpp"
#include "actors/lock/command.hpp"
#include "actors/lock/lock_service.hpp"
#include "actors/lock/types.hpp"
#include "actors/paxos/state_machine.hpp"

/// Ballot's product state machine: the key/value API and the lock service
/// over one key namespace, so ephemeral keys show up in `get` and `list`, and
/// a watch sees every change, whichever API made it.
namespace ballot::service {

/// What one applied command changed, as the node's watchers and waiting lock
/// calls need to know it.
struct change {
  /// The key space's revision after the command.
  std::uint64_t revision = 0;
  /// The key changes it made, in revision order.
  std::vector<kv::shared_event> events;
  /// The key space's history (which holds these events already): watches
  /// read it directly, on their own thread. A restore brings a new one.
  std::shared_ptr<const kv::event_history> history;
  /// Locks it handed to waiters (also the immediate grant of an acquire).
  std::vector<lock::grant> grants;
  /// Sessions it expired.
  std::vector<lock::session_id> expired;
  /// The whole state was replaced (a snapshot was installed): watchers must
  /// re-read history from `revision`'s point of view.
  bool reset = false;
  /// Set when users, roles or the enabled flag changed (and after a
  /// restore): a copy the gateway checks requests against.
  std::shared_ptr<const auth::auth_store> auth;
};

/// Dispatches by the first byte: key/value requests (`kv/command_codec`,
/// tags 1..4), lock commands and queries (`lock/lock_codec`, 0x11.. and
/// 0x51..) and user/role commands and the auth query (`auth/auth_codec`,
/// 0x31.. and 0x61). Answers are encoded in the codec of the request.
///
/// As the leader's hooks it stamps the leader's clock into lock commands,
/// proposes a `leader_change` grace when elected, and a `tick` whenever a
/// session may have expired or a lock-delay ended.
class service_machine final : public paxos::state_machine {
 public:
  using observer = std::function<void(const change&)>;

  static constexpr lock::time_ms default_grace_ms = 5'000;
  /// A leader whose clock is this far ahead of the log's time proposes a
  /// tick even when no session or lock-delay is due: key/value writes carry
  /// no stamp, so without it the log's time (which ages the dedup table's
  /// clients) would stand still in a cluster without lock traffic.
  static constexpr lock::time_ms log_time_step_ms = 10'000;

  /// Caps the leader applies before proposing (see `admit`); 0 = none.
  struct limits {
    std::size_t max_sessions = 250'000;
    std::size_t max_waiters_per_lock = 10'000;
  };

  explicit service_machine(lock::time_ms grace_ms = default_grace_ms);
  service_machine(lock::time_ms grace_ms, limits caps);

  /// Refuses (`limit_reached`) an open_session past `max_sessions` live
  /// sessions and a waiting acquire past `max_waiters_per_lock` waiters.
  std::optional<std::string> admit(const std::string& payload) const override;

  std::string apply(const std::string& payload) override;
  std::string query(const std::string& request) const override;
  std::optional<std::string> snapshot() const override;
  /// The state as of now (issue 9): the auth and lock sections encoded at
  /// once (small), the key space copied with its values shared; encoded
  /// later, on another thread, into exactly `snapshot`'s bytes.
  std::shared_ptr<const paxos::frozen_state> freeze() const override;
  void restore(const std::string& snapshot) override;
  counts describe() const override;

  void stamp(paxos::shared_payload& payload, std::uint64_t now_ms) const override;
  /// A lock command's fingerprint leaves out the leader's stamp: a retry
  /// stamped by another leader is the same command.
  std::uint64_t fingerprint(const std::string& payload) const override;
  /// The key space's bytes; puts (plain or ephemeral) grow it.
  std::uint64_t state_bytes() const override;
  bool grows(const std::string& payload) const override;
  /// The lock service's log time (the newest stamp applied).
  std::uint64_t log_time_ms() const override { return locks_.now(); }
  std::vector<std::string> leader_commands(std::uint64_t now_ms, bool elected) const override;

  /// Called after every applied command that changed keys or locks, and
  /// after a restore, on the thread that applies (the replica's). One only.
  void set_observer(observer obs) { observer_ = std::move(obs); }

  const lock::lock_service& locks() const { return locks_; }
  const auth::auth_store& auth() const { return auth_; }

 private:
  /// What `snapshot` writes before the key space.
  void save_head(kv::detail::writer& w) const;
  /// Why a write may not apply by the users and roles at this point of the
  /// log (revoked or changed since a gateway checked it); nullopt if it may.
  std::optional<std::string> refused_at_apply(const kv::request& req) const;
  std::optional<std::string> refused_at_apply(const lock::command& cmd) const;

  lock::lock_service locks_;
  auth::auth_store auth_;
  lock::time_ms grace_ms_;
  limits caps_;
  observer observer_;
};

}  // namespace ballot::service
