#include "runtime/ballotctl/printable.hpp"

#include <cstdio>

namespace ballot::ctl {

namespace {

/// Length of the valid UTF-8 sequence starting at `s[i]`, or 0.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  auto c = byte(i);
  std::size_t n = 0;
  unsigned min = 0;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
    min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size())
    return 0;
  unsigned code = c & (0x7f >> n);
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80)
      return 0;
    code = (code << 6) | (byte(i + k) & 0x3f);
  }
  if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
    return 0;
  return n;
}

/// Whether the UTF-8 sequence at `s[i]` is a C1 control (U+0080..U+009F:
/// NEL ends a line, CSI starts a terminal escape in some terminals) or the
/// line or paragraph separator (U+2028, U+2029): escaped, byte by byte.
bool breaks_lines(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  if (byte(i) == 0xc2)
    return byte(i + 1) < 0xa0;
  return byte(i) == 0xe2 && byte(i + 1) == 0x80 && (byte(i + 2) == 0xa8 || byte(i + 2) == 0xa9);
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    const char* named = c == '\\'   ? "\\\\"
                        : c == '\n' ? "\\n"
                        : c == '\t' ? "\\t"
                        : c == '\r' ? "\\r"
                                    : nullptr;
    std::size_t n = 0;
    if (named != nullptr) {
      out += named;
      n = 1;
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
      n = 1;
    } else if (n = c >= 0x80 ? utf8_length(text, i) : 0; n > 0 && !breaks_lines(text, i)) {
      out.append(text.substr(i, n));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(c));
      out += buf;
      n = 1;
    }
    i += n;
  }
  return out;
}

}  // namespace ballot::ctl
