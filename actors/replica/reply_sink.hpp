#pragma once

// Internal to the replica actor: where the answer to one client command goes.
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "caf/typed_response_promise.hpp"

#include "actors/paxos/messages.hpp"

namespace ballot::actors {

using reply_promise = caf::typed_response_promise<paxos::client_reply>;
using batch_promise = caf::typed_response_promise<std::vector<paxos::client_reply>>;

/// The answers to one `propose_batch_atom`: one message back, once the last
/// command of the batch is answered (they share a slot, so that is soon).
struct batch_answer {
  batch_promise promise;
  std::vector<paxos::client_reply> replies;
  /// Commands not answered yet, plus one while propose_batch still adds.
  std::size_t pending = 1;

  void set(std::size_t i, const paxos::client_reply& r) {
    replies[i] = r;
    release();
  }
  void release() {
    if (--pending == 0)
      promise.deliver(std::move(replies));
  }
};

/// Where one command's answer goes: its own request's promise, or its place
/// in a batch.
struct reply_sink {
  reply_promise promise;
  std::shared_ptr<batch_answer> batch;
  std::size_t index = 0;

  void deliver(const paxos::client_reply& r) {
    if (batch)
      batch->set(index, r);
    else
      promise.deliver(r);
  }
};

}  // namespace ballot::actors
