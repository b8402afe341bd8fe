#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

/// Log records and their two line formats. Pure: no clock, no I/O; the
/// logger (runtime/log/log.hpp) stamps the time and writes the lines.
namespace ballot::logging {

/// Severity, lowest first. `off` as a threshold writes nothing.
enum class level : int { trace, debug, info, warn, error, off };

/// `text`: one human line (`TS LEVEL msg key=value ...`). `json`: one JSON
/// object a line with "ts", "level", "msg" and the fields, for log shippers.
enum class format { text, json };

/// One key and its value. Integers stay numbers in JSON; everything else is a
/// string. Keys and values may hold any bytes (names come from clients): the
/// formats escape them.
struct field {
  std::string key;
  std::string value;
  bool number = false;

  field(std::string k, std::string v) : key(std::move(k)), value(std::move(v)) {}
  field(std::string k, const char* v) : key(std::move(k)), value(v) {}
  template <class T, class = std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>>
  field(std::string k, T n) : key(std::move(k)), value(std::to_string(n)), number(true) {}
  field(std::string k, bool b) : key(std::move(k)), value(b ? "true" : "false") {}
};

/// One event: when, how severe, a sentence for an operator and its facts.
struct record {
  std::chrono::system_clock::time_point ts;
  level lvl = level::info;
  std::string msg;
  std::vector<field> fields;
};

/// "trace", "debug", "info", "warn", "error", "off".
const char* name_of(level l);

/// Parses a level name (also "warning"); nullopt if unknown.
std::optional<level> parse_level(std::string_view text);

/// Parses "text" or "json"; nullopt if unknown.
std::optional<format> parse_format(std::string_view text);

/// The record as one line, without the newline. Text: the message and values
/// with `\` doubled, control bytes, DEL and bytes that are not valid UTF-8 as
/// `\xNN` (`\n`, `\t`, `\r` as such), values quoted when empty or holding a
/// space, `"` or `=`. JSON: one line of ASCII through runtime/json/json_line.hpp
/// (a byte that is not valid UTF-8 reads as U+00NN and comes out as `\u00NN`).
std::string format_record(format f, const record& r);

/// The text escaping of format_record, for one string.
std::string escape_text(std::string_view s);

/// ISO 8601 UTC with milliseconds: "2026-12-05T19:35:25.123Z".
std::string format_time(std::chrono::system_clock::time_point t);

}  // namespace ballot::logging
