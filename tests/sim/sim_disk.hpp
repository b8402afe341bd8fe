#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "actors/paxos/ready.hpp"
#include "actors/replica/storage.hpp"

namespace ballot::sim {

/// A simulated node's disk behind the production `storage` seam, so that the
/// simulator drives the real commit pipeline (actors/replica) over it.
///
/// It models the page cache: an append that must be synced only reaches the
/// cache; `sync` makes every cached append durable, in order; a crash keeps
/// a prefix of the unsynced appends (the kernel may have flushed some) and
/// loses the rest.
/// Only durable state survives a crash, and the oracle sees each vote the
/// moment it becomes durable (`on_durable`).
class sim_disk final : public actors::storage {
 public:
  /// Called with each append's records as they become durable.
  using durable_fn = std::function<void(const paxos::ready&)>;

  void on_durable(durable_fn fn) { on_durable_ = std::move(fn); }

  paxos::durable_state load() override { return durable_; }

  void append(const paxos::ready& rd) override {
    // Every append waits for a sync, chosen slots included, as the
    // production log may: a crash can lose chosen records written since the
    // last sync (a restart re-learns them). Modelling that loss found a
    // retried promote refused as "behind" for ever (seed 7295, see
    // replica::change_members).
    cache_.push_back(records_of(rd));
  }

  void sync() override {
    auto batch = std::move(cache_);
    cache_.clear();
    for (auto& r : batch)
      make_durable(r);
  }

  /// Appends written since the last sync.
  std::size_t unsynced() const { return cache_.size(); }

  /// The node crashed: its first `survive` unsynced appends had reached the
  /// disk, the others are gone.
  void crash(std::size_t survive) {
    for (std::size_t i = 0; i < survive && i < cache_.size(); ++i)
      make_durable(cache_[i]);
    cache_.clear();
  }

  /// What survives a crash.
  const paxos::durable_state& state() const { return durable_; }

  /// Durable state that a restart need not repair: neither damaged nor empty.
  bool whole() const { return !durable_.damaged && !durable_.holds_nothing(); }

  /// A disk fault with a crash: the data directory is gone (nullopt), or
  /// recovery found damage at a random slot (returned) and set aside that
  /// record and everything after it, and the promise when it was written
  /// after the cut. Draws from `rng`.
  std::optional<paxos::slot_index> fault(std::mt19937_64& rng) {
    auto& disk = durable_;
    if (rng() % 2 == 0) {
      disk = paxos::durable_state{};
      return std::nullopt;
    }
    paxos::slot_index last = disk.snap ? disk.snap->last : 0;
    if (!disk.accepted.empty())
      last = std::max(last, disk.accepted.rbegin()->first);
    if (!disk.chosen.empty())
      last = std::max(last, disk.chosen.rbegin()->first);
    paxos::slot_index cut = last + 1 - rng() % (last + 1);
    disk.accepted.erase(disk.accepted.lower_bound(cut), disk.accepted.end());
    disk.chosen.erase(disk.chosen.lower_bound(cut), disk.chosen.end());
    if (disk.snap && disk.snap->last >= cut) {
      disk = paxos::durable_state{};
    } else if (rng() % 2 == 0) {
      disk.promised = {};
    }
    disk.damaged = true;
    return cut;
  }

 private:
  /// The records of `rd` without its outputs (those are the pipeline's).
  static paxos::ready records_of(const paxos::ready& rd) {
    paxos::ready r;
    r.compacted = rd.compacted;
    r.compacted_locally = rd.compacted_locally;
    r.damaged = rd.damaged;
    r.promised = rd.promised;
    r.accepted = rd.accepted;
    r.chosen = rd.chosen;
    r.chosen_votes = rd.chosen_votes;
    return r;
  }

  void make_durable(const paxos::ready& r) {
    if (on_durable_)
      on_durable_(r);
    r.persist_to(durable_);
  }

  paxos::durable_state durable_;
  std::vector<paxos::ready> cache_;
  durable_fn on_durable_;
};

}  // namespace ballot::sim
