#include "runtime/log/log_format.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>

#include "runtime/json/json_line.hpp"
#include "runtime/json/utf8.hpp"

namespace ballot::logging {

namespace {

void hex_byte(std::string& out, const char* prefix, unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%s%02x", prefix, c);
  out += buf;
}

/// A number field's value (std::to_string of an integer) as a JSON number.
json::value number_of(const std::string& v) {
  const char* end = v.data() + v.size();
  if (std::int64_t n = 0; !v.empty() && v[0] == '-' && std::from_chars(v.data(), end, n).ptr == end)
    return n;
  if (std::uint64_t n = 0; std::from_chars(v.data(), end, n).ptr == end)
    return n;
  return json::text(v);
}

bool needs_quotes(std::string_view v) {
  return v.empty() || v.find_first_of(" \"=") != std::string_view::npos;
}

}  // namespace

const char* name_of(level l) {
  switch (l) {
    case level::trace:
      return "trace";
    case level::debug:
      return "debug";
    case level::info:
      return "info";
    case level::warn:
      return "warn";
    case level::error:
      return "error";
    case level::off:
      return "off";
  }
  return "unknown";
}

std::optional<level> parse_level(std::string_view text) {
  for (auto l : {level::trace, level::debug, level::info, level::warn, level::error, level::off})
    if (text == name_of(l))
      return l;
  if (text == "warning")
    return level::warn;
  return std::nullopt;
}

std::optional<format> parse_format(std::string_view text) {
  if (text == "text")
    return format::text;
  if (text == "json")
    return format::json;
  return std::nullopt;
}

std::string escape_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7f) {
      hex_byte(out, "\\x", c);
    } else if (auto n = utf8::valid_length(s, i); n == 0) {
      hex_byte(out, "\\x", c);
    } else {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    ++i;
  }
  return out;
}

std::string format_time(std::chrono::system_clock::time_point t) {
  auto since = t.time_since_epoch();
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(since - secs).count();
  if (ms < 0) {
    ms += 1000;
    secs -= std::chrono::seconds(1);
  }
  std::time_t tt = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&tt, &tm);
  // Sized for any int the fields could hold, so the compiler sees no truncation.
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

std::string format_record(format f, const record& r) {
  if (f == format::json) {
    json::value j;
    j["ts"] = format_time(r.ts);
    j["level"] = name_of(r.lvl);
    j["msg"] = json::text(r.msg);
    for (auto& fl : r.fields) {
      // A field may not overwrite the three keys every line has.
      auto key =
        fl.key == "ts" || fl.key == "level" || fl.key == "msg" ? "field." + fl.key : fl.key;
      j[json::text(key)] = fl.number ? number_of(fl.value) : json::value(json::text(fl.value));
    }
    return json::line(j);
  }
  std::string lvl = name_of(r.lvl);
  lvl.resize(5, ' ');
  std::string out = format_time(r.ts) + " " + lvl + " " + escape_text(r.msg);
  for (auto& fl : r.fields) {
    auto value = escape_text(fl.value);
    if (needs_quotes(value)) {
      std::string quoted = "\"";
      for (char c : value)
        quoted += c == '"' ? std::string{"\\\""} : std::string(1, c);
      value = quoted + "\"";
    }
    auto key = escape_text(fl.key);
    for (auto& c : key)
      if (c == ' ' || c == '=' || c == '"')
        c = '_';
    out += " " + key + "=" + value;
  }
  return out;
}

}  // namespace ballot::logging
