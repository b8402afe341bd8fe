#include "runtime/peer/snapshot_source.hpp"

#include <algorithm>

#include "runtime/peer/snapshot_chunk.hpp"

namespace ballot::peer {

bytes_source::bytes_source(std::shared_ptr<const std::vector<char>> bytes)
    : bytes_(std::move(bytes)), crc_(chunk_crc(bytes_->data(), bytes_->size())) {}

std::string_view bytes_source::read(std::uint64_t offset, std::size_t n) {
  if (offset >= bytes_->size())
    return {};
  auto len = std::min<std::uint64_t>(n, bytes_->size() - offset);
  return {bytes_->data() + offset, static_cast<std::size_t>(len)};
}

}  // namespace ballot::peer
