#pragma once

#include <string>
#include <string_view>

namespace ballot::ctl {

/// `text` for ballotctl's human output: valid UTF-8 and printable ASCII pass
/// through; a backslash becomes \\, newline, tab and carriage return \n, \t
/// and \r, and every other control or non-UTF-8 byte \xNN. So one key or
/// value stays on its line: a key with a newline cannot forge output lines.
std::string printable(std::string_view text);

}  // namespace ballot::ctl
