#pragma once

#include <cstdint>

namespace ballot::paxos {

/// The request ids one client names its writes with: (client id, seq), one
/// seq per write, kept across that write's retries. Shared by the network
/// client (runtime/client) and the embedded ones (kv_client, lock_client).
/// Pure and single-threaded: the caller brings the fresh ids (random, never
/// 0) and its own lock.
///
/// A write answered `expired` means the replicas forgot this id (see
/// learner): every later seq of it would be refused as well, so the next
/// write takes a fresh id and starts again at seq 1, the first window that
/// a client the replicas do not know may use.
class request_ids {
 public:
  explicit request_ids(std::uint64_t id) : id_(id) {}

  std::uint64_t id() const { return id_; }
  std::uint64_t last_seq() const { return last_seq_; }

  /// A write named with `id` was answered `expired`. One named with an id
  /// already replaced says nothing about the current one.
  void forgotten(std::uint64_t id) {
    if (id == id_)
      forgotten_ = true;
  }

  /// Whether the next write should take a fresh id: the replicas forgot this
  /// one, or (`idle`: the caller's judgement) may have. An id that named no
  /// write yet is kept, whatever the caller thinks.
  bool stale(bool idle = false) const { return last_seq_ > 0 && (forgotten_ || idle); }

  /// Names the writes from now on with `fresh`, from seq 1. A caller whose
  /// retries read the id again at each send renews only between writes.
  void renew(std::uint64_t fresh) {
    id_ = fresh;
    last_seq_ = 0;
    forgotten_ = false;
  }

  /// The seq of a new write.
  std::uint64_t next_seq() { return ++last_seq_; }

 private:
  std::uint64_t id_;
  std::uint64_t last_seq_ = 0;
  bool forgotten_ = false;
};

}  // namespace ballot::paxos
