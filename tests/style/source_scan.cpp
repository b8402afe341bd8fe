#include "tests/style/source_scan.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <regex>

namespace ballot::style {

namespace {

bool word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

/// Blanks [from, to) of `out`, keeping newlines.
void blank(std::string& out, std::size_t from, std::size_t to) {
  for (auto i = from; i < to && i < out.size(); ++i)
    if (out[i] != '\n')
      out[i] = ' ';
}

/// True if the quote at `i` ends a digit separator (1'000), not a character.
bool digit_separator(const std::string& s, std::size_t i) {
  auto start = i;
  while (start > 0 && (word_char(s[start - 1]) || s[start - 1] == '\''))
    --start;
  return start < i && std::isdigit(static_cast<unsigned char>(s[start])) != 0;
}

/// Where the literal or comment that starts at `i` ends (one past it), or
/// `i` if none starts there.
std::size_t skip_literal(const std::string& s, std::size_t i) {
  auto rest = std::string_view(s).substr(i);
  if (rest.substr(0, 2) == "//")
    return std::min(s.size(), s.find('\n', i));
  if (rest.substr(0, 2) == "/*") {
    auto end = s.find("*/", i + 2);
    return end == std::string::npos ? s.size() : end + 2;
  }
  if (s[i] == '"' && i > 0 && s[i - 1] == 'R') {
    auto open = s.find('(', i);
    if (open == std::string::npos)
      return s.size();
    auto close = ")" + s.substr(i + 1, open - i - 1) + "\"";
    auto end = s.find(close, open);
    return end == std::string::npos ? s.size() : end + close.size();
  }
  if (s[i] == '"' || (s[i] == '\'' && !digit_separator(s, i))) {
    auto j = i + 1;
    while (j < s.size() && s[j] != s[i] && s[j] != '\n')
      j += s[j] == '\\' ? 2 : 1;
    return std::min(s.size(), j + 1);
  }
  return i;
}

/// Drops directive lines and every `#else`/`#elif` branch.
void drop_inactive_branches(std::string& out) {
  std::vector<bool> in_later_branch;  // one per open #if
  std::size_t at = 0;
  while (at < out.size()) {
    auto end = out.find('\n', at);
    if (end == std::string::npos)
      end = out.size();
    auto first = out.find_first_not_of(" \t", at);
    bool directive = first < end && out[first] == '#';
    if (directive) {
      // A directive continued over several lines is blanked whole.
      while (end < out.size() && end > at && out[end - 1] == '\\')
        end = std::min(out.size(), out.find('\n', end + 1));
      auto word_at = out.find_first_not_of(" \t", first + 1);
      auto word = out.substr(word_at, out.find_first_of(" \t\n(", word_at) - word_at);
      if (word.rfind("if", 0) == 0)
        in_later_branch.push_back(false);
      else if ((word == "else" || word == "elif") && !in_later_branch.empty())
        in_later_branch.back() = true;
      else if (word == "endif" && !in_later_branch.empty())
        in_later_branch.pop_back();
    }
    bool inactive =
      std::find(in_later_branch.begin(), in_later_branch.end(), true) != in_later_branch.end();
    if (directive || inactive)
      blank(out, at, end);
    at = end + 1;
  }
}

/// The position of the `(` matching the `)` at `close`, or npos.
std::size_t matching_open(const std::string& s, std::size_t close) {
  int depth = 0;
  for (auto i = close + 1; i-- > 0;) {
    if (s[i] == ')')
      ++depth;
    else if (s[i] == '(' && --depth == 0)
      return i;
  }
  return std::string::npos;
}

/// The identifier that ends just before `end` (whitespace skipped).
std::string word_before(const std::string& s, std::size_t end) {
  while (end > 0 && std::isspace(static_cast<unsigned char>(s[end - 1])) != 0)
    --end;
  auto start = end;
  while (start > 0 && word_char(s[start - 1]))
    --start;
  return s.substr(start, end - start);
}

/// If the `{` at `brace` opens a function body, its name ("" for a lambda).
std::optional<std::string> function_name(const std::string& s, std::size_t brace) {
  // What follows a parameter list: qualifiers and a trailing return type.
  static const std::regex tail(
    R"(^(\s*(const|noexcept|override|final|mutable|volatile|&&|&))*\s*(->\s*[\w:<>,\s*&]+)?\s*$)");
  auto close = s.find_last_of(";{}()", brace == 0 ? 0 : brace - 1);
  while (close != std::string::npos && s[close] == ')') {
    if (!std::regex_match(s.begin() + static_cast<long>(close) + 1,
                          s.begin() + static_cast<long>(brace), tail))
      return std::nullopt;
    auto open = matching_open(s, close);
    if (open == std::string::npos)
      return std::nullopt;
    auto name = word_before(s, open);
    if (name == "noexcept") {  // noexcept(expr): the parameter list is before it
      brace = open - name.size();
      close = s.find_last_of(";{}()", brace - 1);
      continue;
    }
    static const char* const statements[] = {"if", "for", "while", "switch", "catch"};
    if (std::find(std::begin(statements), std::end(statements), name) != std::end(statements))
      return std::nullopt;
    return name;
  }
  return std::nullopt;
}

}  // namespace

std::string code_only(std::string_view source) {
  std::string out(source);
  for (std::size_t i = 0; i < out.size();) {
    auto end = skip_literal(out, i);
    if (end == i) {
      ++i;
      continue;
    }
    blank(out, i, end);
    i = end;
  }
  drop_inactive_branches(out);
  return out;
}

std::vector<long_function> long_functions(std::string_view source, std::size_t limit) {
  auto code = code_only(source);
  struct open_brace {
    std::size_t line;
    std::optional<std::string> name;  ///< set if it opens a function body
  };
  std::vector<open_brace> open;
  std::vector<long_function> found;
  std::size_t line = 1;
  for (std::size_t i = 0; i < code.size(); ++i) {
    if (code[i] == '\n') {
      ++line;
    } else if (code[i] == '{') {
      open.push_back({line, function_name(code, i)});
    } else if (code[i] == '}' && !open.empty()) {
      auto brace = std::move(open.back());
      open.pop_back();
      if (brace.name && line - brace.line > limit)
        found.push_back({brace.line, line - brace.line, *brace.name});
    }
  }
  return found;
}

std::size_t line_count(std::string_view source) {
  auto n = static_cast<std::size_t>(std::count(source.begin(), source.end(), '\n'));
  return n + (!source.empty() && source.back() != '\n' ? 1 : 0);
}

}  // namespace ballot::style
