#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "runtime/wal/snapshot_file.hpp"

namespace ballot::wal {

/// Writes a chunked snapshot file (snapshot_file.hpp) whose body arrives in
/// pieces of any size, e.g. straight from a frozen state's encoder: the
/// body is never one string, only the chunk being filled is held (issue 9).
/// No I/O of its own: it writes through `write`, a file's in production and
/// a string's in tests.
///
/// The file's sizes come first but the body's size is known only at the
/// end, so the writer starts with a hint and, if the body turns out another
/// size, rewrites the sizes (they are fixed-width; nothing after them moves).
class snapshot_writer {
 public:
  /// Writes `bytes` at `offset`; throws on errors (the writer stops there).
  using write_fn = std::function<void(std::uint64_t offset, std::string_view bytes)>;

  /// Writes the sizes (with `body_size_hint`) and the header at once.
  snapshot_writer(write_fn write, std::string_view header, std::uint64_t body_size_hint,
                  std::uint32_t chunk_size);

  /// The next bytes of the body.
  void append(std::string_view piece);

  /// Writes the last chunk and, if the hint was wrong, the sizes again;
  /// returns the body's size. The file is then exactly `layout().file_size()`.
  std::uint64_t finish();

  const chunk_layout& layout() const { return layout_; }

 private:
  void write_chunk();

  write_fn write_;
  std::string header_;
  chunk_layout layout_;
  std::uint64_t hint_;
  std::uint64_t body_size_ = 0;
  std::uint64_t next_chunk_ = 0;
  std::string chunk_;
};

}  // namespace ballot::wal
