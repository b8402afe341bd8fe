#include "runtime/wal/snapshot_writer.hpp"

#include <algorithm>
#include <utility>

namespace ballot::wal {

snapshot_writer::snapshot_writer(write_fn write, std::string_view header,
                                 std::uint64_t body_size_hint, std::uint32_t chunk_size)
    : write_(std::move(write)), header_(header), hint_(body_size_hint) {
  layout_.chunk_size = std::clamp<std::uint32_t>(chunk_size, 1, max_snapshot_chunk_size);
  layout_.header_size = header.size();
  write_(0, chunked_snapshot_start(header_, hint_, layout_.chunk_size));
  chunk_.reserve(static_cast<std::size_t>(
    std::min<std::uint64_t>(layout_.chunk_size, std::max<std::uint64_t>(hint_, 1))));
}

void snapshot_writer::append(std::string_view piece) {
  while (!piece.empty()) {
    auto take = std::min<std::size_t>(layout_.chunk_size - chunk_.size(), piece.size());
    chunk_.append(piece.data(), take);
    piece.remove_prefix(take);
    body_size_ += take;
    if (chunk_.size() == layout_.chunk_size)
      write_chunk();
  }
}

void snapshot_writer::write_chunk() {
  // Every chunk but the last is full, so its place depends on its index
  // alone (chunk_layout::chunk_offset), whatever the body's final size.
  auto at = layout_.chunk_offset(next_chunk_);
  write_(at, chunk_frame_header(next_chunk_, chunk_));
  write_(at + 8, chunk_);
  ++next_chunk_;
  chunk_.clear();
}

std::uint64_t snapshot_writer::finish() {
  if (!chunk_.empty())
    write_chunk();
  layout_.body_size = body_size_;
  if (body_size_ != hint_) {
    // Only the sizes' 24 bytes change: the header frame after them is the same.
    auto start = chunked_snapshot_start(header_, body_size_, layout_.chunk_size);
    write_(0, std::string_view{start}.substr(0, chunked_prefix_size));
  }
  std::string{}.swap(chunk_);
  return body_size_;
}

}  // namespace ballot::wal
