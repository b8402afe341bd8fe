#include "actors/kv/frozen_keys.hpp"

#include <utility>

#include "actors/kv/byte_codec.hpp"

namespace ballot::kv {

frozen_keys::frozen_keys(std::string head, key_space keys)
    : head_(std::move(head)), keys_(std::move(keys)) {}

std::string frozen_keys::encode() const {
  detail::writer w;
  w.reserve(size_hint());
  w.raw(head_);
  keys_.save(w);
  return w.take();
}

void frozen_keys::encode_to(const byte_sink& sink) const {
  detail::writer w;
  w.drain_to(sink, encode_piece_bytes);
  w.raw(head_);
  keys_.save(w);
  w.drain();
}

std::size_t frozen_keys::size_hint() const {
  return head_.size() + keys_.saved_size();
}

}  // namespace ballot::kv
