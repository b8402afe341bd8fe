#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

/// Reads C++ source text well enough to hold the product to its size rules
/// (issue 14: no product file over 800 lines, no function over 80 lines
/// outside `main`s and tests). clang-tidy's readability-function-size says the
/// same of .cpp files, but with the analyzer the project's checks take
/// minutes a file and see no function defined in a header; this takes
/// milliseconds for the whole tree, so ctest holds every commit to the rule.
///
/// It is a scanner, not a parser: comments, string and character literals
/// (raw ones too) are blanked, the `#else`/`#elif` branches of a conditional
/// are dropped (the first branch is the one built without mutants), and a
/// function body is a `{` whose preceding code ends with a `)` (and
/// qualifiers such as `const`, `noexcept`, `override` or a trailing return
/// type) that does not close an `if`, `for`, `while`, `switch` or `catch`.
/// A lambda's body counts as a function of its own.
namespace ballot::style {

struct long_function {
  std::size_t line = 0;   ///< of the opening brace, from 1
  std::size_t lines = 0;  ///< from the opening brace's line to the closing one's
  std::string name;       ///< the word before the parameter list ("" for a lambda)
};

/// `source` with comments and literals blanked and the inactive branches of
/// preprocessor conditionals dropped; newlines are kept, so line numbers hold.
std::string code_only(std::string_view source);

/// Every function body in `source` longer than `limit` lines.
std::vector<long_function> long_functions(std::string_view source, std::size_t limit);

/// The number of lines of `source`.
std::size_t line_count(std::string_view source);

}  // namespace ballot::style
