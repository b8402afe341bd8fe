#include "runtime/tls/read_ahead_stream.hpp"

#include <algorithm>
#include <cstring>

namespace ballot::tls {

size_t read_ahead_stream::take(kj::byte* out, size_t max_bytes) {
  size_t n = std::min(max_bytes, end_ - begin_);
  if (n > 0)
    std::memcpy(out, block_.begin() + begin_, n);
  begin_ += n;
  return n;
}

kj::Promise<size_t> read_ahead_stream::tryRead(void* buffer, size_t min_bytes, size_t max_bytes) {
  if (aborted_)
    return inner().tryRead(buffer, min_bytes, max_bytes);
  auto* out = static_cast<kj::byte*>(buffer);
  size_t held = end_ - begin_;
  // A zero-byte request with nothing held still asks the wrapped stream, so
  // that it reads as it would have without this wrapper.
  if (held >= min_bytes && (held > 0 || max_bytes == 0))
    return take(out, max_bytes);
  // Every held byte goes to this caller (held < min_bytes <= max_bytes), but
  // only once the rest has come: a read given up on keeps them for the next.
  if (max_bytes >= capacity_) {
    if (held == 0)
      return inner().tryRead(out, min_bytes, max_bytes);
    std::memcpy(out, block_.begin() + begin_, held);
    return inner()
      .tryRead(out + held, min_bytes - held, max_bytes - held)
      .then([this, held](size_t n) -> size_t {
        if (aborted_)
          return 0;
        begin_ += held;
        return held + n;
      });
  }
  // A small read: the held bytes move to the front of the block and the
  // wrapped stream fills the block after them (min_bytes <= max_bytes <
  // capacity, so what is asked for fits).
  if (block_.size() == 0)
    block_ = kj::heapArray<kj::byte>(capacity_);
  if (begin_ > 0 && held > 0)
    std::memmove(block_.begin(), block_.begin() + begin_, held);
  begin_ = 0;
  end_ = held;
  return inner()
    .tryRead(block_.begin() + held, min_bytes - held, capacity_ - held)
    .then([this, out, max_bytes](size_t n) -> size_t {
      if (aborted_)
        return 0;
      end_ += n;
      // Fewer than `min_bytes` only at the end of the stream: the caller
      // sees the short count, as it would from the wrapped stream.
      return take(out, max_bytes);
    });
}

void read_ahead_stream::abortRead() {
  aborted_ = true;
  begin_ = end_ = 0;
  inner().abortRead();
}

}  // namespace ballot::tls
