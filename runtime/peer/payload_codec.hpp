#pragma once

// Internal to the peer library: the payload of each frame kind is one
// specific type, serialized with CAF's binary serializer through the
// `inspect` overloads of actors/replica/inspect.hpp. Includes CAF's
// serializers, so only the peer library's own sources include it.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "caf/binary_deserializer.hpp"
#include "caf/binary_serializer.hpp"

#include "actors/paxos/messages.hpp"
#include "actors/replica/inspect.hpp"
#include "runtime/peer/frame.hpp"

namespace ballot::peer {

/// The frame kind that carries a core message of type T.
template <class T>
constexpr frame_kind core_kind();
#define BALLOT_PEER_CORE_KIND(type, kind)         \
  template <>                                     \
  constexpr frame_kind core_kind<paxos::type>() { \
    return frame_kind::kind;                      \
  }
BALLOT_PEER_CORE_KIND(prepare, prepare)
BALLOT_PEER_CORE_KIND(promise, promise)
BALLOT_PEER_CORE_KIND(accept, accept)
BALLOT_PEER_CORE_KIND(accepted, accepted)
BALLOT_PEER_CORE_KIND(reject, reject)
BALLOT_PEER_CORE_KIND(heartbeat, heartbeat)
BALLOT_PEER_CORE_KIND(heartbeat_ack, heartbeat_ack)
BALLOT_PEER_CORE_KIND(catchup_request, catchup_request)
BALLOT_PEER_CORE_KIND(catchup_reply, catchup_reply)
BALLOT_PEER_CORE_KIND(state_query, state_query)
BALLOT_PEER_CORE_KIND(state_report, state_report)
#undef BALLOT_PEER_CORE_KIND

/// About the bytes `x` serializes to, where values dominate it (0: small).
/// Reserving it first spares the frame's buffer its doublings: a 1 MB value
/// was copied again by every regrowth of the vector.
template <class T>
std::size_t serialized_hint(const T& /*x*/) {
  return 0;
}
inline std::size_t serialized_hint(const paxos::value& v) {
  return paxos::payload_bytes(v) + 32 * v.commands.size() + 16;
}
inline std::size_t serialized_hint(const paxos::accept& x) {
  return 64 + serialized_hint(x.val);
}
inline std::size_t serialized_hint(const paxos::catchup_reply& x) {
  std::size_t n = 16;
  for (const auto& e : x.entries)
    n += 16 + serialized_hint(e.val);
  return n;
}
inline std::size_t serialized_hint(const paxos::promise& x) {
  std::size_t n = 64;
  for (const auto& e : x.entries)
    n += 48 + serialized_hint(e.val);
  return n;
}

/// A whole frame whose payload is `x` (the serializer appends in place: one
/// copy of a large snapshot, not two).
template <class T>
std::vector<char> make_frame(caf::actor_system& sys, frame_kind kind, std::uint32_t from,
                             std::uint64_t request_id, const T& x) {
  std::vector<char> out;
  out.reserve(frame_header_bytes + 4 + serialized_hint(x));
  begin_frame(out, kind, from, request_id);
  caf::binary_serializer sink{sys, out};
  // CAF 0.17 inspects through non-const references; saving does not modify.
  auto err = sink(const_cast<T&>(x));
  static_cast<void>(err);  // writing to memory cannot fail
  finish_frame(out);
  return out;
}

/// The frame of a consensus message: its kind, no request id. Sent by the
/// member's link actor and by the replica's outlet (transport_outlet).
template <class Message>
std::vector<char> make_core_frame(caf::actor_system& sys, std::uint32_t from, const Message& msg) {
  return make_frame(sys, core_kind<Message>(), from, 0, msg);
}

/// `x` as payload bytes alone (an install_snapshot, sent in chunks).
template <class T>
std::vector<char> encode_payload(caf::actor_system& sys, const T& x) {
  std::vector<char> out;
  caf::binary_serializer sink{sys, out};
  auto err = sink(const_cast<T&>(x));
  static_cast<void>(err);  // writing to memory cannot fail
  return out;
}

/// An install_snapshot's payload bytes but the machine's: those before
/// them (the slot, then the machine's length as a string's: `machine_size`)
/// and those after them, as `encode_payload` makes them.
struct install_snapshot_frame {
  std::vector<char> before;
  std::vector<char> after;
};

inline install_snapshot_frame frame_install_snapshot(caf::actor_system& sys,
                                                     const paxos::install_snapshot& x,
                                                     std::size_t machine_size) {
  // CAF 0.17 inspects through non-const references; saving does not modify.
  auto& snap = const_cast<paxos::snapshot&>(x.snap);
  install_snapshot_frame out;
  caf::binary_serializer before{sys, out.before};
  // As inspect(snapshot) then inspect(machine_image) write them.
  auto err = before(snap.last);
  auto length = machine_size;
  err = before.begin_sequence(length);
  caf::binary_serializer after{sys, out.after};
  err = after(snap.clients, snap.members);
  static_cast<void>(err);  // writing to memory cannot fail
  return out;
}

/// An install_snapshot as payload bytes, exactly those `encode_payload`
/// makes, but with the machine's bytes written into the buffer as they are
/// made (machine_image::write_to) and kept nowhere else (issue 9).
inline std::vector<char> encode_install_snapshot(caf::actor_system& sys,
                                                 const paxos::install_snapshot& x) {
  auto size = x.snap.machine.size_hint();
  auto parts = frame_install_snapshot(sys, x, size);
  auto out = std::move(parts.before);
  out.reserve(out.size() + size + parts.after.size());
  std::size_t made = 0;
  x.snap.machine.write_to([&](std::string_view piece) {
    made += piece.size();
    if (made <= size)
      out.insert(out.end(), piece.begin(), piece.end());
  });
  if (made != size)
    return encode_payload(sys, x);  // the size hint was not exact after all
  out.insert(out.end(), parts.after.begin(), parts.after.end());
  return out;
}

/// Decodes `size` bytes as T; false unless they are exactly one well-formed T.
template <class T>
bool decode_bytes(caf::actor_system& sys, const char* data, std::size_t size, T& out) {
  caf::binary_deserializer src{sys, data, size};
  try {
    if (auto err = src(out))
      return false;
  } catch (...) {
    // A hostile sequence length can make a container throw (bad_alloc, length_error).
    return false;
  }
  return src.remaining() == 0;
}

/// Decodes a payload as T; false unless it is exactly one well-formed T.
template <class T>
bool decode_payload(caf::actor_system& sys, const std::vector<char>& payload, T& out) {
  return decode_bytes(sys, payload.data(), payload.size(), out);
}

template <class T>
struct tag_of {
  using type = T;
};

/// Decodes a core message frame and calls `f(value)` with the typed value;
/// false if the kind is not a core message or the payload does not decode.
template <class F>
bool visit_core(caf::actor_system& sys, const frame& fr, F&& f) {
  auto as = [&](auto tag) {
    typename decltype(tag)::type x;
    if (!decode_payload(sys, fr.payload, x))
      return false;
    f(std::move(x));
    return true;
  };
  switch (fr.kind) {
#define BALLOT_PEER_CASE(t) \
  case frame_kind::t:       \
    return as(tag_of<paxos::t>{});
    BALLOT_PEER_CASE(prepare)
    BALLOT_PEER_CASE(promise)
    BALLOT_PEER_CASE(accept)
    BALLOT_PEER_CASE(accepted)
    BALLOT_PEER_CASE(reject)
    BALLOT_PEER_CASE(heartbeat)
    BALLOT_PEER_CASE(heartbeat_ack)
    BALLOT_PEER_CASE(catchup_request)
    BALLOT_PEER_CASE(catchup_reply)
    BALLOT_PEER_CASE(state_query)
    BALLOT_PEER_CASE(state_report)
#undef BALLOT_PEER_CASE
    default:
      return false;
  }
}

}  // namespace ballot::peer
