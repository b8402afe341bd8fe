#include "actors/kv/kv_store.hpp"

#include <string_view>

#include "actors/kv/command_codec.hpp"

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
