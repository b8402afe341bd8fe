#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "actors/paxos/acceptor.hpp"
#include "actors/paxos/config.hpp"
#include "actors/paxos/election_timer.hpp"
#include "actors/paxos/input_check.hpp"
#include "actors/paxos/learner.hpp"
#include "actors/paxos/member_report.hpp"
#include "actors/paxos/proposer.hpp"
#include "actors/paxos/quorum_contact.hpp"
#include "actors/paxos/read_index.hpp"
#include "actors/paxos/ready.hpp"
#include "actors/paxos/rejoin.hpp"

namespace ballot::paxos {

/// One node of a Multi-Paxos group: acceptor, proposer and learner wired
/// together, plus failure detection. Pure: the driver feeds it inputs
/// (`tick`, `step`, `propose`) and carries out the outputs of `take_ready`
/// (persist first, then send). Messages a replica sends to itself are handled
/// inside, so a single replica never needs the network to talk to itself.
class replica {
 public:
  /// Builds a replica from what it persisted before (empty for a new node).
  replica(const config& cfg, const durable_state& disk, state_machine& sm);

  replica(const replica&) = delete;
  replica& operator=(const replica&) = delete;

  /// Advances logical time by one tick.
  void tick();

  /// Handles one message addressed to this replica. A message that fails
  /// the sanity checks of input_check.hpp is dropped and counted.
  void step(const envelope& msg);

  /// Submits a client command. Only a leader orders commands; anyone else
  /// answers `not_leader` with its best guess of the leader.
  void propose(command cmd);

  /// Like `propose`, but the command only joins the queue: it goes into a
  /// slot at the next `flush` (or any other input). A driver that queues
  /// every command waiting in its mailbox and then flushes once puts them
  /// all into one slot instead of one slot each.
  void queue(command cmd);

  /// Puts queued commands into slots (as far as the window allows).
  void flush();

  /// Whether `cmd`'s request id is known here already: applied (as this or
  /// another command), too old for the dedup window, or being ordered. A
  /// driver's admission checks (a quota, a cap) must not refuse such a
  /// retry: `queue` answers it with what really happened.
  bool knows(const command& cmd) const;

  /// Asks the cluster to change its membership (leader only; see
  /// RECONFIGURATION.md). Its request id is (`membership_client`,
  /// `change.token`): the answer is a `ready::replies` entry for it, whose
  /// result is "ok <id>" or "refused: why". A retry must carry the same
  /// token; a change without one is refused as invalid.
  void change_members(const member_change& change);

  /// The membership after the applied slots.
  const paxos::membership& members() const { return learner_.members(); }
  /// Whether this replica votes in the next slot it will learn.
  bool voter() const { return members().at(commit_index() + 1).is_voter(id()); }
  /// This replica was a member and the membership no longer names it: it
  /// takes no part any more (no votes, no elections).
  /// (Its id was given out, so it was added, whether or not it applied a
  /// slot where it was a member: catch-up may skip past both changes.)
  bool removed() const {
    return id() < members().latest().next_id && !members().latest().find(id()) &&
           !members().at(commit_index() + 1).find(id());
  }
  /// The leader's view of how many slots `member` is behind it (nullopt:
  /// not leading, or it never heard from that member).
  std::optional<slot_index> lag(node_id member) const;
  /// The membership as an operator or a joining node sees it (see
  /// member_report.hpp); `known_peers` fills in the peer addresses the
  /// configuration lacks (members bootstrapped by --peers).
  member_report report_members(const std::map<node_id, std::string>& known_peers) const;

  /// Asks to serve a linearizable read. When it is safe, `ready::reads`
  /// carries `id` with status ok, and the driver answers the read from this
  /// replica's state machine at that moment; anyone but the leader answers
  /// not_leader. No log write is involved (see read_index).
  void read(std::uint64_t id);

  /// The outputs accumulated since the last call (see `ready`'s contract).
  ready take_ready();

  node_id id() const { return cfg_.id; }
  proposer::role role() const { return proposer_.current_role(); }
  bool is_leader() const { return role() == proposer::role::leader; }
  /// The leader this replica last heard from (itself when leading).
  std::optional<node_id> leader_hint() const { return leader_; }
  const ballot_number& promised() const { return acceptor_.promised(); }
  slot_index commit_index() const { return learner_.commit_index(); }
  /// Commands waiting for a slot at this leader, and their payload bytes.
  std::size_t queued() const { return proposer_.queued(); }
  std::size_t queued_bytes() const { return proposer_.queued_bytes(); }
  /// Clients in the replicated dedup table.
  std::size_t dedup_clients() const { return learner_.clients(); }
  const value* chosen(slot_index slot) const { return learner_.chosen(slot); }
  /// The applied state at the commit index, as a checkpoint would hold it
  /// (for an online backup); nullopt if the machine takes no snapshots.
  std::optional<paxos::snapshot> snapshot_now() const { return learner_.make_snapshot(); }
  /// Whether this replica is repairing lost state from its peers (see `rejoin`).
  const paxos::rejoin& repair() const { return rejoin_; }
  /// Messages `step` dropped as insane, by reason (see input_check.hpp).
  const rejected_input& rejected() const { return rejected_; }
  /// The highest round this replica knows; a new candidacy takes the next.
  std::uint64_t known_round() const { return max_round_; }
  /// The highest commit index the current leader announced to this follower
  /// (0 when none yet): the target of a catch-up.
  slot_index leader_commit() const { return leader_commit_; }
  /// The slot the state machine's state last compacted into a snapshot.
  slot_index compacted() const { return learner_.compacted(); }

 private:
  void handle(node_id from, const message& msg);
  void on_prepare(node_id from, const prepare& p);
  void on_promise(node_id from, const promise& p);
  void on_accept(node_id from, const accept& a);
  void on_accepted(node_id from, const accepted& a);
  void on_reject(const reject& r);
  void on_heartbeat(node_id from, const heartbeat& h);
  void on_heartbeat_ack(node_id from, const heartbeat_ack& a);
  void on_catchup_request(node_id from, const catchup_request& r);
  void on_catchup_reply(node_id from, const catchup_reply& r);
  void on_install_snapshot(node_id from, const install_snapshot& m);
  void on_state_query(node_id from, const state_query& q);
  void on_state_report(node_id from, const state_report& r);
  /// What this replica holds, for a peer that is rejoining.
  state_report report(std::uint64_t nonce) const;
  /// Asks the members that have not reported yet; requests catch-up while
  /// catching up.
  void advance_repair();
  void apply_repair(const rejoin::decision& d);

  void send(node_id to, message msg);
  void finish_step();

  /// Notes a ballot seen in any message; a higher one deposes this replica.
  void observe(const ballot_number& b);
  /// `keep_queue`: a leader whose voters change re-runs phase 1 with the
  /// new ones, keeping the commands it was asked to order.
  void start_election(bool keep_queue = false);
  /// The last slot the leader may propose in now.
  slot_index proposal_limit() const;
  /// The slot at whose commit this replica takes its next snapshot (by count).
  slot_index next_snapshot_slot() const;
  /// Sends `msg` to every member this replica knows (voters and learners).
  void send_all(const message& msg, bool self_too = true);
  void become_leader();
  void step_down();
  /// Accepts `b` as the current leader's ballot and learns what it committed.
  void follow(node_id leader, const ballot_number& b, slot_index commit);
  void request_catchup(node_id from, bool force);
  /// Asks the members this replica knows, in turn, for what it misses.
  void ask_for_catchup();
  void learn(slot_index slot, const value& val);
  /// Takes a snapshot every `snapshot_interval` applied slots or
  /// `snapshot_bytes` applied payload bytes, whichever comes first.
  void maybe_compact();
  /// Drops votes up to `snap.last` and asks the driver to rewrite its disk
  /// as `snap` plus what lies after it. `installed`: the snapshot came from
  /// a peer, so this replica's log lacks slots it covers.
  /// `retired`: what the learner forgot, to be freed with the state.
  void compact_to(paxos::snapshot snap, bool installed, std::map<slot_index, value> retired = {});
  void reply_applied(std::vector<learner::applied>& done);
  /// Starts a read confirmation round if reads wait for one; serves the
  /// reads that became safe.
  void advance_reads();

  config cfg_;
  acceptor acceptor_;
  learner learner_;
  proposer proposer_;
  election_timer timer_;
  quorum_contact contact_;
  read_index reads_;
  paxos::rejoin rejoin_;
  /// Reads on this leader observe at least every slot it recovered.
  slot_index read_floor_ = 0;
  ready out_;
  std::deque<message> inbox_;
  std::optional<node_id> leader_;
  std::uint64_t max_round_ = 0;
  rejected_input rejected_;
  std::uint64_t ticks_ = 0;
  std::uint32_t heartbeat_elapsed_ = 0;
  /// Highest commit index the current leader announced.
  slot_index leader_commit_ = 0;
  /// Commit index last announced to followers (leader only).
  slot_index announced_commit_ = 0;
  std::optional<std::uint64_t> last_catchup_tick_;
  bool sent_accepts_ = false;
  /// Cleared when the state machine turns out not to support snapshots.
  bool snapshots_supported_ = true;
  /// Commands proposed here that still owe their client a reply, with their
  /// fingerprints (a retry must be the same command).
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::uint64_t> awaiting_;
  /// The leader's view of each member's commit index (from its catch-up
  /// requests), for `lag`.
  std::map<node_id, slot_index> progress_;
  /// The last snapshot sent to each member: its slot and tick. A member
  /// behind the compacted log asks for catch-up every heartbeat while a
  /// snapshot of the whole state is still on its way; each would otherwise
  /// cost the leader another copy of the state and the link another one.
  struct snapshot_sent {
    slot_index last = 0;
    std::uint64_t tick = 0;
    /// Ticks before it may be sent again (grows with its size).
    std::uint64_t wait = 0;
    /// Sent again this many times without the member moving past it.
    std::uint32_t resends = 0;
  };
  std::map<node_id, snapshot_sent> snapshots_sent_;
  /// Whom a learner that hears no leader asks for catch-up next.
  std::size_t catchup_turn_ = 0;
  /// Set while change_members queues its command (the only way one enters).
  bool membership_command_ = false;
};

}  // namespace ballot::paxos
