#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "actors/paxos/ready.hpp"

/// Helpers shared by the log's tests: values, state comparison, and byte
/// surgery on segment files (to play crash and bit rot).
namespace ballot::wal::test {

inline paxos::value make_value(std::uint64_t client, std::uint64_t seq, std::string payload) {
  return paxos::value{{paxos::command{client, seq, std::move(payload)}}};
}

/// A ready with one vote (one record).
inline paxos::ready vote_ready(paxos::slot_index slot, std::uint64_t round,
                               std::string payload = "payload") {
  paxos::ready rd;
  rd.accepted.push_back({slot, {{round, 1}, make_value(7, slot, std::move(payload))}});
  return rd;
}

/// Compares every part of two durable states, with a readable failure.
inline ::testing::AssertionResult same_state(const paxos::durable_state& a,
                                             const paxos::durable_state& b) {
  if (a.promised != b.promised)
    return ::testing::AssertionFailure()
           << "promised (" << a.promised.round << "," << a.promised.node << ") vs ("
           << b.promised.round << "," << b.promised.node << ")";
  if (a.accepted.size() != b.accepted.size())
    return ::testing::AssertionFailure()
           << a.accepted.size() << " vs " << b.accepted.size() << " accepted slots";
  for (auto& [slot, vote] : a.accepted) {
    auto it = b.accepted.find(slot);
    if (it == b.accepted.end())
      return ::testing::AssertionFailure() << "accepted slot " << slot << " missing";
    if (it->second.ballot != vote.ballot || it->second.val != vote.val)
      return ::testing::AssertionFailure() << "accepted slot " << slot << " differs";
  }
  if (a.chosen != b.chosen)
    return ::testing::AssertionFailure()
           << "chosen differ (" << a.chosen.size() << " vs " << b.chosen.size() << " slots)";
  return ::testing::AssertionSuccess();
}

inline std::uint64_t file_size(const std::string& path) {
  return std::filesystem::file_size(path);
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline void flip_byte(const std::string& path, std::uint64_t offset) {
  auto bytes = read_bytes(path);
  bytes.at(offset) = static_cast<char>(bytes.at(offset) ^ 0x5A);
  write_bytes(path, bytes);
}

}  // namespace ballot::wal::test
