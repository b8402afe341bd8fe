// One client's row of the learner's dedup table (actors/paxos/recent_results):
// against a std::map that does the same, over seeded random seqs that come
// mostly in order, sometimes out of it, sometimes again.
#include "actors/paxos/recent_results.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>

namespace ballot::paxos {
namespace {

TEST(RecentResultsTest, FindsWhatWasPutInAnyOrderAndForgetsTheOldestFirst) {
  recent_results row;
  EXPECT_EQ(row.find(1), nullptr);
  row.put(5, {50, "five"});
  row.put(7, {70, "seven"});
  row.put(6, {60, "six"});  // out of order: goes between
  row.put(7, {71, "seven again"});
  ASSERT_EQ(row.size(), 3u);
  EXPECT_EQ(row.find(4), nullptr);
  EXPECT_EQ(row.find(8), nullptr);
  ASSERT_NE(row.find(6), nullptr);
  EXPECT_EQ(row.find(6)->bytes, "six");
  EXPECT_EQ(row.find(7)->fingerprint, 71u);
  std::uint64_t last = 0;
  for (const auto& [seq, r] : row) {
    EXPECT_GT(seq, last) << "not in seq order";
    last = seq;
  }
  EXPECT_EQ(row.pop_oldest(), 5u);
  EXPECT_EQ(row.find(5), nullptr);
  EXPECT_EQ(row.find(6)->fingerprint, 60u);
}

TEST(RecentResultsTest, BehavesAsAnOrderedMapWindowOverRandomSeqs) {
  constexpr std::size_t window = 64;
  for (unsigned seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 rng{seed};
    recent_results row;
    std::map<std::uint64_t, std::uint64_t> model;  // seq -> fingerprint
    std::uint64_t next = 1;
    for (int step = 0; step < 5000; ++step) {
      std::uint64_t seq = next;
      switch (rng() % 10) {
        case 0:  // an older seq, maybe recorded already, maybe below the window
          seq = next > 100 ? next - 1 - rng() % 100 : next;
          break;
        case 1:  // a gap (a pipelined client whose later seq applied first)
          seq = next + rng() % 5;
          break;
        default:
          ++next;
      }
      next = std::max(next, seq + 1);
      // What the learner does: nothing below what it forgot.
      if (!model.empty() && model.size() == window && seq < model.begin()->first)
        continue;
      row.put(seq, {seq * 3 + static_cast<std::uint64_t>(step), std::to_string(seq)});
      model[seq] = seq * 3 + static_cast<std::uint64_t>(step);
      if (row.size() > window) {
        ASSERT_EQ(row.pop_oldest(), model.begin()->first) << "seed " << seed;
        model.erase(model.begin());
      }
      ASSERT_EQ(row.size(), model.size()) << "seed " << seed;
      auto probe = next > 200 ? next - rng() % 200 : rng() % (next + 1);
      auto* got = row.find(probe);
      auto want = model.find(probe);
      ASSERT_EQ(got != nullptr, want != model.end()) << "seed " << seed << " seq " << probe;
      if (got != nullptr) {
        EXPECT_EQ(got->fingerprint, want->second);
        EXPECT_EQ(got->bytes, std::to_string(probe));
      }
    }
    auto it = model.begin();
    for (const auto& [seq, r] : row) {
      ASSERT_NE(it, model.end());
      EXPECT_EQ(seq, it->first);
      ++it;
    }
  }
}

TEST(RecentResultsTest, ACopySharesTheRowsUntilEitherSideChangesThem) {
  recent_results row;
  for (std::uint64_t seq = 1; seq <= 4; ++seq)
    row.put(seq, {seq, "r" + std::to_string(seq)});
  auto copy = row;  // what a snapshot captures
  EXPECT_TRUE(row.shared());
  EXPECT_EQ(&*row.begin(), &*copy.begin()) << "a copy should share, not copy, the rows";
  // The learner goes on: the copy keeps the rows as they were.
  row.put(5, {5, "r5"});
  EXPECT_EQ(row.pop_oldest(), 1u);
  row.put(3, {33, "again"});
  EXPECT_FALSE(row.shared());
  ASSERT_EQ(copy.size(), 4u);
  EXPECT_EQ(copy.find(5), nullptr);
  ASSERT_NE(copy.find(1), nullptr);
  EXPECT_EQ(copy.find(1)->bytes, "r1");
  EXPECT_EQ(copy.find(3)->fingerprint, 3u);
  EXPECT_EQ(row.find(3)->fingerprint, 33u);
  // And the other way round: changing the copy leaves the row alone.
  auto second = row;
  EXPECT_EQ(second.pop_oldest(), 2u);
  EXPECT_NE(row.find(2), nullptr);
  EXPECT_EQ(second.find(2), nullptr);
}

TEST(RecentResultsTest, ARowLetGoOnAnotherThreadIsChangedInPlaceAgain) {
  recent_results row;
  row.put(1, {1, "one"});
  auto copy = std::make_unique<recent_results>(row);
  std::thread holder([&] {
    // The storage's thread reads its copy, then drops it.
    EXPECT_EQ(copy->find(1)->bytes, "one");
    copy.reset();
  });
  holder.join();
  EXPECT_FALSE(row.shared());
  const auto* before = &*row.begin();
  row.put(2, {2, "two"});
  EXPECT_EQ(&*row.begin(), before) << "an unshared row should not be copied";
  EXPECT_EQ(row.size(), 2u);
}

}  // namespace
}  // namespace ballot::paxos
