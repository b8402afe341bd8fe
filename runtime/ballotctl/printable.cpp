#include "runtime/ballotctl/printable.hpp"

#include <cstdio>

#include "runtime/json/utf8.hpp"

namespace ballot::ctl {

namespace {

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
    } else if (n = c >= 0x80 ? utf8::valid_length(text, i) : 0; n > 0 && !breaks_lines(text, i)) {
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
