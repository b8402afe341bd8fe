#pragma once

#include <vector>

#include "caf/type_id.hpp"

#include "actors/paxos/messages.hpp"
#include "actors/paxos/ready.hpp"
#include "actors/replica/inspect.hpp"
#include "actors/replica/peer_map.hpp"
#include "actors/replica/read_reply.hpp"
#include "actors/replica/replica_status.hpp"

/// Type IDs and atoms of the actor layer. A program announces the types to
/// CAF with `cfg.add_message_types<caf::id_block::ballot>()`; that is what
/// lets the middleman (de)serialize them, so replicas can later sit in
/// different processes without changing the messages.
///
/// Peer-to-peer traffic is `(paxos::node_id from, M)` for each core message
/// struct M: CAF 0.17 cannot inspect std::variant, so the actor unpacks the
/// core's `paxos::message` and sends the alternative itself.
// clang-format off
CAF_BEGIN_TYPE_ID_BLOCK(ballot, caf::first_custom_type_id)

  // -- values inside messages
  CAF_ADD_TYPE_ID(ballot, (ballot::paxos::ballot_number))
  CAF_ADD_TYPE_ID(ballot, (ballot::paxos::command))
  CAF_ADD_TYPE_ID(ballot, (ballot::paxos::value))
  CAF_ADD_TYPE_ID(ballot, (ballot::paxos::promise_entry))
  CAF_ADD_TYPE_ID(ballot, (ballot::paxos::chosen_entry))
  CAF_ADD_TYPE_ID(ballot, (ballot::paxos::client_record))
  CAF_ADD_TYPE_ID(ballot, (ballot::paxos::snapshot))

  // -- node-to-node messages of the core
  CAF_ADD_TYPE_ID(ballot, (ballot::paxos::prepare))
  CAF_ADD_TYPE_ID(ballot, (ballot::paxos::promise))
  CAF_ADD_TYPE_ID(ballot, (ballot::paxos::accept))
  CAF_ADD_TYPE_ID(ballot, (ballot::paxos::accepted))
  CAF_ADD_TYPE_ID(ballot, (ballot::paxos::reject))
  CAF_ADD_TYPE_ID(ballot, (ballot::paxos::heartbeat))
  CAF_ADD_TYPE_ID(ballot, (ballot::paxos::heartbeat_ack))
  CAF_ADD_TYPE_ID(ballot, (ballot::paxos::catchup_request))
  CAF_ADD_TYPE_ID(ballot, (ballot::paxos::catchup_reply))
  CAF_ADD_TYPE_ID(ballot, (ballot::paxos::install_snapshot))
  CAF_ADD_TYPE_ID(ballot, (ballot::paxos::state_query))
  CAF_ADD_TYPE_ID(ballot, (ballot::paxos::state_report))

  // -- client and introspection interface of the replica actor
  CAF_ADD_TYPE_ID(ballot, (ballot::paxos::client_reply))
  CAF_ADD_TYPE_ID(ballot, (ballot::actors::replica_status))
  CAF_ADD_TYPE_ID(ballot, (ballot::actors::read_reply))
  CAF_ADD_TYPE_ID(ballot, (std::vector<ballot::paxos::chosen_entry>))
  CAF_ADD_TYPE_ID(ballot, (std::vector<ballot::paxos::command>))
  CAF_ADD_TYPE_ID(ballot, (std::vector<ballot::paxos::client_reply>))
  CAF_ADD_TYPE_ID(ballot, (ballot::actors::peer_map))

  // -- atoms (at most 10 characters; in 0.17 they take no type ID)
  CAF_ADD_ATOM(ballot, ballot::actors, propose_atom, "propose")
  CAF_ADD_ATOM(ballot, ballot::actors, propose_batch_atom, "proposes")
  CAF_ADD_ATOM(ballot, ballot::actors, status_atom, "status")
  CAF_ADD_ATOM(ballot, ballot::actors, log_atom, "log")
  CAF_ADD_ATOM(ballot, ballot::actors, peers_atom, "peers")
  CAF_ADD_ATOM(ballot, ballot::actors, read_atom, "read")
  CAF_ADD_ATOM(ballot, ballot::actors, sync_atom, "sync")
  CAF_ADD_ATOM(ballot, ballot::actors, fill_atom, "fill")
  CAF_ADD_ATOM(ballot, ballot::actors, house_atom, "house")

CAF_END_TYPE_ID_BLOCK(ballot)
// clang-format on
