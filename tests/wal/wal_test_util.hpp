#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "actors/paxos/ready.hpp"
#include "actors/replica/storage.hpp"
#include "runtime/wal/wal_storage.hpp"
#include "temp_dir.hpp"

/// Helpers shared by the log's tests: values, state comparison, opening a log
/// in a temporary directory, and byte surgery on segment files (to play crash
/// and bit rot).
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
  if (a.snap.has_value() != b.snap.has_value())
    return ::testing::AssertionFailure() << "snapshot " << (a.snap ? "present" : "absent") << " vs "
                                         << (b.snap ? "present" : "absent");
  if (a.snap && !(*a.snap == *b.snap))
    return ::testing::AssertionFailure()
           << "snapshots differ (last " << a.snap->last << " vs " << b.snap->last << ")";
  return ::testing::AssertionSuccess();
}

/// A snapshot after `last` with a machine state and a dedup table that
/// exercise binary bytes.
inline paxos::snapshot make_snapshot(paxos::slot_index last, std::string machine = "machine") {
  paxos::snapshot snap;
  snap.last = last;
  snap.machine = std::move(machine) + std::string("\0\xff", 2);
  snap.clients = std::vector<paxos::client_record>{
    {7, {{last, "r\0" + std::to_string(last)}, {last + 1, ""}}, last / 2, {}, 0},
    {9, {}, 0, {}, 0}};
  return snap;
}

/// `state` compacted at `snap`: what a core hands over as `ready::compacted`.
inline paxos::durable_state compact(paxos::durable_state state, paxos::snapshot snap) {
  auto last = snap.last;
  state.accepted.erase(state.accepted.begin(), state.accepted.upper_bound(last));
  state.chosen.erase(state.chosen.begin(), state.chosen.upper_bound(last));
  state.snap = std::move(snap);
  return state;
}

/// What the log keeps of a `persist_to` result: records for slots its
/// snapshot covers are dropped on replay.
inline paxos::durable_state without_covered(paxos::durable_state state) {
  if (!state.snap)
    return state;
  auto snap = *state.snap;
  return compact(std::move(state), std::move(snap));
}

/// Options for a log in `dir`. The default segment size is large enough that
/// a test rolls segments only when it asks for it. No preallocation: these
/// tests read a segment's size as where its records end, and cut or lose
/// bytes at that end (preallocation_test covers the allocated log).
inline wal_options options(const temp_dir& dir,
                           std::uint64_t segment_size = std::uint64_t{64} << 20) {
  wal_options opts;
  opts.dir = dir.path();
  opts.segment_size = segment_size;
  opts.preallocate_bytes = 0;
  return opts;
}

/// Opens the log in `dir` afresh and loads it, as a restarted replica would;
/// stores the recovery report in `*report` if given.
inline paxos::durable_state reload(const temp_dir& dir, recovery_report* report = nullptr) {
  wal_storage st{options(dir)};
  auto state = st.load();
  if (report != nullptr)
    *report = st.last_recovery();
  return state;
}

/// Expects `fn` to throw a storage_error whose message contains every needle.
template <class F>
void expect_storage_error(F&& fn, const std::vector<std::string>& needles) {
  try {
    fn();
    ADD_FAILURE() << "no storage_error";
  } catch (const actors::storage_error& e) {
    std::string msg = e.what();
    for (auto& needle : needles)
      EXPECT_NE(msg.find(needle), std::string::npos) << "'" << needle << "' not in: " << msg;
  }
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
