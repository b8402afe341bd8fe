#include "actors/kv/kv_store.hpp"

#include "actors/kv/frozen_keys.hpp"

#include <stdexcept>
#include <string_view>
#include <utility>

#include "actors/kv/byte_codec.hpp"
#include "actors/kv/command_codec.hpp"
#include "actors/kv/key_ops.hpp"

namespace ballot::kv {

namespace {

/// The first byte of a snapshot: lets a later format be told apart
/// (2: the key space with its watch history).
constexpr std::uint8_t snapshot_format = 2;

}  // namespace

std::string kv_store::apply(const std::string& payload) {
  request req;
  std::string error;
  if (!decode(payload, req, error))
    return encode(result::error(result_code::bad_request, error));
  return encode(execute(req));
}

std::string kv_store::query(const std::string& request_bytes) const {
  request req;
  std::string error;
  if (!decode(request_bytes, req, error))
    return encode(result::error(result_code::bad_request, error));
  return encode(read(req));
}

std::optional<std::string> kv_store::snapshot() const {
  detail::writer w;
  w.reserve(1 + keys_.saved_size());
  w.integer(snapshot_format);
  keys_.save(w);
  return w.take();
}

std::shared_ptr<const paxos::frozen_state> kv_store::freeze() const {
  detail::writer head;
  head.integer(snapshot_format);
  return std::make_shared<frozen_keys>(head.take(), keys_);
}

void kv_store::restore(const std::string& snapshot) {
  detail::reader r{snapshot};
  std::uint8_t format = 0;
  bool ok = r.integer(format, "format");
  if (ok && format != snapshot_format)
    ok = r.fail("format", "unknown snapshot format " + std::to_string(format));
  // Built aside: a damaged snapshot leaves the store as it was.
  key_space keys;
  ok = ok && keys.load(r) && r.finish();
  if (!ok)
    throw std::runtime_error("kv_store: malformed snapshot: " + r.error());
  keys_ = std::move(keys);
}

result kv_store::execute(const request& req) {
  return kv::execute(keys_, req);
}

result kv_store::read(const request& req) const {
  return kv::read(keys_, req);
}

}  // namespace ballot::kv
