#include "actors/kv/kv_store.hpp"

#include <stdexcept>
#include <string_view>
#include <utility>

#include "actors/kv/byte_codec.hpp"
#include "actors/kv/command_codec.hpp"

namespace ballot::kv {

namespace {

result version_mismatch(std::uint64_t current) {
  auto r = result::error(result_code::version_mismatch);
  r.version = current;
  return r;
}

/// The first byte of a snapshot: lets a later format be told apart.
constexpr std::uint8_t snapshot_format = 1;

/// The fewest bytes one item takes in a snapshot: two empty strings' lengths
/// and a version.
constexpr std::size_t min_item_size = 4 + 4 + 8;

result empty_key() {
  return result::error(result_code::bad_request, "the key must not be empty");
}

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
  w.integer(snapshot_format);
  w.integer(revision_);
  w.integer(static_cast<std::uint64_t>(items_.size()));
  for (auto& [key, it] : items_) {
    w.string(key);
    w.string(it.value);
    w.integer(it.version);
  }
  return w.take();
}

void kv_store::restore(const std::string& snapshot) {
  detail::reader r{snapshot};
  std::uint8_t format = 0;
  std::uint64_t revision = 0;
  std::uint64_t count = 0;
  bool ok = r.integer(format, "format");
  if (ok && format != snapshot_format)
    ok = r.fail("format", "unknown snapshot format " + std::to_string(format));
  ok = ok && r.integer(revision, "revision") && r.integer(count, "item count");
  // Checked before reading on, so a damaged count cannot make us loop long.
  if (ok && count > r.remaining() / min_item_size)
    ok = r.fail("item count", std::to_string(count) + " items cannot fit in " +
                                std::to_string(r.remaining()) + " bytes");
  // Built aside: a damaged snapshot leaves the store as it was.
  std::map<std::string, item> items;
  for (std::uint64_t i = 0; ok && i < count; ++i) {
    std::string key;
    item it;
    ok = r.string(key, "key") && r.string(it.value, "value") && r.integer(it.version, "version");
    // What the store itself could never hold: keys out of order or repeated
    // (the encoding is in key order), an empty key, a version from the future.
    if (ok && key.empty())
      ok = r.fail("key", "empty key");
    if (ok && !items.empty() && !(items.rbegin()->first < key))
      ok = r.fail("key", "keys not in strictly increasing order");
    if (ok && (it.version == 0 || it.version > revision))
      ok = r.fail("version", "version " + std::to_string(it.version) + " outside 1.." +
                               std::to_string(revision));
    if (ok)
      items.emplace_hint(items.end(), std::move(key), std::move(it));
  }
  ok = ok && r.finish();
  if (!ok)
    throw std::runtime_error("kv_store: malformed snapshot: " + r.error());
  items_ = std::move(items);
  revision_ = revision;
}

result kv_store::execute(const request& req) {
  if (auto* p = std::get_if<put_request>(&req))
    return put(*p);
  if (auto* d = std::get_if<del_request>(&req))
    return del(*d);
  return read(req);
}

result kv_store::read(const request& req) const {
  if (auto* g = std::get_if<get_request>(&req))
    return get(*g);
  if (auto* l = std::get_if<list_request>(&req))
    return list(*l);
  return result::error(result_code::bad_request, "a write cannot be served as a read");
}

result kv_store::put(const put_request& req) {
  if (req.key.empty())
    return empty_key();
  auto it = items_.find(req.key);
  std::uint64_t current = it == items_.end() ? 0 : it->second.version;
  if (req.if_version && *req.if_version != current)
    return version_mismatch(current);
  ++revision_;
  if (it == items_.end())
    it = items_.emplace(req.key, item{}).first;
  it->second.value = req.value;
  it->second.version = revision_;
  result r;
  r.version = revision_;
  return r;
}

result kv_store::del(const del_request& req) {
  if (req.key.empty())
    return empty_key();
  auto it = items_.find(req.key);
  if (it == items_.end())
    return req.if_version && *req.if_version != 0 ? version_mismatch(0)
                                                  : result::error(result_code::not_found);
  if (req.if_version && *req.if_version != it->second.version)
    return version_mismatch(it->second.version);
  items_.erase(it);
  ++revision_;
  result r;
  r.version = revision_;
  return r;
}

result kv_store::get(const get_request& req) const {
  if (req.key.empty())
    return empty_key();
  auto it = items_.find(req.key);
  if (it == items_.end())
    return result::error(result_code::not_found);
  result r;
  r.value = it->second.value;
  r.version = it->second.version;
  return r;
}

result kv_store::list(const list_request& req) const {
  result r;
  std::string_view prefix = req.prefix;
  for (auto it = items_.lower_bound(req.prefix); it != items_.end(); ++it) {
    if (std::string_view{it->first}.substr(0, prefix.size()) != prefix)
      break;
    if (req.limit != 0 && r.entries.size() == req.limit) {
      r.truncated = true;
      break;
    }
    r.entries.push_back({it->first, it->second.version});
  }
  r.version = revision_;
  return r;
}

}  // namespace ballot::kv
