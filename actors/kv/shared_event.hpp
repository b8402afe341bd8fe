#pragma once

#include <cstdint>
#include <string>

#include "actors/kv/event.hpp"
#include "actors/kv/shared_bytes.hpp"

namespace ballot::kv {

/// An event whose value is shared with the key it set and with the key
/// space's history: what the replicated history keeps and what the state
/// machine hands its observer (the gateway's change feed), so a 1 MB put is
/// not copied again for each of them. Copied out into an `event` only where
/// a watcher takes it.
struct shared_event {
  std::uint64_t revision = 0;
  event_type type = event_type::put;
  std::string key;
  /// The new value of a put; empty for a delete.
  shared_bytes value;

  event to_event() const { return event{revision, type, key, std::string{value.view()}}; }
  /// Key and value bytes: what the histories' byte budgets count.
  std::size_t bytes() const { return key.size() + value.size(); }
};

}  // namespace ballot::kv
