// The pure libraries (the Paxos core, the commit pipeline, the key/value,
// lock, auth and service machines, the balancer's core and policies, and the
// clients' cores) reach no CAF, Cap'n Proto or KJ header, through any chain of
// the project's own headers (tests/style/include_scan).
#include "tests/style/include_scan.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace ballot::style {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> read_project(const std::string& rel) {
  std::ifstream in(fs::path(SOURCE_DIR) / rel, std::ios::binary);
  if (!in)
    return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// "library:path" entries, separated by '|' (CMake's list, from the
/// libraries' own source lists: tests/style/CMakeLists.txt).
std::vector<std::pair<std::string, std::string>> pure_sources() {
  std::vector<std::pair<std::string, std::string>> out;
  std::stringstream list{PURE_SOURCES};
  for (std::string item; std::getline(list, item, '|');) {
    auto colon = item.find(':');
    auto path = fs::relative(item.substr(colon + 1), SOURCE_DIR).string();
    out.emplace_back(item.substr(0, colon), path);
    // The header of the same name, which other libraries include too.
    auto header = fs::path(path).replace_extension(".hpp").string();
    if (read_project(header))
      out.emplace_back(item.substr(0, colon), header);
  }
  return out;
}

TEST(IncludeScanTest, FindsIncludesButNotCommentedOnes) {
  auto found = includes_of(
    "#include <caf/all.hpp>\n"
    "  #  include \"actors/paxos/types.hpp\"  // why\n"
    "// #include <kj/async.h>\n"
    "/* a comment\n"
    "#include <capnp/message.h>\n"
    "*/\n"
    "#include_next <vector>\n"
    "int x = 0;  #include <nothing>\n");
  EXPECT_EQ(found, (std::vector<std::string>{"caf/all.hpp", "actors/paxos/types.hpp", "vector"}));
}

TEST(IncludeScanTest, AForbiddenHeaderTwoProjectHeadersDownIsFoundWithItsChain) {
  std::map<std::string, std::string> files{
    {"pure.cpp", "#include \"a.hpp\"\n#include <vector>\n"},
    {"a.hpp", "#include <string>\n#include \"b.hpp\"\n#include \"a.hpp\"\n"},
    {"b.hpp", "#include \"schemas/client.capnp.h\"\n"},
    {"clean.cpp", "#include \"a2.hpp\"\n"},
    {"a2.hpp", "#include <memory>\n"}};
  auto read = [&](const std::string& f) -> std::optional<std::string> {
    auto it = files.find(f);
    return it == files.end() ? std::nullopt : std::optional<std::string>{it->second};
  };
  EXPECT_EQ(forbidden_chain("pure.cpp", read),
            (std::vector<std::string>{"pure.cpp", "a.hpp", "b.hpp", "schemas/client.capnp.h"}));
  EXPECT_TRUE(forbidden_chain("clean.cpp", read).empty());
  EXPECT_TRUE(forbidden_include("kj/async.h"));
  EXPECT_TRUE(forbidden_include("caf/actor.hpp"));
  EXPECT_FALSE(forbidden_include("actors/paxos/types.hpp"));
}

TEST(PureSourcesTest, NoPureLibraryReachesCafCapnProtoOrKj) {
  auto sources = pure_sources();
  std::set<std::string> libraries;
  for (const auto& [library, path] : sources) {
    libraries.insert(library);
    auto chain = forbidden_chain(path, read_project);
    if (!chain.empty()) {
      std::string shown;
      for (const auto& f : chain)
        shown += (shown.empty() ? "" : " -> ") + f;
      ADD_FAILURE() << library << " is pure, but " << shown;
    }
  }
  EXPECT_GE(libraries.size(), 8u) << "the list of pure libraries did not come through";
  EXPECT_GT(sources.size(), 30u);
}

}  // namespace
}  // namespace ballot::style
