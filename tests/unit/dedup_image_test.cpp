// The dedup table's part of a snapshot (actors/paxos/dedup_image): captured
// rows made into records later, once, equal to records given whole.
#include "actors/paxos/dedup_image.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace ballot::paxos {
namespace {

std::vector<dedup_image::captured_row> rows_of(const std::vector<recent_results>& results) {
  std::vector<dedup_image::captured_row> rows;
  rows.reserve(results.size());
  std::uint64_t client = 0;
  for (const auto& r : results)
    rows.push_back({++client, client * 10, client * 100, r});
  return rows;
}

TEST(DedupImageTest, CapturedRowsBecomeTheRecordsOfTheirTimeOnFirstUse) {
  std::vector<recent_results> table(2);
  table[0].put(4, {40, "four"});
  table[0].put(5, {50, "five"});
  table[1].put(9, {0, "nine"});
  dedup_image image{rows_of(table)};
  EXPECT_FALSE(image.made());
  EXPECT_EQ(image.size(), 2u) << "the count is known without the records";
  // The learner goes on before anybody reads the image.
  table[0].put(6, {60, "six"});
  table[0].pop_oldest();
  EXPECT_FALSE(image.made());

  std::vector<client_record> want{{1, {{4, "four"}, {5, "five"}}, 10, {40, 50}, 100},
                                  {2, {{9, "nine"}}, 20, {0}, 200}};
  EXPECT_EQ(image.records(), want);
  EXPECT_TRUE(image.made());
  EXPECT_EQ(image, dedup_image{want});
  EXPECT_EQ(image[1].client, 2u);
  // Made, the image let the rows go: the learner's are its own again.
  EXPECT_FALSE(table[1].shared());
}

TEST(DedupImageTest, CopiesShareOneImageAndMakeTheRecordsOnce) {
  std::vector<recent_results> table(64);
  for (std::uint64_t c = 0; c < table.size(); ++c)
    for (std::uint64_t seq = 1; seq <= 64; ++seq)
      table[c].put(seq, {seq, std::string(24, static_cast<char>('a' + c % 26))});
  dedup_image image{rows_of(table)};
  auto copy = image;
  const std::vector<client_record>* seen[2] = {nullptr, nullptr};
  std::thread a([&] { seen[0] = &image.records(); });
  std::thread b([&] { seen[1] = &copy.records(); });
  a.join();
  b.join();
  EXPECT_EQ(seen[0], seen[1]) << "two threads should get the one set of records";
  ASSERT_EQ(seen[0]->size(), 64u);
  EXPECT_EQ((*seen[0])[63].results.size(), 64u);
  EXPECT_EQ((*seen[0])[63].results[0].second, std::string(24, 'a' + 63 % 26));
}

TEST(DedupImageTest, AnEmptyImageHasNoRecords) {
  dedup_image none;
  EXPECT_TRUE(none.empty());
  EXPECT_TRUE(none.made());
  EXPECT_TRUE(none.records().empty());
  EXPECT_EQ(none, dedup_image{std::vector<client_record>{}});
  dedup_image one{std::vector<client_record>{{1, {}, 0, {}, 0}}};
  EXPECT_NE(none, one);
}

}  // namespace
}  // namespace ballot::paxos
