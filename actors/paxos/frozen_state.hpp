#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace ballot::paxos {

/// A state machine's state captured at one point of the log, whose bytes are
/// produced later, on any thread (issue 9: encoding a state of hundreds of
/// MiB on the replica's thread outlasts an election timeout).
///
/// An implementation holds its own image of the state (e.g. a copy of the
/// containers whose values are shared, immutable, with the live state): it
/// must never read the live machine, which goes on applying meanwhile.
class frozen_state {
 public:
  virtual ~frozen_state() = default;

  /// Exactly the bytes `state_machine::snapshot` returned when this was
  /// captured. Safe to call from any thread, also concurrently.
  virtual std::string encode() const = 0;

  /// Takes the bytes in order, in pieces of any size; a throw stops the encode.
  using byte_sink = std::function<void(std::string_view piece)>;

  /// `encode`'s bytes, handed to `sink` piece by piece as they are made, so
  /// that a state of GiBs goes to a file or a link without ever being one
  /// string beside the live state. This default makes the one string first.
  virtual void encode_to(const byte_sink& sink) const { sink(encode()); }

  /// The number of bytes `encode` returns, or a close estimate, cheaply
  /// (without encoding): a size for decisions made before the bytes exist.
  virtual std::size_t size_hint() const = 0;
};

}  // namespace ballot::paxos
