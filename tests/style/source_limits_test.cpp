// Issue 14's size rules, checked on every build: no product file over 800
// lines and no function over 80 lines outside `main`s (tests/style/source_scan).
#include "tests/style/source_scan.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace ballot::style {
namespace {

constexpr std::size_t max_file_lines = 800;
constexpr std::size_t max_function_lines = 80;

/// A function `name` whose body spans `body` lines between its braces.
std::string function_of(const std::string& name, std::size_t body, const std::string& head = "") {
  std::string s = head + "int " + name + "(int x) const {\n";
  for (std::size_t i = 0; i < body; ++i)
    s += "  x += 1;\n";
  return s + "}\n";
}

TEST(SourceScanTest, AFunctionOverTheLimitIsFoundAndOneAtItIsNot) {
  auto over = long_functions(function_of("f", 80), 80);  // braces 81 lines apart
  ASSERT_EQ(over.size(), 1u);
  EXPECT_EQ(over[0].name, "f");
  EXPECT_EQ(over[0].line, 1u);
  EXPECT_EQ(over[0].lines, 81u);
  EXPECT_TRUE(long_functions(function_of("f", 79), 80).empty());
}

TEST(SourceScanTest, ControlStatementsClassesAndInitializersAreNotFunctions) {
  std::string body;
  for (int i = 0; i < 90; ++i)
    body += "  x += 1;\n";
  for (const char* head :
       {"if (x > 0) {\n", "for (int i = 0; i < 3; ++i) {\n", "while (f(x)) {\n", "switch (x) {\n",
        "struct s : base {\n", "namespace n {\n", "std::vector<int> v = {\n", "else {\n"})
    EXPECT_TRUE(long_functions(head + body + "}\n", 80).empty()) << head;
}

TEST(SourceScanTest, LambdasQualifiersAndTrailingReturnsAreFunctions) {
  std::string body;
  for (int i = 0; i < 90; ++i)
    body += "  x += 1;\n";
  for (const char* head :
       {"auto f = [&](int x) mutable {\n", "void f() noexcept(true) {\n",
        "auto f(int a) -> std::map<int, int> {\n", "void f() const&& override {\n"})
    EXPECT_EQ(long_functions(head + body + "}\n", 80).size(), 1u) << head;
}

TEST(SourceScanTest, CommentsLiteralsAndLaterPreprocessorBranchesAreNotCode) {
  // Braces in comments, strings, characters and raw strings would unbalance
  // the count; a mutant's #else branch would open a second body.
  std::string s =
    "void f() {\n"
    "  // }\n"
    "  /* } */ auto a = \"}\"; auto b = '}'; auto n = 1'000;\n"
    "  auto r = R\"x(})x\";\n"
    "#ifndef MUTANT\n"
    "  if (a) {\n"
    "#else\n"
    "  if (b) {\n"
    "#endif\n"
    "  }\n";
  for (int i = 0; i < 90; ++i)
    s += "  a += 1;\n";
  s += "}\n";
  auto found = long_functions(s, 80);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].lines, 100u);
  EXPECT_EQ(code_only("a // b\nc").find('b'), std::string::npos);
  EXPECT_EQ(line_count("a\nb\n"), 2u);
  EXPECT_EQ(line_count("a\nb"), 2u);
}

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ProductSourcesTest, NoFileIsOver800LinesAndNoFunctionOver80OutsideMain) {
  namespace fs = std::filesystem;
  std::size_t files = 0;
  for (const char* dir : {"actors", "runtime", "bench", "examples"}) {
    for (const auto& e : fs::recursive_directory_iterator(fs::path(SOURCE_DIR) / dir)) {
      auto ext = e.path().extension();
      if (!e.is_regular_file() || (ext != ".cpp" && ext != ".hpp" && ext != ".h"))
        continue;
      ++files;
      auto text = read(e.path());
      auto rel = fs::relative(e.path(), SOURCE_DIR).string();
      EXPECT_LE(line_count(text), max_file_lines) << rel;
      for (const auto& f : long_functions(text, max_function_lines))
        if (f.name != "main")
          ADD_FAILURE() << rel << ":" << f.line << ": function " << f.name << " spans " << f.lines
                        << " lines (at most " << max_function_lines << ")";
    }
  }
  EXPECT_GT(files, 100u);  // the walk found the tree
}

}  // namespace
}  // namespace ballot::style
