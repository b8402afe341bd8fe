#pragma once

#include <string>
#include <string_view>

namespace ballot::ctl {

/// `text` as a JSON string literal, quotes included. Keys and values are
/// arbitrary bytes: valid UTF-8 passes through, control characters and bytes
/// that are not UTF-8 become \u00XX escapes, so the output is always valid JSON.
std::string json_string(std::string_view text);

/// `text` for ballotctl's human output: valid UTF-8 and printable ASCII pass
/// through; a backslash becomes \\, newline, tab and carriage return \n, \t
/// and \r, and every other control or non-UTF-8 byte \xNN. So one key or
/// value stays on its line: a key with a newline cannot forge output lines.
std::string printable(std::string_view text);

}  // namespace ballot::ctl
