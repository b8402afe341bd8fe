#include "tests/style/include_scan.hpp"

#include <map>
#include <set>
#include <utility>

namespace ballot::style {

std::vector<std::string> includes_of(std::string_view source) {
  std::vector<std::string> out;
  bool in_comment = false;
  std::size_t at = 0;
  while (at < source.size()) {
    auto end = source.find('\n', at);
    if (end == std::string_view::npos)
      end = source.size();
    auto line = source.substr(at, end - at);
    at = end + 1;
    // Block comments that span lines hide what they hold.
    if (in_comment) {
      auto close = line.find("*/");
      if (close == std::string_view::npos)
        continue;
      line.remove_prefix(close + 2);
      in_comment = false;
    }
    auto first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos)
      continue;
    line.remove_prefix(first);
    if (line.substr(0, 2) == "/*" && line.find("*/") == std::string_view::npos) {
      in_comment = true;
      continue;
    }
    if (line.empty() || line[0] != '#')
      continue;
    line.remove_prefix(1);
    line.remove_prefix(std::min(line.find_first_not_of(" \t"), line.size()));
    if (line.substr(0, 7) != "include")
      continue;
    line.remove_prefix(7);
    auto open = line.find_first_of("<\"");
    if (open == std::string_view::npos)
      continue;
    auto close = line.find(line[open] == '<' ? '>' : '"', open + 1);
    if (close == std::string_view::npos)
      continue;
    out.emplace_back(line.substr(open + 1, close - open - 1));
  }
  return out;
}

bool forbidden_include(std::string_view target) {
  for (std::string_view prefix : {"caf/", "capnp/", "kj/"})
    if (target.substr(0, prefix.size()) == prefix)
      return true;
  // Generated Cap'n Proto code (schemas/*.capnp.h) pulls in capnp/ itself.
  constexpr std::string_view generated = ".capnp.h";
  return target.size() >= generated.size() &&
         target.substr(target.size() - generated.size()) == generated;
}

std::vector<std::string> forbidden_chain(const std::string& start, const project_reader& read) {
  // Depth first, each file once; `parent` rebuilds the chain found.
  std::map<std::string, std::string> parent{{start, ""}};
  std::vector<std::string> stack{start};
  while (!stack.empty()) {
    auto file = stack.back();
    stack.pop_back();
    auto text = read(file);
    if (!text)
      continue;
    for (auto& target : includes_of(*text)) {
      if (forbidden_include(target)) {
        std::vector<std::string> chain{target};
        for (auto f = file; !f.empty(); f = parent[f])
          chain.insert(chain.begin(), f);
        return chain;
      }
      if (parent.count(target) == 0) {
        parent[target] = file;
        stack.push_back(target);
      }
    }
  }
  return {};
}

}  // namespace ballot::style
