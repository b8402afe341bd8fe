#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "actors/paxos/membership.hpp"

// The simulator's operator: membership changes during the faults (see
// actors/paxos/RECONFIGURATION.md). It decides what to ask; the simulation
// carries it out (asks a node, starts a joining node, kills one for good).
namespace ballot::sim {

class reconfigurator {
 public:
  /// What the operator does next.
  struct action {
    enum class kind { none, kill, change } what = kind::none;
    paxos::node_id victim = 0;  ///< kill: this node dies for good (with its disk)
    paxos::member_change change;
    std::uint64_t seq = 0;  ///< change: its request id (the same on every retry)
    /// A remove asked of the leader it removes: cut that leader off as it
    /// asks, for this many ticks (0: no cut). Its peers' votes never reach
    /// it, and another leader finishes the removal behind its back.
    std::uint64_t cut_off_ticks = 0;
  };

  /// Half of the runs reconfigure (drawn from a stream of their own, so the
  /// other half replays exactly as before reconfiguration existed).
  reconfigurator(std::uint64_t seed, std::size_t nodes, bool allowed);

  bool enabled() const { return enabled_; }
  /// Lamport's alpha for the run: small, so changes take effect while the
  /// pipeline and failovers are busy.
  std::uint64_t alpha() const { return alpha_; }

  /// The next thing to do at `tick`, given the configuration the chosen log
  /// has reached. A change is asked again (same seq) until it is answered.
  /// `may_start`: new changes may begin (during the faults); one asked
  /// already is asked again until it is answered, even after them.
  /// `may_kill`: a voter may die for good now (every other member persisted
  /// state, so none needs it for a repair: see rejoin.hpp).
  action next(std::uint64_t tick, const paxos::configuration& latest, bool may_start,
              bool may_kill);

  /// What an answer means for the simulation.
  struct outcome {
    paxos::node_id joined = 0;   ///< an added member: start it
    paxos::node_id removed = 0;  ///< a removed member: it may stop for good
  };
  /// The answer to the change with `seq`: "ok <id>" or "refused: ...".
  outcome on_result(std::uint64_t seq, const std::string& result, std::uint64_t tick);
  /// The change was not taken (not the leader): ask again soon.
  void retry_soon(std::uint64_t tick);
  /// Whether a change is asked and not answered yet.
  bool busy() const { return asked_.has_value(); }

  /// Scenarios started and changes acknowledged (for the report).
  std::size_t scenarios() const { return scenarios_; }
  std::size_t changes() const { return changes_done_; }
  const std::string& describe() const { return description_; }

 private:
  enum class step { kill_voter, add, promote_added, remove_victim, remove_voter, remove_added };
  void plan();
  std::uint64_t below(std::uint64_t n) { return rng_() % n; }

  std::mt19937_64 rng_;
  bool enabled_ = false;
  std::uint64_t alpha_ = 1;
  std::deque<step> steps_;
  std::string description_;
  std::uint64_t not_before_ = 0;
  /// The change in flight: asked, not answered yet.
  std::optional<action> asked_;
  std::uint64_t asked_tick_ = 0;
  std::uint64_t next_seq_ = 1;
  paxos::node_id added_ = 0;
  paxos::node_id victim_ = 0;
  std::size_t scenarios_ = 0;
  std::size_t changes_done_ = 0;
};

}  // namespace ballot::sim
