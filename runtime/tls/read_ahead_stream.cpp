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
  auto* out = static_cast<kj::byte*>(buffer);
  size_t given = take(out, max_bytes);
  // A zero-byte request with nothing held still asks the wrapped stream, so
  // that it reads as it would have without this wrapper.
  if (given >= min_bytes && (given > 0 || max_bytes == 0))
    return given;
  // What is held is used up; the rest comes from the wrapped stream.
  out += given;
  min_bytes -= given;
  max_bytes -= given;
  if (max_bytes >= capacity_) {
    auto rest = inner().tryRead(out, min_bytes, max_bytes);
    if (given == 0)
      return rest;
    return rest.then([given](size_t n) -> size_t { return given + n; });
  }
  if (block_.size() == 0)
    block_ = kj::heapArray<kj::byte>(capacity_);
  begin_ = end_ = 0;
  return inner()
    .tryRead(block_.begin(), min_bytes, capacity_)
    .then([this, out, max_bytes, given](size_t n) {
      end_ = n;
      // Fewer than `min_bytes` only at the end of the stream: the caller
      // sees the short count, as it would from the wrapped stream.
      return given + take(out, max_bytes);
    });
}

}  // namespace ballot::tls
