#pragma once

#include <memory>
#include <utility>

#include "actors/paxos/ready.hpp"
#include "actors/replica/storage.hpp"

namespace ballot::actors {

/// A `storage` that keeps the durable state in memory: the stand-in until the
/// write-ahead log exists. It survives nothing but the actor itself.
///
/// The state sits behind a shared_ptr so that a test can "restart" a replica:
/// spawn a new actor whose storage shares the state of one that was killed.
/// Only one actor may use a given state at a time (it is not synchronized).
class memory_storage final : public storage {
 public:
  memory_storage() : disk_(std::make_shared<paxos::durable_state>()) {}

  explicit memory_storage(std::shared_ptr<paxos::durable_state> disk) : disk_(std::move(disk)) {}

  paxos::durable_state load() override { return *disk_; }

  void append(const paxos::ready& rd) override { rd.persist_to(*disk_); }

  void sync() override {
    // nop: memory is as durable as it gets
  }

  /// The stored state, e.g. for a test to inspect.
  const paxos::durable_state& state() const { return *disk_; }

 private:
  std::shared_ptr<paxos::durable_state> disk_;
};

}  // namespace ballot::actors
