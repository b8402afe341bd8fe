#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "actors/paxos/replica.hpp"

namespace ballot::testing {

/// A state machine that records its log; the result is the log's length.
class log_machine : public paxos::state_machine {
 public:
  std::string apply(const std::string& payload) override {
    log.push_back(payload);
    return std::to_string(log.size());
  }
  std::optional<std::string> snapshot() const override {
    std::string out;
    for (auto& p : log)
      out += p + "\n";
    return out;
  }
  void restore(const std::string& snap) override {
    log.clear();
    for (std::size_t start = 0; start < snap.size();) {
      auto end = snap.find('\n', start);
      log.push_back(snap.substr(start, end - start));
      start = end + 1;
    }
  }
  std::vector<std::string> log;
};

/// N replica cores over an instant, in-memory, FIFO network with the knobs of
/// etcd raft's test network: cut a node off, drop chosen messages, crash and
/// restart a node from what it persisted. For unit tests and the core benchmark.
class local_cluster {
 public:
  explicit local_cluster(std::size_t n, paxos::config base = {}) : base_(std::move(base)) {
    base_.members.clear();
    for (paxos::node_id id = 1; id <= n; ++id)
      base_.members.push_back(id);
    for (auto id : base_.members)
      start(id);
    ids_ = base_.members;
  }

  paxos::replica& node(paxos::node_id id) { return *nodes_.at(id).core; }
  const std::vector<std::string>& log(paxos::node_id id) { return nodes_.at(id).machine->log; }
  const paxos::durable_state& disk(paxos::node_id id) { return nodes_.at(id).disk; }
  bool up(paxos::node_id id) const {
    auto it = nodes_.find(id);  // a member added but not started yet is down
    return it != nodes_.end() && it->second.core != nullptr;
  }

  /// Replies to clients, in the order the replicas sent them.
  std::vector<paxos::client_reply> replies;
  /// Read results, in the order the replicas produced them.
  std::vector<paxos::read_result> reads;
  /// Every ready taken, for tests of the persist-before-send contract.
  std::function<void(paxos::node_id, const paxos::ready&)> on_ready;
  /// Messages for which this returns true are lost.
  std::function<bool(const paxos::envelope&)> drop_if;

  void isolate(paxos::node_id id) { isolated_.insert(id); }
  void heal() { isolated_.clear(); }

  void crash(paxos::node_id id) {
    nodes_.at(id).core.reset();
    nodes_.at(id).machine.reset();
  }
  void restart(paxos::node_id id) { start(id); }

  /// Starts node `id` as one that `ballotd --join` starts: empty, a learner
  /// until its log promotes it, taking messages from the running members.
  void join(paxos::node_id id) {
    auto& n = nodes_[id];
    n.joining = true;
    n.peers = ids_;
    ids_.push_back(id);
    start(id);
  }
  /// Plays a lost data directory (or, with `damaged`, one whose recovery
  /// set damage aside) on a crashed node.
  void wipe(paxos::node_id id, bool damaged = false) {
    nodes_.at(id).disk = paxos::durable_state{};
    nodes_.at(id).disk.damaged = damaged;
  }

  void propose(paxos::node_id id, paxos::command cmd) {
    node(id).propose(std::move(cmd));
    flush(id);
  }

  /// A membership change asked of `id` under `token` (its request id too).
  void change(paxos::node_id id, std::uint64_t token, paxos::member_change c) {
    c.token = token;
    node(id).change_members(c);
    flush(id);
  }

  void read(paxos::node_id id, std::uint64_t read_id) {
    node(id).read(read_id);
    flush(id);
  }

  /// Hands `env` to its addressee at once, as if from the network (a forged
  /// or corrupt message in the tests of input_check).
  void inject(const paxos::envelope& env) {
    node(env.to).step(env);
    flush(env.to);
  }

  /// Delivers messages until the network is quiet.
  void deliver() {
    while (!wire_.empty()) {
      auto env = std::move(wire_.front());
      wire_.pop_front();
      // A message to itself (its own vote or promise, handed back by its
      // driver once durable) is a mailbox message: never isolated nor dropped.
      bool own = env.to == env.from;
      if (!up(env.to) || (!own && (isolated_.count(env.to) || isolated_.count(env.from) ||
                                   (drop_if && drop_if(env)))))
        continue;
      node(env.to).step(env);
      flush(env.to);
    }
  }

  /// `n` rounds of: every live node ticks, then the network drains.
  void run(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      for (auto id : ids_)
        if (up(id)) {
          node(id).tick();
          flush(id);
        }
      deliver();
    }
  }

  /// The live leader with the highest ballot, if any.
  std::optional<paxos::node_id> leader() {
    std::optional<paxos::node_id> best;
    for (auto id : ids_)
      if (up(id) && !isolated_.count(id) && node(id).is_leader() &&
          (!best || node(*best).promised() < node(id).promised()))
        best = id;
    return best;
  }

  /// Runs until a leader exists (at most `limit` ticks).
  std::optional<paxos::node_id> elect(std::size_t limit = 200) {
    for (std::size_t i = 0; i < limit && !leader(); ++i)
      run(1);
    return leader();
  }

 private:
  struct node_state {
    paxos::durable_state disk;
    std::unique_ptr<log_machine> machine;
    std::unique_ptr<paxos::replica> core;
    std::uint64_t incarnation = 0;
    bool joining = false;
    std::vector<paxos::node_id> peers;
  };

  void start(paxos::node_id id) {
    auto& n = nodes_[id];
    auto cfg = base_;
    cfg.id = id;
    cfg.seed = base_.seed * 31 + std::uint64_t{id} * 7 + n.incarnation;
    cfg.incarnation = ++n.incarnation;
    cfg.joining = n.joining && n.disk.holds_nothing();
    cfg.peers = n.peers;
    n.machine = std::make_unique<log_machine>();
    n.core = std::make_unique<paxos::replica>(cfg, n.disk, *n.machine);
  }

  void flush(paxos::node_id id) {
    auto& n = nodes_.at(id);
    auto r = n.core->take_ready();
    if (on_ready)
      on_ready(id, r);
    r.persist_to(n.disk);
    for (auto& env : r.messages)
      wire_.push_back(std::move(env));
    for (auto& reply : r.replies)
      replies.push_back(std::move(reply));
    for (auto& rd : r.reads)
      reads.push_back(rd);
  }

  paxos::config base_;
  /// Every node started (the bootstrap ones, then those that joined).
  std::vector<paxos::node_id> ids_;
  std::map<paxos::node_id, node_state> nodes_;
  std::deque<paxos::envelope> wire_;
  std::set<paxos::node_id> isolated_;
};

}  // namespace ballot::testing
