#include "runtime/json/json_line.hpp"

#include "runtime/json/utf8.hpp"

namespace ballot::json {

std::string text(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size();) {
    if (auto n = utf8::valid_length(bytes, i); n > 0) {
      out.append(bytes.substr(i, n));
      i += n;
      continue;
    }
    // U+0080..U+00FF in UTF-8: two bytes, 110000xx 10xxxxxx.
    auto c = static_cast<unsigned char>(bytes[i++]);
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
  return out;
}

std::string line(const value& v) {
  // ensure_ascii: see the header. `replace` only guards against a caller that
  // forgot text(): a server must not throw while writing a reply or a log line.
  return v.dump(-1, ' ', true, value::error_handler_t::replace);
}

}  // namespace ballot::json
