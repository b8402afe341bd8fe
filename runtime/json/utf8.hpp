#pragma once

#include <cstddef>
#include <string_view>

/// The one UTF-8 check behind every escape of users' bytes: JSON lines
/// (json_line), text log lines (runtime/log) and ballotctl's human output.
namespace ballot::utf8 {

/// Length (1..4) of the valid UTF-8 sequence starting at `s[i]`, or 0 if the
/// byte there does not start one: a stray continuation byte, a sequence cut
/// short, an overlong form, a surrogate or a code point past U+10FFFF.
std::size_t valid_length(std::string_view s, std::size_t i);

}  // namespace ballot::utf8
