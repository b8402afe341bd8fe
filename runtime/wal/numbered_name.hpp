#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

/// File names of the form "<prefix><16 lower-case hex digits><suffix>", as
/// segment files ("wal-", ".log") and snapshot files ("snapshot-", ".snap")
/// use them. The digits are fixed width so that a directory listing sorted by
/// name is sorted by number.
namespace ballot::wal {

/// `prefix`, then `number` as 16 zero-padded lower-case hex digits, then `suffix`.
std::string numbered_file_name(std::string_view prefix, std::uint64_t number,
                               std::string_view suffix);

/// The number in `name` if it is exactly `prefix`, 16 lower-case hex digits and
/// `suffix`; nullopt otherwise, upper-case digits included (numbered_file_name
/// never writes them).
std::optional<std::uint64_t> parse_numbered_file_name(std::string_view name,
                                                      std::string_view prefix,
                                                      std::string_view suffix);

}  // namespace ballot::wal
