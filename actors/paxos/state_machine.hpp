#pragma once

#include <optional>
#include <string>

/// The interface a replicated service implements to run over the Paxos log.
namespace ballot::paxos {

/// A deterministic state machine. Every replica applies the same commands in
/// the same order, so `apply` must depend only on the state and the command:
/// no clocks, no randomness, no I/O whose result can differ between replicas.
class state_machine {
 public:
  virtual ~state_machine() = default;

  /// Applies one command's payload and returns the result sent to the client.
  virtual std::string apply(const std::string& payload) = 0;

  /// Answers a read-only query against the current state. The replica calls
  /// it only when a linearizable read may be served (see replica::read).
  virtual std::string query(const std::string& /*request*/) const { return {}; }

  /// The whole state as bytes, so the log before it can be dropped and a
  /// replica that fell behind can be sent it; nullopt if this machine does
  /// not support snapshots (then the log is never compacted).
  virtual std::optional<std::string> snapshot() const { return std::nullopt; }

  /// Replaces the whole state with one `snapshot` returned.
  virtual void restore(const std::string& /*snapshot*/) {}
};

}  // namespace ballot::paxos
