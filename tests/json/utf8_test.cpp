#include "runtime/json/utf8.hpp"

#include <gtest/gtest.h>

namespace {

using ballot::utf8::valid_length;

TEST(Utf8Test, ValidSequencesHaveTheirLength) {
  EXPECT_EQ(valid_length("a", 0), 1u);
  EXPECT_EQ(valid_length("\xc3\xa9", 0), 2u);          // é
  EXPECT_EQ(valid_length("\xe2\x82\xac", 0), 3u);      // €
  EXPECT_EQ(valid_length("\xf0\x9f\x98\x80", 0), 4u);  // U+1F600
  EXPECT_EQ(valid_length("\xf4\x8f\xbf\xbf", 0), 4u);  // U+10FFFF, the last
  EXPECT_EQ(valid_length("x\xc3\xa9", 1), 2u);
}

TEST(Utf8Test, InvalidSequencesAreZero) {
  EXPECT_EQ(valid_length("\x80", 0), 0u);  // a stray continuation byte
  EXPECT_EQ(valid_length("\xff", 0), 0u);
  EXPECT_EQ(valid_length("\xc0\xaf", 0), 0u);          // overlong '/'
  EXPECT_EQ(valid_length("\xe0\x80\xaf", 0), 0u);      // overlong, three bytes
  EXPECT_EQ(valid_length("\xf0\x80\x80\xaf", 0), 0u);  // overlong, four bytes
  EXPECT_EQ(valid_length("\xed\xa0\x80", 0), 0u);      // surrogate U+D800
  EXPECT_EQ(valid_length("\xf4\x90\x80\x80", 0), 0u);  // past U+10FFFF
  EXPECT_EQ(valid_length("\xe2\x82", 0), 0u);          // cut short by the end
  EXPECT_EQ(valid_length("\xe2\x82x", 0), 0u);         // cut short by ASCII
}

}  // namespace
