#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ballot::peer {

/// What a snapshot transfer sends (snapshot_sender): `size()` bytes whose
/// CRC-32C is `crc()`, read once, in order. A source may make its bytes as
/// they are read (encoding_source), so that the sender holds a window of
/// them, not the whole snapshot beside the state it encodes (issue 9).
class snapshot_source {
 public:
  virtual ~snapshot_source() = default;

  /// Whether `crc()` is known (a source that makes its bytes needs a pass
  /// over them first); no byte is read before.
  virtual bool ready() const = 0;
  /// The number of bytes, known from the start.
  virtual std::uint64_t size() const = 0;
  virtual std::uint32_t crc() const = 0;
  /// Up to `n` bytes at `offset`: fewer, even none, while they are being
  /// made. `offset` never goes back below the previous call's: the bytes
  /// before it may be dropped. Valid until the next call.
  virtual std::string_view read(std::uint64_t offset, std::size_t n) = 0;
  /// Why the source cannot deliver ("" while it can): the transfer ends.
  virtual std::string failure() const { return {}; }
};

/// Bytes in memory.
class bytes_source final : public snapshot_source {
 public:
  explicit bytes_source(std::shared_ptr<const std::vector<char>> bytes);
  bool ready() const override { return true; }
  std::uint64_t size() const override { return bytes_->size(); }
  std::uint32_t crc() const override { return crc_; }
  std::string_view read(std::uint64_t offset, std::size_t n) override;

 private:
  std::shared_ptr<const std::vector<char>> bytes_;
  std::uint32_t crc_;
};

}  // namespace ballot::peer
