#include "actors/kv/key_ops.hpp"

#include <string_view>

namespace ballot::kv {

namespace {

result version_mismatch(std::uint64_t current) {
  auto r = result::error(result_code::version_mismatch);
  r.version = current;
  return r;
}

result empty_key() {
  return result::error(result_code::bad_request, "the key must not be empty");
}

result put(key_space& keys, const put_request& req) {
  if (req.key.empty())
    return empty_key();
  auto* e = keys.find(req.key);
  std::uint64_t current = e == nullptr ? 0 : e->version;
  if (req.if_version && *req.if_version != current)
    return version_mismatch(current);
  result r;
  r.version = keys.put(req.key, req.value, 0);
  return r;
}

result del(key_space& keys, const del_request& req) {
  if (req.key.empty())
    return empty_key();
  auto* e = keys.find(req.key);
  if (e == nullptr)
    return req.if_version && *req.if_version != 0 ? version_mismatch(0)
                                                  : result::error(result_code::not_found);
  if (req.if_version && *req.if_version != e->version)
    return version_mismatch(e->version);
  result r;
  r.version = *keys.del(req.key);
  return r;
}

result get(const key_space& keys, const get_request& req) {
  if (req.key.empty())
    return empty_key();
  auto* e = keys.find(req.key);
  if (e == nullptr)
    return result::error(result_code::not_found);
  result r;
  r.value = e->value();
  r.version = e->version;
  return r;
}

result list(const key_space& keys, const list_request& req) {
  result r;
  std::string_view prefix = req.prefix;
  auto& all = keys.keys();
  // A page starts after the last key of the previous one, or at the prefix.
  auto it = req.start_after.empty() || req.start_after < req.prefix
              ? all.lower_bound(req.prefix)
              : all.upper_bound(req.start_after);
  std::uint64_t bytes = 0;
  for (; it != all.end(); ++it) {
    if (std::string_view{it->first}.substr(0, prefix.size()) != prefix)
      break;
    auto size = it->first.size() + (req.with_values ? it->second.value().size() : 0);
    // The byte bound never leaves a page empty: one entry always fits.
    if ((req.limit != 0 && r.entries.size() == req.limit) ||
        (req.max_bytes != 0 && !r.entries.empty() && bytes + size > req.max_bytes)) {
      r.truncated = true;
      break;
    }
    bytes += size;
    r.entries.push_back({it->first, it->second.version});
    if (req.with_values)
      r.entries.back().value = it->second.value();
  }
  r.version = keys.revision();
  return r;
}

}  // namespace

result execute(key_space& keys, const request& req) {
  if (auto* p = std::get_if<put_request>(&req))
    return put(keys, *p);
  if (auto* d = std::get_if<del_request>(&req))
    return del(keys, *d);
  return read(keys, req);
}

result read(const key_space& keys, const request& req) {
  if (auto* g = std::get_if<get_request>(&req))
    return get(keys, *g);
  if (auto* l = std::get_if<list_request>(&req))
    return list(keys, *l);
  return result::error(result_code::bad_request, "a write cannot be served as a read");
}

}  // namespace ballot::kv
