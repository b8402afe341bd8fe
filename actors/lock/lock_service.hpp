#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "actors/kv/key_space.hpp"
#include "actors/lock/command.hpp"
#include "actors/lock/lock_table.hpp"
#include "actors/lock/result.hpp"
#include "actors/lock/session_table.hpp"
#include "actors/paxos/state_machine.hpp"

namespace ballot::lock {

/// The Chubby-style lock service as a deterministic state machine over the
/// Paxos log: sessions (`session_table`), readers/writer locks with fencing
/// tokens and lock-delay (`lock_table`) and a small key namespace with
/// ephemeral keys and a watchable history (`key_space`).
///
/// Time is log time only. Each command carries the leader's `now`; the state
/// keeps the largest one seen, so time never runs backwards even if a new
/// leader's clock is behind. Before a command acts, time advances to its
/// `now`: sessions whose deadline < now expire (their locks go to the next
/// waiters, with lock-delay; their ephemeral keys are deleted) and finished
/// lock-delays hand their locks on. The command's result reports all of it.
///
/// Payloads and queries are `lock_codec` messages and answers are encoded
/// `result`s. Malformed or invalid input yields bad_request and changes
/// nothing (not even the time): nothing here throws, except `restore` on a
/// damaged snapshot.
class lock_service final : public paxos::state_machine {
 public:
  /// The limits bound the events kept for `events_since` (see `kv::key_space`).
  /// They are part of the replicated state: every replica must be built with
  /// the same values, and `restore` adopts the snapshot's.
  explicit lock_service(std::size_t history_events = kv::key_space::default_history_events,
                        std::size_t history_bytes = kv::key_space::default_history_bytes);

  std::string apply(const std::string& payload) override;

  std::string query(const std::string& request) const override;

  /// The whole state, deterministic (equal states give equal bytes):
  /// `format:u8 (= 1) now:u64` then the session table, the lock table and the
  /// key space, each in its own `save` format.
  std::optional<std::string> snapshot() const override;
  /// Appends what `snapshot` returns to `w` (the service machine's snapshot
  /// puts it after its auth section without a copy).
  void save(kv::detail::writer& w) const;
  /// What `save` writes before the key space (format, time, sessions,
  /// locks): the part a frozen snapshot encodes at once (kv::frozen_keys).
  void save_head(kv::detail::writer& w) const;
  /// The state as of now: the head's bytes and a copy of the key space
  /// that shares its values (kv::frozen_keys).
  std::shared_ptr<const paxos::frozen_state> freeze() const override;

  /// Replaces the whole state with a `snapshot`. Throws std::runtime_error
  /// naming the field and offset if the bytes are not one, and then leaves
  /// the state unchanged.
  void restore(const std::string& snapshot) override;
  /// `restore` of a part of a larger buffer (the service machine's snapshot).
  void restore_bytes(std::string_view snapshot);

  /// Executes one decoded command (what `apply` does after decoding).
  result execute(const command& cmd);

  /// Answers one decoded query.
  result read(const lock::query& q) const;

  /// The latest time of the log.
  time_ms now() const { return now_; }

  const session_table& sessions() const { return sessions_; }
  const lock_table& locks() const { return locks_; }
  const kv::key_space& keys() const { return keys_; }

  /// The key namespace, for the service machine that runs the key/value API
  /// on the same keys (a put there detaches a key from its session).
  kv::key_space& mutable_keys() { return keys_; }

  /// The earliest log time at which a `tick` would change something (a
  /// session expires or a lock-delay ends); nullopt if nothing is pending.
  /// The leader proposes a tick once its clock passes it.
  std::optional<time_ms> next_wakeup() const;

 private:
  /// Whether `cred` may act on session `id`; else sets no_session or
  /// permission_denied in `r`.
  bool may_use(session_id id, const credential& cred, result& r) const;
  void run(const open_session& c, result& r);
  void run(const keep_alive& c, result& r);
  void run(const keep_alive_many& c, result& r);
  void run(const close_session& c, result& r);
  void run(const tick& c, result& r);
  void run(const leader_change& c, result& r);
  void run(const acquire& c, result& r);
  void run(const release& c, result& r);
  void run(const cancel_wait& c, result& r);
  void run(const put_key& c, result& r);
  void run(const delete_key& c, result& r);

  /// Releases what the session holds, cancels its waits, deletes its keys.
  void end_session(session_id id, bool expired, result& r);

  session_table sessions_;
  lock_table locks_;
  kv::key_space keys_;
  time_ms now_ = 0;
};

}  // namespace ballot::lock
