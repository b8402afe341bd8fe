#pragma once

#include <cstddef>

#include "runtime/tls/forwarding_stream.hpp"

namespace ballot::tls {

/// Reads from the wrapped stream in blocks of up to `capacity` bytes and
/// serves small reads from what it holds. Cap'n Proto reads each message in
/// two steps (its first word, then the rest) and an RPC call brings two
/// messages (the call and, later, its finish), so a plain socket costs about
/// four read system calls per request; with the block read it is usually one.
/// At most `capacity` bytes are held per connection, allocated on the first
/// read; a read of `capacity` bytes or more goes straight to the caller's
/// buffer, so large messages are not copied twice. A read given up on (its
/// promise dropped) loses no held byte; like the wrapped socket's own read, it
/// may lose what the socket gave it meanwhile.
class read_ahead_stream final : public forwarding_stream {
 public:
  static constexpr size_t default_capacity = 4096;

  explicit read_ahead_stream(kj::Own<kj::AsyncIoStream> inner, size_t capacity = default_capacity)
      : forwarding_stream(kj::mv(inner)), capacity_(capacity) {}

  kj::Promise<size_t> tryRead(void* buffer, size_t min_bytes, size_t max_bytes) override;
  /// Drops what is held too: no read after this returns data.
  void abortRead() override;

  /// Bytes read from the wrapped stream and not yet handed to a reader.
  size_t held() const { return end_ - begin_; }

 private:
  /// Moves up to `max_bytes` held bytes to `out`; returns how many.
  size_t take(kj::byte* out, size_t max_bytes);

  size_t capacity_;
  kj::Array<kj::byte> block_;
  size_t begin_ = 0;
  size_t end_ = 0;
  /// After abortRead: nothing held, nothing kept from a read under way.
  bool aborted_ = false;
};

}  // namespace ballot::tls
