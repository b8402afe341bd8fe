#include "actors/kv/command_codec.hpp"

#include <cstdint>

#include "actors/kv/byte_codec.hpp"

namespace ballot::kv {

namespace {

using detail::reader;
using detail::writer;

enum class tag : std::uint8_t { put = 1, get = 2, del = 3, list = 4 };

}  // namespace

const char* to_string(result_code code) {
  switch (code) {
    case result_code::ok:
      return "ok";
    case result_code::not_found:
      return "not_found";
    case result_code::version_mismatch:
      return "version_mismatch";
    case result_code::bad_request:
      return "bad_request";
    case result_code::unavailable:
      return "unavailable";
    case result_code::overloaded:
      return "overloaded";
    case result_code::quota_exceeded:
      return "quota_exceeded";
    case result_code::request_id_reused:
      return "request_id_reused";
    case result_code::unauthenticated:
      return "unauthenticated";
    case result_code::permission_denied:
      return "permission_denied";
    case result_code::expired:
      return "expired";
  }
  return "unknown";
}

std::string encode_put(std::string_view key, std::string_view value,
                       const std::optional<std::uint64_t>& if_version,
                       const std::optional<std::string>& checked_user) {
  writer w;
  // One allocation: the tag, three lengths, the condition and the bytes.
  w.reserve(1 + 4 + key.size() + 4 + value.size() + 9 +
            (checked_user ? 4 + checked_user->size() : 0));
  w.integer(static_cast<std::uint8_t>(tag::put));
  w.string(key);
  w.string(value);
  w.optional(if_version);
  if (checked_user)
    w.string(*checked_user);
  return w.take();
}

std::string encode(const request& req) {
  if (auto* put = std::get_if<put_request>(&req))
    return encode_put(put->key, put->value, put->if_version, put->checked_user);
  writer w;
  if (auto* get = std::get_if<get_request>(&req)) {
    w.integer(static_cast<std::uint8_t>(tag::get));
    w.string(get->key);
  } else if (auto* del = std::get_if<del_request>(&req)) {
    w.integer(static_cast<std::uint8_t>(tag::del));
    w.string(del->key);
    w.optional(del->if_version);
    if (del->checked_user)
      w.string(*del->checked_user);
  } else if (auto* list = std::get_if<list_request>(&req)) {
    w.integer(static_cast<std::uint8_t>(tag::list));
    w.string(list->prefix);
    w.integer(list->limit);
    // The paging tail only when used: a plain listing encodes as before.
    if (!list->start_after.empty() || list->with_values || list->max_bytes != 0) {
      w.string(list->start_after);
      w.integer(static_cast<std::uint8_t>(list->with_values ? 1 : 0));
      w.integer(list->max_bytes);
    }
  }
  return w.take();
}

bool decode(std::string_view bytes, request& out, std::string& error) {
  reader r{bytes};
  std::uint8_t t = 0;
  bool ok = r.integer(t, "tag");
  if (ok) {
    switch (static_cast<tag>(t)) {
      case tag::put: {
        put_request put;
        ok = r.string(put.key, "key") && r.string(put.value, "value") &&
             r.optional(put.if_version, "if_version");
        if (ok && r.remaining() > 0)
          ok = r.string(put.checked_user.emplace(), "checked_user");
        out = std::move(put);
        break;
      }
      case tag::get: {
        get_request get;
        ok = r.string(get.key, "key");
        out = std::move(get);
        break;
      }
      case tag::del: {
        del_request del;
        ok = r.string(del.key, "key") && r.optional(del.if_version, "if_version");
        if (ok && r.remaining() > 0)
          ok = r.string(del.checked_user.emplace(), "checked_user");
        out = std::move(del);
        break;
      }
      case tag::list: {
        list_request list;
        ok = r.string(list.prefix, "prefix") && r.integer(list.limit, "limit");
        if (ok && r.remaining() > 0)
          ok = r.string(list.start_after, "start_after") &&
               r.flag(list.with_values, "with_values") && r.integer(list.max_bytes, "max_bytes");
        out = std::move(list);
        break;
      }
      default:
        ok = r.fail("tag", "unknown operation " + std::to_string(t));
    }
  }
  ok = ok && r.finish();
  if (!ok)
    error = "malformed request: " + r.error();
  return ok;
}

std::string encode(const result& res) {
  writer w;
  w.integer(static_cast<std::uint8_t>(res.code));
  w.integer(res.version);
  w.string(res.value);
  w.integer(static_cast<std::uint32_t>(res.entries.size()));
  for (auto& e : res.entries) {
    w.string(e.key);
    w.integer(e.version);
  }
  w.integer(static_cast<std::uint8_t>(res.truncated ? 1 : 0));
  w.string(res.message);
  // The values tail only when an entry has one: answers without values
  // (every write's, kept in the dedup table) encode exactly as before.
  bool values = false;
  for (auto& e : res.entries)
    values = values || !e.value.empty();
  if (values) {
    w.integer(static_cast<std::uint32_t>(res.entries.size()));
    for (auto& e : res.entries)
      w.string(e.value);
  }
  return w.take();
}

bool decode(std::string_view bytes, result& out, std::string& error) {
  reader r{bytes};
  out = result{};
  std::uint8_t code = 0;
  std::uint32_t n = 0;
  bool ok = r.integer(code, "code");
  if (ok && code > static_cast<std::uint8_t>(result_code::expired))
    ok = r.fail("code", "unknown result code " + std::to_string(code));
  // Each entry takes at least 12 bytes.
  ok = ok && r.integer(out.version, "version") && r.string(out.value, "value") &&
       r.count(n, 12, "entry count");
  if (ok)
    out.entries.reserve(n);
  for (std::uint32_t i = 0; ok && i < n; ++i) {
    key_version e;
    ok = r.string(e.key, "entry key") && r.integer(e.version, "entry version");
    out.entries.push_back(std::move(e));
  }
  ok = ok && r.flag(out.truncated, "truncated") && r.string(out.message, "message");
  if (ok && r.remaining() > 0) {
    std::uint32_t values = 0;
    ok = r.integer(values, "value count");
    if (ok && values != out.entries.size())
      ok = r.fail("value count", std::to_string(values) + " values for " +
                                   std::to_string(out.entries.size()) + " entries");
    for (std::uint32_t i = 0; ok && i < values; ++i)
      ok = r.string(out.entries[i].value, "entry value");
  }
  ok = ok && r.finish();
  out.code = static_cast<result_code>(code);
  if (!ok)
    error = "malformed result: " + r.error();
  return ok;
}

}  // namespace ballot::kv
