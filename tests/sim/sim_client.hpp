#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "actors/paxos/messages.hpp"

// The simulator's clients and its event queue entries (simulation.cpp).
namespace ballot::sim {

struct client {
  std::uint64_t id = 0;
  std::uint64_t seq = 0;
  bool waiting = false;
  paxos::command cmd;
  paxos::node_id target = 1;
  std::uint64_t retry_tick = 0;
  std::optional<paxos::node_id> hint;
  /// The outstanding operation is a linearizable read (else the write `cmd`).
  bool reading = false;
  std::uint64_t read_id = 0;
  /// History position of the newest write acknowledged before the read began.
  std::size_t read_floor = 0;
  /// Ticks before an unanswered request is sent again.
  std::uint64_t retry_ticks = 30;
  /// The outstanding write is a lie (log workload): the request id of an
  /// earlier write with another payload, or seq 0. It must never be
  /// acknowledged nor applied.
  bool lying = false;
  /// When the last write was acknowledged: a lie waits until no late answer
  /// to that write can still arrive (replies carry only the request id).
  std::uint64_t acked_tick = 0;
  /// During a partition each client (a lock client with its three
  /// endpoints) is on one side and reaches only the nodes there: a client of
  /// the minority keeps asking it. Drawn at each partition.
  int side = 0;
  /// Runs that evict idle clients (see dedup_scenario.hpp): when the write
  /// in flight was first sent; when the last acknowledged write (with this
  /// id) was; when the last write ended; sleeping until.
  std::uint64_t first_sent = 0;
  std::optional<std::uint64_t> acked_sent;
  std::uint64_t acked_seq = 0;
  std::uint64_t idle_since = 0;
  std::uint64_t sleep_until = 0;
};

struct event {
  enum class kind { message, request, reply, timer } what = kind::message;
  paxos::envelope env;                 ///< kind::message
  paxos::node_id node = 0;             ///< kind::request: the replica asked
  paxos::command cmd;                  ///< kind::request (a write)
  std::uint64_t read_id = 0;           ///< kind::request: a read instead of a write
  std::size_t client = 0;              ///< kind::reply, kind::request: index into clients_
  paxos::client_reply reply;           ///< kind::reply
  std::function<void()> fn = nullptr;  ///< kind::timer
};

/// Whether `side` of a partition holds a majority of `nodes` (a map of
/// every member to its state, which has a `side`).
template <class Nodes>
bool majority_on(const Nodes& nodes, int side) {
  std::size_t with = 0;
  for (auto& entry : nodes)
    with += entry.second.side == side ? 1 : 0;
  return with > nodes.size() / 2;
}

}  // namespace ballot::sim
