#pragma once

// Internal to the peer library: the local actor that stands for one remote
// member. The replica's peer map and the gateway's directory hold it where
// they used to hold a middleman proxy, so neither changes.
#include <chrono>
#include <cstdint>
#include <memory>

#include "caf/atom.hpp"
#include "caf/fwd.hpp"

#include "runtime/peer/snapshot_receiver.hpp"
#include "runtime/peer/snapshot_sender.hpp"

namespace ballot::peer {

class transport;

/// From the transport's thread to a link: a member's reply to one of our
/// requests `(reply_in_atom, id, value)`, or a member's request to our
/// replica `(request_in_atom, id[, argument])`. Local only: nothing on the
/// network decodes to these.
using reply_in_atom = caf::atom_constant<caf::atom("p_reply")>;
using request_in_atom = caf::atom_constant<caf::atom("p_request")>;
/// From the transport's thread: a snapshot_chunk or snapshot_ack frame's
/// payload `(chunk_in_atom | ack_in_atom, std::vector<char>)`, checked to
/// parse already.
using chunk_in_atom = caf::atom_constant<caf::atom("p_chunk")>;
using ack_in_atom = caf::atom_constant<caf::atom("p_ack")>;

struct link_options {
  std::uint32_t member = 0;  ///< the remote member this link stands for
  std::uint32_t self = 0;
  /// A request to the member not answered within this fails (so no promise leaks).
  std::chrono::milliseconds request_timeout{30'000};
  /// A snapshot to the member: chunk size, window, stall timeout.
  sender_options snapshot_out;
  /// A snapshot from the member: budget and idle timeout.
  receiver_options snapshot_in;
};

/// Spawns the link. Core messages `(from, M)` it gets become frames to the
/// member (an install_snapshot a transfer of chunks, snapshot_sender.hpp;
/// the chunks of one from the member become one install_snapshot to
/// `replica`, snapshot_receiver.hpp); `propose_atom`, `propose_batch_atom`,
/// `read_atom` and `status_atom` requests become request frames whose replies
/// it delivers (failed at once when the member is not connected, or over its
/// budget); member requests it gets from the transport are asked of
/// `replica` and answered with reply frames.
caf::actor spawn_member_link(caf::actor_system& sys, link_options opts,
                             std::shared_ptr<transport> net, caf::actor replica);

}  // namespace ballot::peer
