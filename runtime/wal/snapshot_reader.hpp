#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/wal/snapshot_file.hpp"

namespace ballot::wal {

/// Damage in a snapshot file: a named file was synced whole before its
/// rename, so this is bit rot or a bug, never a torn write.
class snapshot_damage : public std::runtime_error {
 public:
  snapshot_damage(std::uint64_t offset, const std::string& reason)
      : std::runtime_error(reason), offset_(offset) {}
  /// Where in the file the damaged piece (frame) starts.
  std::uint64_t offset() const { return offset_; }

 private:
  std::uint64_t offset_;
};

/// Reads a snapshot file of either format (snapshot_file.hpp) piece by
/// piece, checking each piece before it hands it out, so that a body of
/// many GiB is read straight into its one destination (no second copy) and
/// damage is found with its offset. No I/O of its own: it reads through
/// `read`, a file's in production and a string's in tests.
class snapshot_reader {
 public:
  /// Reads up to `n` bytes at `offset` into `dst` and returns how many
  /// (fewer only at the end of the file); throws storage_error on I/O errors.
  using read_fn = std::function<std::size_t(std::uint64_t offset, char* dst, std::size_t n)>;

  /// Reads and checks everything but the body: a chunked file's sizes and
  /// header, and that its size is exactly what they make it; a single-frame
  /// file whole. Throws snapshot_damage for anything wrong.
  snapshot_reader(read_fn read, std::uint64_t file_size);

  /// false: a single-frame file (the format before chunks), no body.
  bool chunked() const { return chunked_; }
  /// The header: the checkpoint (without the machine's bytes when chunked).
  /// Word-aligned, as Cap'n Proto wants it.
  std::string_view header() const {
    return {reinterpret_cast<const char*>(header_.data()), header_size_};
  }
  /// Where the header's bytes start in the file.
  std::uint64_t header_offset() const { return chunked_ ? layout_.header_offset() : 8; }
  std::uint64_t body_size() const { return chunked_ ? layout_.body_size : 0; }
  const chunk_layout& layout() const { return layout_; }

  /// Reads the body into `dst` (`body_size()` bytes), chunk by chunk, each
  /// checked as it arrives; throws snapshot_damage naming the first bad one.
  void read_body(char* dst);

 private:
  std::size_t read_exactly(std::uint64_t offset, char* dst, std::size_t n);
  void open_chunked();
  void open_single_frame();
  /// Where a file of `file_size_` bytes first falls short of the layout.
  [[noreturn]] void wrong_size() const;

  read_fn read_;
  std::uint64_t file_size_;
  bool chunked_ = false;
  chunk_layout layout_;
  std::vector<std::uint64_t> header_;  ///< word-aligned storage
  std::size_t header_size_ = 0;
};

}  // namespace ballot::wal
