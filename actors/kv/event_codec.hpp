#pragma once

#include <cstdint>
#include <string>

#include "actors/kv/byte_codec.hpp"
#include "actors/kv/event.hpp"

/// One key event in the byte codec's encoding, `revision:u64 type:u8 key
/// value`: the key space's snapshots and the lock service's results share it.
namespace ballot::kv::detail {

/// The fewest bytes an encoded event takes (empty key and value).
constexpr std::size_t min_event_bytes = 8 + 1 + 4 + 4;

inline void put_event(writer& w, const event& e) {
  w.integer(e.revision);
  w.integer(static_cast<std::uint8_t>(e.type));
  w.string(e.key);
  w.string(e.value);
}

/// False, with the reader's error set, if the bytes are not an event.
inline bool read_event(reader& r, event& e) {
  std::uint8_t type = 0;
  bool ok = r.integer(e.revision, "event revision") && r.integer(type, "event type") &&
            r.string(e.key, "event key") && r.string(e.value, "event value");
  if (ok && type > static_cast<std::uint8_t>(event_type::del))
    ok = r.fail("event type", "unknown event type " + std::to_string(type));
  e.type = static_cast<event_type>(type);
  return ok;
}

}  // namespace ballot::kv::detail
