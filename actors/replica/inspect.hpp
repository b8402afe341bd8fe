#pragma once

#include <optional>
#include <string>

#include "caf/error.hpp"
#include "caf/meta/load_callback.hpp"
#include "caf/meta/type_name.hpp"
#include "caf/none.hpp"

#include "actors/paxos/messages.hpp"
#include "actors/paxos/ready.hpp"
#include "actors/replica/read_reply.hpp"
#include "actors/replica/replica_status.hpp"

/// CAF 0.17 `inspect` overloads for the core's message types. They live on the
/// actor side so that the core stays free of CAF; they sit in the types' own
/// namespaces because CAF finds `inspect` by argument-dependent lookup.
///
/// Inspection is what lets CAF serialize a type, hence send it to another
/// process through the middleman; CAF also uses it to print messages.
namespace ballot::paxos {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ballot_number& x) {
  return f(caf::meta::type_name("ballot.paxos.ballot_number"), x.round, x.node);
}

/// A payload travels as its bytes; a loaded one owns them alone.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shared_payload& x) {
  if constexpr (Inspector::reads_state) {
    // CAF 0.17 inspects through non-const references; saving does not modify.
    return f(const_cast<std::string&>(x.str()));
  } else {
    std::string bytes;
    return f(bytes, caf::meta::load_callback([&]() -> caf::error {
               x = shared_payload(std::move(bytes));
               return caf::none;
             }));
  }
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, command& x) {
  return f(caf::meta::type_name("ballot.paxos.command"), x.client, x.seq, x.payload, x.fingerprint);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, value& x) {
  return f(caf::meta::type_name("ballot.paxos.value"), x.commands);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, prepare& x) {
  return f(caf::meta::type_name("ballot.paxos.prepare"), x.ballot, x.first_open);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, promise_entry& x) {
  return f(caf::meta::type_name("ballot.paxos.promise_entry"), x.slot, x.ballot, x.val, x.chosen);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, promise& x) {
  return f(caf::meta::type_name("ballot.paxos.promise"), x.ballot, x.entries, x.compacted,
           x.committed);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, accept& x) {
  return f(caf::meta::type_name("ballot.paxos.accept"), x.ballot, x.slot, x.val, x.commit);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, accepted& x) {
  return f(caf::meta::type_name("ballot.paxos.accepted"), x.ballot, x.slot);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reject& x) {
  return f(caf::meta::type_name("ballot.paxos.reject"), x.ballot, x.promised);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, heartbeat& x) {
  return f(caf::meta::type_name("ballot.paxos.heartbeat"), x.ballot, x.commit, x.read_round);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, heartbeat_ack& x) {
  return f(caf::meta::type_name("ballot.paxos.heartbeat_ack"), x.ballot, x.read_round, x.commit);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, catchup_request& x) {
  return f(caf::meta::type_name("ballot.paxos.catchup_request"), x.from);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, chosen_entry& x) {
  return f(caf::meta::type_name("ballot.paxos.chosen_entry"), x.slot, x.val);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, catchup_reply& x) {
  return f(caf::meta::type_name("ballot.paxos.catchup_reply"), x.entries);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_record& x) {
  return f(caf::meta::type_name("ballot.paxos.client_record"), x.client, x.results, x.forgotten,
           x.fingerprints, x.last_active_ms);
}

/// The bytes, as a std::string was before (the wire format is unchanged).
/// Saving encodes a frozen image on the serializing thread, and keeps the
/// bytes in it; a member's link sends an install_snapshot without this
/// (peer::encode_install_snapshot, encoding_source), keeping none.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, machine_image& x) {
  if constexpr (Inspector::reads_state) {
    // CAF 0.17 inspects through non-const references; saving does not modify.
    return f(const_cast<std::string&>(x.bytes()));
  } else {
    std::string bytes;
    return f(bytes, caf::meta::load_callback([&]() -> caf::error {
               x = machine_image(std::move(bytes));
               return caf::none;
             }));
  }
}

/// The records, as a vector was before (the wire format is unchanged).
/// Saving makes captured rows into records on the serializing thread.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dedup_image& x) {
  if constexpr (Inspector::reads_state) {
    // CAF 0.17 inspects through non-const references; saving does not modify.
    return f(const_cast<std::vector<client_record>&>(x.records()));
  } else {
    std::vector<client_record> records;
    return f(records, caf::meta::load_callback([&]() -> caf::error {
               x = dedup_image(std::move(records));
               return caf::none;
             }));
  }
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, snapshot& x) {
  return f(caf::meta::type_name("ballot.paxos.snapshot"), x.last, x.machine, x.clients, x.members);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, install_snapshot& x) {
  return f(caf::meta::type_name("ballot.paxos.install_snapshot"), x.snap);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, state_query& x) {
  return f(caf::meta::type_name("ballot.paxos.state_query"), x.nonce);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, state_report& x) {
  return f(caf::meta::type_name("ballot.paxos.state_report"), x.nonce, x.promised, x.highest,
           x.commit, x.intact, x.has_state);
}

/// Lets CAF print the status by name (serializers use the underlying integer).
inline std::string to_string(reply_status x) {
  return name_of(x);
}

/// std::optional is not inspectable in CAF 0.17, so a leader hint travels as
/// (present, id) and is rebuilt after loading.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_reply& x) {
  bool has_hint = x.leader_hint.has_value();
  node_id hint = x.leader_hint.value_or(0);
  return f(caf::meta::type_name("ballot.paxos.client_reply"), x.client, x.seq, x.status, x.result,
           has_hint, hint, caf::meta::load_callback([&]() -> caf::error {
             x.leader_hint = has_hint ? std::optional<node_id>{hint} : std::nullopt;
             return caf::none;
           }));
}

}  // namespace ballot::paxos

namespace ballot::actors {

/// Same optional encoding as `client_reply`.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, read_reply& x) {
  bool has_hint = x.leader_hint.has_value();
  paxos::node_id hint = x.leader_hint.value_or(0);
  return f(caf::meta::type_name("ballot.actors.read_reply"), x.status, x.result, has_hint, hint,
           caf::meta::load_callback([&]() -> caf::error {
             x.leader_hint = has_hint ? std::optional<paxos::node_id>{hint} : std::nullopt;
             return caf::none;
           }));
}

/// Same optional encoding as `client_reply`.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, replica_status& x) {
  bool has_hint = x.leader_hint.has_value();
  paxos::node_id hint = x.leader_hint.value_or(0);
  return f(caf::meta::type_name("ballot.actors.replica_status"), x.id, x.is_leader, has_hint, hint,
           x.commit_index, caf::meta::load_callback([&]() -> caf::error {
             x.leader_hint = has_hint ? std::optional<paxos::node_id>{hint} : std::nullopt;
             return caf::none;
           }));
}

}  // namespace ballot::actors
