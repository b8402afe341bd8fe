#pragma once

#include <string>
#include <string_view>

namespace ballot::ctl {

/// `text` as a JSON string literal, quotes included. Keys and values are
/// arbitrary bytes: valid UTF-8 passes through, control characters and bytes
/// that are not UTF-8 become \u00XX escapes, so the output is always valid JSON.
std::string json_string(std::string_view text);

}  // namespace ballot::ctl
