#pragma once

#include <cstddef>
#include <string>

#include "actors/kv/key_space.hpp"
#include "actors/paxos/frozen_state.hpp"

namespace ballot::kv {

/// A state machine's state frozen for a snapshot (issue 9): the bytes of
/// everything that comes before its key space, encoded when frozen (small:
/// sessions, locks, users), and a copy of the key space, which shares the
/// values with the live one (see key_space::shared_value). Encoding appends
/// the copy's `save` to the head: exactly the machine's `snapshot` bytes at
/// the time of the freeze, on whatever thread, while the live machine goes on.
class frozen_keys final : public paxos::frozen_state {
 public:
  frozen_keys(std::string head, key_space keys);

  std::string encode() const override;

  /// The same bytes in pieces of about `encode_piece_bytes` (a value larger
  /// than that is one piece with it): the key space is never one string.
  void encode_to(const byte_sink& sink) const override;

  static constexpr std::size_t encode_piece_bytes = std::size_t{1} << 20;

  /// Exact: the head and the key space's `saved_size`.
  std::size_t size_hint() const override;

 private:
  const std::string head_;
  const key_space keys_;
};

}  // namespace ballot::kv
