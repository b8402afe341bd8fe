#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// Follows a source file's `#include`s through the project's own headers, to
/// hold the pure libraries to their promise (REVIEW §5, README "How the core
/// works"): no CAF, Cap'n Proto or KJ in the protocol's logic. Linking does
/// not enforce it: those headers are in /usr/include, so a pure library that
/// included one would still compile, and the simulator's claim to run the
/// production rules would quietly weaken.
namespace ballot::style {

/// The targets of the `#include` lines of `source`, in order, without their
/// quotes or angle brackets. Commented-out lines do not count.
std::vector<std::string> includes_of(std::string_view source);

/// Reads a project file by its path relative to the project's root, or
/// nullopt when the project has no such file (a system header).
using project_reader = std::function<std::optional<std::string>(const std::string&)>;

/// Whether an include target is one the pure libraries must not reach.
bool forbidden_include(std::string_view target);

/// The first chain of includes from `start` (a path relative to the root)
/// through project headers to a forbidden one: `start`, the headers between,
/// then the forbidden target. Empty when there is none.
std::vector<std::string> forbidden_chain(const std::string& start, const project_reader& read);

}  // namespace ballot::style
