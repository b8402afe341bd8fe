#include "runtime/wal/snapshot_reader.hpp"

#include <cstring>

#include "runtime/wal/crc32c.hpp"
#include "runtime/wal/le32.hpp"
#include "runtime/wal/segment.hpp"

namespace ballot::wal {

snapshot_reader::snapshot_reader(read_fn read, std::uint64_t file_size)
    : read_(std::move(read)), file_size_(file_size) {
  char magic[8] = {};
  auto n = read_exactly(0, magic, sizeof magic);
  chunked_ = is_chunked_snapshot({magic, n});
  if (chunked_)
    open_chunked();
  else
    open_single_frame();
}

std::size_t snapshot_reader::read_exactly(std::uint64_t offset, char* dst, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    auto r = read_(offset + got, dst + got, n - got);
    if (r == 0)
      break;
    got += r;
  }
  return got;
}

void snapshot_reader::open_chunked() {
  char prefix[chunked_prefix_size];
  auto n = read_exactly(0, prefix, sizeof prefix);
  if (auto err = check_chunked_prefix({prefix, n}, layout_); !err.empty())
    throw snapshot_damage(0, err);
  char frame[frame_header_size];
  auto at = chunked_prefix_size;
  if (read_exactly(at, frame, sizeof frame) != sizeof frame)
    throw snapshot_damage(at, "file ends inside the header's frame");
  layout_.header_size = get_u32(frame);
  if (layout_.header_offset() + layout_.header_size > file_size_)
    throw snapshot_damage(at, "the header's length field says " +
                                std::to_string(layout_.header_size) +
                                " bytes, past the end of the file");
  header_size_ = static_cast<std::size_t>(layout_.header_size);
  header_.resize((header_size_ + 7) / 8);
  auto buf = reinterpret_cast<char*>(header_.data());
  if (read_exactly(layout_.header_offset(), buf, header_size_) != header_size_)
    throw snapshot_damage(at, "file ends inside the header");
  if (header_size_ == 0 || crc32c({buf, header_size_}) != get_u32(frame + 4))
    throw snapshot_damage(
      at, "CRC mismatch in the header of " + std::to_string(header_size_) + " bytes");
  // The body first: sizes near 2^64 would wrap the layout's arithmetic.
  if (layout_.body_size > file_size_ || file_size_ != layout_.file_size())
    wrong_size();
}

void snapshot_reader::wrong_size() const {
  auto expected = std::to_string(layout_.file_size());
  if (file_size_ > layout_.file_size())
    throw snapshot_damage(layout_.file_size(),
                          std::to_string(file_size_ - layout_.file_size()) +
                            " bytes follow the last chunk (the file should end at " + expected +
                            ")");
  // The first chunk that does not fit whole.
  std::uint64_t i = 0;
  while (i + 1 < layout_.chunks() &&
         layout_.chunk_offset(i) + frame_header_size + layout_.chunk_length(i) <= file_size_)
    ++i;
  throw snapshot_damage(layout_.chunk_offset(i),
                        "chunk " + std::to_string(i) + " of " + std::to_string(layout_.chunks()) +
                          " is missing or cut short: the file ends at " +
                          std::to_string(file_size_) + " instead of " + expected);
}

void snapshot_reader::open_single_frame() {
  if (file_size_ > frame_header_size + max_snapshot_size)
    throw snapshot_damage(
      0, "file of " + std::to_string(file_size_) + " bytes is neither chunked nor one frame");
  auto size = static_cast<std::size_t>(file_size_);
  header_.resize((size + 7) / 8);
  auto buf = reinterpret_cast<char*>(header_.data());
  size = read_exactly(0, buf, size);
  auto check = check_snapshot_file({buf, size});
  if (!check.payload)
    throw snapshot_damage(check.offset, check.reason);
  // The payload sits 8 bytes in, so it stays word-aligned where it moves to.
  header_size_ = check.payload->size();
  std::memmove(buf, buf + frame_header_size, header_size_);
}

void snapshot_reader::read_body(char* dst) {
  if (!chunked_)
    return;
  for (std::uint64_t i = 0; i < layout_.chunks(); ++i) {
    auto at = layout_.chunk_offset(i);
    auto len = static_cast<std::size_t>(layout_.chunk_length(i));
    char frame[frame_header_size];
    auto piece = dst + i * layout_.chunk_size;
    auto got_frame = read_exactly(at, frame, sizeof frame);
    auto got = got_frame == sizeof frame ? read_exactly(at + sizeof frame, piece, len) : 0;
    auto err = check_chunk(layout_, i, {frame, got_frame}, {piece, got});
    if (!err.empty())
      throw snapshot_damage(at, err);
  }
}

}  // namespace ballot::wal
