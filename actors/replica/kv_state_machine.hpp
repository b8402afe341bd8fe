#pragma once

#include <charconv>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "actors/paxos/state_machine.hpp"

namespace ballot::actors {

/// A small key/value store, the state machine of the examples and tests.
/// Commands are text, one per payload; keys are single words:
///
///     put <key> <value>   stores value (the rest of the line)  -> "ok"
///     get <key>           reads a key                          -> value, "" if absent
///     add <key> <delta>   adds a signed integer to a counter   -> the new value
///                         (an absent key counts as 0)
///     del <key>           removes a key                        -> "1" if it existed, else "0"
///
/// Anything else yields a result starting with "error:". Errors are results,
/// not exceptions: every replica must reach the same state and the same
/// answer from the same log, including for malformed commands.
class kv_state_machine final : public paxos::state_machine {
 public:
  std::string apply(const std::string& payload) override {
    std::string_view rest = payload;
    auto op = next_word(rest);
    auto key = next_word(rest);
    if (key.empty())
      return "error: missing key";
    if (op == "put") {
      data_[std::string{key}] = std::string{rest};
      return "ok";
    }
    if (op == "get") {
      auto it = data_.find(std::string{key});
      return it == data_.end() ? std::string{} : it->second;
    }
    if (op == "add")
      return add(std::string{key}, rest);
    if (op == "del")
      return data_.erase(std::string{key}) != 0 ? "1" : "0";
    return "error: unknown command";
  }

  /// Reads without a log entry: the query is a key, the answer its value
  /// ("" if absent).
  std::string query(const std::string& key) const override {
    auto it = data_.find(key);
    return it == data_.end() ? std::string{} : it->second;
  }

  /// The whole map as netstring-like pairs, "<len>:<key><len>:<value>", in
  /// key order (so equal states give equal bytes).
  std::optional<std::string> snapshot() const override {
    std::string out;
    for (auto& [key, value] : data_) {
      for (auto* part : {&key, &value}) {
        out += std::to_string(part->size());
        out += ':';
        out += *part;
      }
    }
    return out;
  }

  /// Replaces the map with one `snapshot` made; throws std::runtime_error for
  /// bytes it did not make (and then leaves the map unchanged).
  void restore(const std::string& snapshot) override {
    std::map<std::string, std::string> data;
    std::string_view rest = snapshot;
    auto next_part = [&](std::string& out) {
      auto colon = rest.find(':');
      std::uint64_t len = 0;
      if (colon == std::string_view::npos || colon == 0 ||
          !parse_uint(rest.substr(0, colon), len) || len > rest.size() - colon - 1)
        throw std::runtime_error("kv_state_machine: malformed snapshot at offset " +
                                 std::to_string(snapshot.size() - rest.size()));
      out.assign(rest.substr(colon + 1, len));
      rest.remove_prefix(colon + 1 + len);
    };
    while (!rest.empty()) {
      std::string key;
      std::string value;
      next_part(key);
      next_part(value);
      data[std::move(key)] = std::move(value);
    }
    data_ = std::move(data);
  }

  /// The current contents, for inspection (tests, examples).
  const std::map<std::string, std::string>& data() const { return data_; }

 private:
  /// Splits off the first space-separated word of `text`.
  static std::string_view next_word(std::string_view& text) {
    auto end = text.find(' ');
    auto word = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    return word;
  }

  static bool parse_uint(std::string_view text, std::uint64_t& out) {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && ptr == text.data() + text.size();
  }

  static bool parse_int(std::string_view text, std::int64_t& out) {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && ptr == text.data() + text.size() && !text.empty();
  }

  std::string add(const std::string& key, std::string_view delta_text) {
    std::int64_t delta = 0;
    if (!parse_int(delta_text, delta))
      return "error: delta is not an integer";
    std::int64_t current = 0;
    auto it = data_.find(key);
    if (it != data_.end() && !parse_int(it->second, current))
      return "error: value is not an integer";
    if ((delta > 0 && current > std::numeric_limits<std::int64_t>::max() - delta) ||
        (delta < 0 && current < std::numeric_limits<std::int64_t>::min() - delta))
      return "error: overflow";
    auto result = std::to_string(current + delta);
    data_[key] = result;
    return result;
  }

  std::map<std::string, std::string> data_;
};

}  // namespace ballot::actors
