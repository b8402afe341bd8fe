#include "runtime/metrics/text_writer.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace ballot::metrics {

namespace {

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

const char* type_name(kind k) {
  switch (k) {
    case kind::counter:
      return "counter";
    case kind::gauge:
      return "gauge";
    case kind::histogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

bool valid_metric_name(std::string_view name) {
  if (name.empty() || !(is_alpha(name[0]) || name[0] == ':'))
    return false;
  for (char c : name)
    if (!is_alpha(c) && !is_digit(c) && c != ':')
      return false;
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || !is_alpha(name[0]) || name.substr(0, 2) == "__")
    return false;
  for (char c : name)
    if (!is_alpha(c) && !is_digit(c))
      return false;
  return true;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value))
    return "NaN";
  if (std::isinf(value))
    return value > 0 ? "+Inf" : "-Inf";
  char buf[40];
  // Whole numbers up to 2^53 print exactly and without an exponent.
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0)
    std::snprintf(buf, sizeof buf, "%.0f", value);
  else {
    // The shortest of 15 or 17 digits that reads back as the same double.
    std::snprintf(buf, sizeof buf, "%.15g", value);
    if (std::strtod(buf, nullptr) != value)
      std::snprintf(buf, sizeof buf, "%.17g", value);
  }
  return buf;
}

void text_writer::family(std::string_view name, std::string_view help, kind k) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  // HELP text escapes only backslash and newline.
  for (char c : help) {
    if (c == '\\')
      out_ += "\\\\";
    else if (c == '\n')
      out_ += "\\n";
    else
      out_ += c;
  }
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type_name(k);
  out_ += '\n';
}

void text_writer::begin_sample(std::string_view name, const labels& l) {
  out_ += name;
  if (!l.empty()) {
    out_ += '{';
    bool first = true;
    for (auto& [key, value] : l) {
      if (!first)
        out_ += ',';
      first = false;
      out_ += key;
      out_ += "=\"";
      out_ += escape_label_value(value);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
}

void text_writer::sample(std::string_view name, const labels& l, double value) {
  begin_sample(name, l);
  out_ += format_value(value);
  out_ += '\n';
}

void text_writer::sample(std::string_view name, const labels& l, std::uint64_t value) {
  begin_sample(name, l);
  out_ += std::to_string(value);
  out_ += '\n';
}

}  // namespace ballot::metrics
