#include "runtime/json/json_line.hpp"

namespace ballot::json {

namespace {

/// Length of the valid UTF-8 sequence at s[i] (1..4), or 0 if the byte
/// there does not start one (overlong forms, surrogates and code points past
/// U+10FFFF are invalid too).
std::size_t utf8_length(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  auto cont = [&](std::size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  unsigned char c = b(0);
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF)
    return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2))
      return 0;
    if ((c == 0xE0 && b(1) < 0xA0) || (c == 0xED && b(1) >= 0xA0))
      return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3))
      return 0;
    if ((c == 0xF0 && b(1) < 0x90) || (c == 0xF4 && b(1) >= 0x90))
      return 0;
    return 4;
  }
  return 0;
}

}  // namespace

std::string text(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size();) {
    if (auto n = utf8_length(bytes, i); n > 0) {
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

std::string quoted(std::string_view bytes) {
  return line(value(text(bytes)));
}

}  // namespace ballot::json
