#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "actors/lock/command.hpp"
#include "actors/service/service_machine.hpp"
#include "tests/sim/node_clocks.hpp"

namespace ballot::sim {

class lock_host;

/// The lock workload's checks of time (see lease_oracle.cpp):
///  - lease: a session nobody renews is gone by the first command a leader
///    stamps once its lease clock must have passed the session's deadline:
///    the newest command it applied, at that command's log time, plus what
///    elapsed since at its clock's rate, plus two ticks;
///  - lock-delay: after a holder's session expires at log time E, nobody is
///    granted that lock at a log time before E + the holder's delay.
class lease_oracle {
 public:
  lease_oracle(lock_host& host, const node_clocks& clocks, lock::time_ms grace_ms);

  /// `node` applied command #index now (or restored a snapshot up to it).
  void on_applied(paxos::node_id node, std::size_t index);
  void on_restored(paxos::node_id node, std::size_t index);
  /// Leader `node`, having applied `applied` commands, stamped `payload` now.
  void on_stamped(const std::string& payload, paxos::node_id node, std::size_t applied);
  /// Command #index entered the one history (its first application).
  void on_first_apply(std::size_t index, const std::string& payload, const lock::command& cmd,
                      const std::string& result, const service::change* ch,
                      const service::service_machine& sm);

  std::size_t checked() const { return checked_; }
  std::size_t delays() const { return delays_; }

 private:
  struct renewal {
    std::size_t index = 0;       ///< the last open or keep-alive applied
    std::size_t open_index = 0;  ///< the open
    lock::time_ms ttl = 0;
  };
  struct stamp_info {
    paxos::node_id node = 0;
    std::uint64_t at = 0;  ///< true time
    std::size_t applied = 0;
  };

  void check_lease(std::size_t index, const stamp_info& st, const service::service_machine& sm);
  void check_delay(std::size_t index, const service::change* ch,
                   const service::service_machine& sm);

  lock_host& host_;
  const node_clocks& clocks_;
  lock::time_ms grace_;
  /// Per node, when it applied each command (index - 1), this incarnation.
  std::map<paxos::node_id, std::vector<std::uint64_t>> applied_at_;
  std::map<std::string, stamp_info> stamped_;
  std::map<lock::session_id, renewal> renewals_;
  /// The log time after each command of the history (index - 1).
  std::vector<lock::time_ms> log_times_;
  /// The index of every leader_change in the history.
  std::set<std::size_t> leader_changes_;
  /// Holders (session -> their lock-delay and mode) per lock after the last command.
  std::map<std::string, std::map<lock::session_id, std::pair<lock::time_ms, lock::lock_mode>>>
    holders_;
  /// Per lock: no grant before this log time (an expired holder's delay).
  std::map<std::string, lock::time_ms> delay_until_;
  std::size_t checked_ = 0, delays_ = 0;
};

}  // namespace ballot::sim
