#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "actors/paxos/frozen_state.hpp"

namespace ballot::paxos {

/// The state machine's part of a snapshot: its bytes, or a frozen state
/// (`state_machine::freeze`) that yields them when first needed (issue 9).
/// Taking a checkpoint then costs the replica's thread a cheap capture; the
/// storage's background thread encodes it into the snapshot file's chunks,
/// and a snapshot sent to a lagging member is encoded as its chunks go
/// (`write_to`: neither keeps the bytes).
///
/// Copies share one image (and encode it once): copying a snapshot of
/// hundreds of MiB costs a reference count. The bytes never change once
/// made, so an image is immutable; compare by bytes. Pure: no thread is
/// started here, only a mutex guards the one encode.
class machine_image {
 public:
  /// No bytes.
  machine_image() = default;
  /// These bytes (implicit: a snapshot is still built from a string).
  machine_image(std::string bytes);  // NOLINT(google-explicit-constructor)
  machine_image(const char* bytes);  // NOLINT(google-explicit-constructor)
  /// `frozen`'s bytes, encoded on the first `bytes` (never null).
  explicit machine_image(std::shared_ptr<const frozen_state> frozen);

  /// The bytes. A frozen image encodes them on the first call, on the
  /// caller's thread; a concurrent caller waits for that encode (seconds for
  /// a state of GiBs), so the replica's thread calls it only where it needs
  /// the bytes anyway. Then the frozen state is released.
  const std::string& bytes() const;
  operator const std::string&() const { return bytes(); }  // NOLINT

  /// The bytes, handed to `sink` in pieces (frozen_state::encode_to) and
  /// not kept: a frozen image encodes them again on every call, on the
  /// caller's thread, and holds nothing after, so a snapshot written to disk
  /// or sent to a member costs the state's bytes once in flight, not a copy
  /// that outlives it (issue 9). Bytes already made are handed over whole.
  void write_to(const frozen_state::byte_sink& sink) const;

  /// `bytes().size()`: encodes a frozen image.
  std::size_t size() const { return bytes().size(); }

  /// The size without encoding: exact once the bytes exist, else the frozen
  /// state's hint (taken when it was captured). Never waits.
  std::size_t size_hint() const;

  /// Whether the bytes exist (given, or encoded already).
  bool encoded() const;

  friend bool operator==(const machine_image& a, const machine_image& b) {
    return a.impl_ == b.impl_ || a.bytes() == b.bytes();
  }
  friend bool operator!=(const machine_image& a, const machine_image& b) { return !(a == b); }
  friend bool operator==(const machine_image& a, const std::string& b) { return a.bytes() == b; }
  friend bool operator==(const machine_image& a, const char* b) { return a.bytes() == b; }

 private:
  struct impl;
  static const std::string& no_bytes();
  std::shared_ptr<impl> impl_;
};

// Inline (header-only like the rest of the core's vocabulary): every library
// that carries a snapshot uses it without linking the core.

struct machine_image::impl {
  /// Set (release) once `bytes` holds the final bytes; they never change after.
  std::atomic<bool> ready{false};
  /// Held for the one encode; later callers of `bytes` wait on it.
  std::mutex encoding;
  /// Until encoded; released after.
  std::shared_ptr<const frozen_state> frozen;
  /// The frozen state's size hint, taken at capture: `size_hint` must not
  /// wait for an encode in progress (which holds `encoding`).
  std::size_t hint = 0;
  std::string bytes;
};

inline const std::string& machine_image::no_bytes() {
  static const std::string empty;
  return empty;
}

inline machine_image::machine_image(std::string bytes) : impl_(std::make_shared<impl>()) {
  impl_->bytes = std::move(bytes);
  impl_->hint = impl_->bytes.size();
  impl_->ready.store(true, std::memory_order_release);
}

inline machine_image::machine_image(const char* bytes) : machine_image(std::string{bytes}) {}

inline machine_image::machine_image(std::shared_ptr<const frozen_state> frozen)
    : impl_(std::make_shared<impl>()) {
  impl_->hint = frozen->size_hint();
  impl_->frozen = std::move(frozen);
}

inline const std::string& machine_image::bytes() const {
  if (!impl_)
    return no_bytes();
  if (!impl_->ready.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(impl_->encoding);
    if (!impl_->ready.load(std::memory_order_relaxed)) {
      // May throw (out of memory): then nothing changed and a later call
      // tries again.
      impl_->bytes = impl_->frozen->encode();
      impl_->frozen.reset();
      impl_->ready.store(true, std::memory_order_release);
    }
  }
  return impl_->bytes;
}

inline void machine_image::write_to(const frozen_state::byte_sink& sink) const {
  std::shared_ptr<const frozen_state> frozen;
  if (impl_ && !impl_->ready.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(impl_->encoding);
    if (!impl_->ready.load(std::memory_order_relaxed))
      frozen = impl_->frozen;
  }
  if (frozen)
    frozen->encode_to(sink);
  else
    sink(bytes());
}

inline std::size_t machine_image::size_hint() const {
  if (!impl_)
    return 0;
  if (impl_->ready.load(std::memory_order_acquire))
    return impl_->bytes.size();
  return impl_->hint;
}

inline bool machine_image::encoded() const {
  return !impl_ || impl_->ready.load(std::memory_order_acquire);
}

}  // namespace ballot::paxos
