#pragma once

#include <cstdint>
#include <string>

namespace ballot::kv {

/// The session (lease) a key lives and dies with; 0 = none (persistent).
/// Sessions are the lock service's; the key space only groups keys by them.
using owner_id = std::uint64_t;

enum class event_type : std::uint8_t { put = 0, del = 1 };

/// One change of the key namespace, numbered by the revision it created.
struct event {
  std::uint64_t revision = 0;
  event_type type = event_type::put;
  std::string key;
  /// The new value of a put; empty for a delete.
  std::string value;

  friend bool operator==(const event& a, const event& b) {
    return a.revision == b.revision && a.type == b.type && a.key == b.key && a.value == b.value;
  }
};

}  // namespace ballot::kv
