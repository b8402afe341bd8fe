#include "runtime/wal/numbered_name.hpp"

#include <cinttypes>
#include <cstdio>

namespace ballot::wal {

namespace {

constexpr std::size_t name_digits = 16;

}  // namespace

std::string numbered_file_name(std::string_view prefix, std::uint64_t number,
                               std::string_view suffix) {
  char digits[name_digits + 1];
  std::snprintf(digits, sizeof(digits), "%016" PRIx64, number);
  std::string out;
  out.reserve(prefix.size() + name_digits + suffix.size());
  out.append(prefix);
  out.append(digits, name_digits);
  out.append(suffix);
  return out;
}

std::optional<std::uint64_t> parse_numbered_file_name(std::string_view name,
                                                      std::string_view prefix,
                                                      std::string_view suffix) {
  if (name.size() != prefix.size() + name_digits + suffix.size() ||
      name.substr(0, prefix.size()) != prefix || name.substr(name.size() - suffix.size()) != suffix)
    return std::nullopt;
  std::uint64_t number = 0;
  for (char c : name.substr(prefix.size(), name_digits)) {
    int digit;
    if (c >= '0' && c <= '9')
      digit = c - '0';
    else if (c >= 'a' && c <= 'f')
      digit = c - 'a' + 10;
    else
      return std::nullopt;
    number = number << 4 | static_cast<std::uint64_t>(digit);
  }
  return number;
}

}  // namespace ballot::wal
