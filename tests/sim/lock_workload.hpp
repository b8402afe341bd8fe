#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "actors/lock/types.hpp"
#include "actors/service/service_machine.hpp"
#include "tests/sim/lease_oracle.hpp"
#include "tests/sim/node_clocks.hpp"
#include "tests/sim/oracle.hpp"

/// The lock-service workload of the simulator (`ballot-sim --workload lock`):
/// every replica runs the product's `service::service_machine`, the driver
/// calls its leader hooks like the replica actor does, and simulated clients
/// open sessions, keep them alive, pause, hang, crash, lock, do fenced
/// read-modify-writes on a simulated downstream store, put ephemeral keys and
/// watch prefixes. The checks are described in lock_workload.cpp.
namespace ballot::sim {

/// What the lock workload needs from the simulated cluster.
class lock_host {
 public:
  virtual ~lock_host() = default;
  /// True (simulated) time in milliseconds; clients measure intervals with it.
  virtual std::uint64_t now_ms() const = 0;
  virtual std::uint64_t below(std::uint64_t n) = 0;
  /// Starts a command (a lock-codec payload) on an endpoint: one Paxos client
  /// id with at most one request in flight, retried until it is answered.
  virtual void start_command(std::size_t endpoint, const std::string& payload) = 0;
  /// Starts a linearizable read (a lock-codec query) on an endpoint.
  virtual void start_read(std::size_t endpoint, const std::string& query) = 0;
  /// Stops waiting for the endpoint's request; a late answer is ignored.
  virtual void abandon(std::size_t endpoint) = 0;
  /// Gives the endpoint a fresh client id (a restarted client process).
  virtual void renew(std::size_t endpoint) = 0;
  virtual bool busy(std::size_t endpoint) const = 0;
  /// Runs `fn` after `delay_ms` of simulated time.
  virtual void after(std::uint64_t delay_ms, std::function<void()> fn) = 0;
  /// The network's current largest message delay (for the downstream store).
  virtual std::uint64_t max_delay_ms() const = 0;
  virtual void trace(const std::string& line) = 0;
  virtual void fail(std::string what) = 0;
  virtual bool failed() const = 0;
};

class lock_workload;

/// The lock command inside a payload's envelope ("client:seq|<lock command>").
std::string lock_payload(const std::string& payload);

/// A replica's state machine in the lock workload: the product's
/// service_machine, unchanged, inside an envelope. Payloads travel as
/// "client:seq|<lock command>" so that the oracle can tell commands apart
/// (two clients' identical lock commands would otherwise look like one
/// command applied twice); the envelope is stripped before the service
/// machine sees a command, and the leader's stamp rewrites only the command.
class lock_machine final : public paxos::state_machine {
 public:
  lock_machine(lock_workload& wl, oracle& o, node_id node, lock::time_ms grace_ms);

  std::string apply(const std::string& payload) override;
  std::string query(const std::string& request) const override;
  /// `count\n` then the service machine's snapshot.
  std::optional<std::string> snapshot() const override;
  void restore(const std::string& snapshot) override;
  void stamp(paxos::shared_payload& payload, std::uint64_t now_ms) const override;
  std::vector<std::string> leader_commands(std::uint64_t now_ms, bool elected) const override;
  /// The service machine's, of the payload inside the envelope (so a
  /// restamped retry is the same command), mixed with the envelope.
  std::uint64_t fingerprint(const std::string& payload) const override;
  std::uint64_t log_time_ms() const override { return svc_.log_time_ms(); }

  const service::service_machine& service() const { return svc_; }
  /// Commands applied so far (the history position of the state).
  std::size_t applied() const { return applied_; }

 private:
  lock_workload& wl_;
  oracle& oracle_;
  node_id node_;
  service::service_machine svc_;
  std::size_t applied_ = 0;
  std::optional<service::change> change_;
};

struct lock_stats {
  std::size_t sessions = 0;        ///< sessions opened
  std::size_t grants = 0;          ///< grants applied (first time in the history)
  std::size_t expiries = 0;        ///< sessions expired
  std::size_t leader_changes = 0;  ///< elections whose grace command was applied
  std::size_t writes = 0;          ///< fenced writes the store accepted
  std::size_t fenced = 0;          ///< store accesses the fence rejected
  std::size_t late_writes = 0;     ///< accepted writes of a superseded holder (see .cpp)
  std::size_t stale_holders = 0;   ///< store accesses by a holder whose session had expired
  std::size_t watch_events = 0;    ///< events delivered to watchers and checked
  std::size_t pauses = 0, hangs = 0, crashes = 0;
  std::size_t lost_grace = 0;                    ///< terms whose grace command was never chosen
  std::size_t clock_steps = 0, clock_jumps = 0;  ///< wall-clock steps, monotonic jumps
  std::size_t lease_checks = 0;                  ///< (command, session) pairs of the lease check
  std::size_t lock_delays = 0;                   ///< lock-delays started by an expiry
  /// Waiting acquires (acquire_waiter): granted to a look, withdrawn at the
  /// deadline, and granted although the withdraw went out (a grant raced it).
  std::size_t waits_granted = 0, waits_withdrawn = 0, late_grants = 0;
  /// Coalesced keep-alives: `keep_alive_many`s sent by the gateway, those of
  /// them with more than one session, and sessions they carried.
  std::size_t ka_batches = 0, ka_multi_batches = 0, ka_batched = 0;
};

class lock_workload {
 public:
  /// Draws the run's parameters (clock skews, TTLs, grace, fault rates) from `host`.
  lock_workload(lock_host& host, oracle& o, std::size_t clients, std::size_t nodes);
  ~lock_workload();

  /// Endpoints (Paxos client ids) the clients use: three per client.
  std::size_t endpoints() const;
  /// The nodes' wall and monotonic clocks, with their faults, and the lease
  /// clocks their drivers keep.
  node_clocks& clocks() { return *clocks_; }
  /// The leader's housekeeping period, in ticks.
  std::uint64_t housekeeping_ticks() const { return house_ticks_; }

  std::unique_ptr<lock_machine> make_machine(node_id node);

  // The driver's view of leadership, for the grace check.
  /// `node` became leader (a new term) with its clock at `clock_ms` and
  /// proposes `payloads` (its state machine's election commands).
  void on_elected(node_id node, std::uint64_t term, std::uint64_t clock_ms,
                  const std::vector<std::string>& payloads);
  /// The leader of `term`, `node`, having applied `applied` commands, stamped
  /// (or proposed) this exact payload with `clock_ms`.
  void on_stamped(const std::string& payload, std::uint64_t term, std::uint64_t clock_ms,
                  node_id node, std::size_t applied);

  /// An endpoint's request was answered (command result or query answer).
  void on_reply(std::size_t endpoint, const std::string& result);
  /// Whether the endpoint's client is paused, hung or down (it retries nothing).
  bool paused(std::size_t endpoint) const;
  /// One tick of client activity; `faults` is false once the run heals
  /// (clients then only finish what they started, release and close).
  void drive(bool faults);
  /// Clients are done, watchers caught up, and every live replica's service
  /// holds no session, lock or ephemeral key.
  bool settled(const std::vector<const lock_machine*>& live) const;
  /// Final agreement and emptiness checks over the live replicas.
  void check_final(const std::vector<const lock_machine*>& live);
  /// Why the run did not settle (for the liveness failure).
  std::string stuck(const std::vector<const lock_machine*>& live) const;
  lock_stats stats() const;

  /// Text of a lock payload (with or without envelope) for traces.
  static std::string show(const std::string& payload);

  // Called by lock_machine.
  void on_applied(node_id node, std::size_t index, const std::string& payload,
                  const std::string& result, const service::change* ch,
                  const service::service_machine& sm);
  void on_snapshot(std::size_t index, const std::string& service_snapshot);
  void on_restored(node_id node, std::size_t index, const std::string& service_snapshot,
                   const service::service_machine& sm);

 private:
  struct client;
  struct session_info;
  struct term_info;

  void check_state(node_id node, std::size_t index, const service::service_machine& sm);
  void first_apply(std::size_t index, const std::string& payload, const std::string& result,
                   const service::change* ch, const service::service_machine& sm);
  void on_expired(lock::session_id s, lock::time_ms at, std::size_t index,
                  const std::string& payload);

  void restart(client& c);
  void maybe_fault(client& c);
  void keep_alive(client& c);
  /// Sends the keep-alives the clients handed over as `keep_alive_many`s,
  /// one per free gateway endpoint (runs that coalesce, like a gateway).
  void flush_keep_alives();
  void on_batch_reply(std::size_t gateway, const std::string& bytes);
  void step(client& c);
  void watch(client& c);
  void handle(std::size_t client_index, std::size_t which, const std::string& bytes);
  void on_keep_alive(client& c, const std::string& bytes);
  void on_op(client& c, const std::string& bytes);
  void on_watch(client& c, const std::string& bytes);
  /// An answer to a waiting acquire's look or withdraw, fed to its waiter.
  void on_wait_reply(client& c, const std::string& bytes);
  void session_lost(client& c);
  void got_lock(client& c, std::uint64_t token);
  void store_access(client& c, bool write);
  void on_store_reply(std::size_t client_index, std::uint64_t incarnation, bool write,
                      bool accepted, std::uint64_t value);
  void send(client& c, std::size_t endpoint, const std::string& payload);
  bool strict(const client& c) const;
  bool healthy(const client& c) const;
  client* owner(lock::session_id s);
  void trace(const client& c, const std::string& what);

  lock_host& host_;
  oracle& oracle_;
  std::vector<client> clients_;
  std::unique_ptr<node_clocks> clocks_;
  std::unique_ptr<lease_oracle> lease_;
  std::uint64_t house_ticks_ = 1;
  lock::time_ms grace_ = 0;
  lock::time_ms ttl_lo_ = 0, ttl_hi_ = 0;
  std::size_t names_ = 1;
  lock::time_ms max_lock_delay_ = 0;
  std::uint64_t pause_rate_ = 0, hang_rate_ = 0, crash_rate_ = 0;  ///< per million ticks
  bool faults_ = true;

  /// Runs that coalesce hand keep-alives to a gateway, which sends them as
  /// one `keep_alive_many` per free gateway endpoint (after the clients').
  bool coalesce_ = false;
  static constexpr std::size_t gateway_endpoints = 2;
  struct handed_keep_alive {
    std::size_t client = 0;
    std::uint64_t incarnation = 0;
    lock::session_id session = 0;
    std::uint64_t ticket = 0;
  };
  std::vector<handed_keep_alive> ka_pending_;
  std::vector<handed_keep_alive> ka_in_flight_[gateway_endpoints];

  // The one history, as the first replica to apply each command saw it.
  std::size_t applied_ = 0;
  std::vector<kv::event> events_;                    ///< events_[r - 1] is revision r
  std::vector<std::uint64_t> revisions_;             ///< the key revision after each command
  std::map<std::string, std::uint64_t> last_token_;  ///< per lock name
  /// (name, token) -> (session, mode) of every grant ever applied.
  std::map<std::pair<std::string, std::uint64_t>, std::pair<lock::session_id, lock::lock_mode>>
    grants_;
  std::map<lock::session_id, lock::time_ms> expired_at_;
  std::map<lock::session_id, std::unique_ptr<session_info>> sessions_;
  std::map<std::uint64_t, std::unique_ptr<term_info>> terms_;
  /// Exact payload -> (term, stamp) of the leader that proposed it.
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> stamped_;
  std::map<std::size_t, std::string> snapshots_;  ///< index -> service snapshot

  // The downstream store: per lock name, the highest token it has seen.
  struct store_entry {
    std::uint64_t highest = 0;
    std::uint64_t last_accepted = 0;
    std::uint64_t value = 0;
    std::uint64_t writes = 0;
  };
  std::map<std::string, store_entry> store_;
  std::size_t store_in_flight_ = 0;

  lock_stats stats_;
};

}  // namespace ballot::sim
