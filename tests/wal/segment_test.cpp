// Framing and segment names, without any file: how a scan classifies the end
// of a segment's bytes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/wal/segment.hpp"

namespace {

using namespace ballot::wal;

std::string frames(const std::vector<std::string>& payloads) {
  std::string out;
  for (auto& p : payloads)
    append_frame(out, p);
  return out;
}

std::vector<std::string> scan_payloads(std::string_view bytes, scan_result* res = nullptr) {
  std::vector<std::string> out;
  auto r = scan_frames(bytes, [&](std::uint64_t, std::string_view p) { out.emplace_back(p); });
  if (res != nullptr)
    *res = r;
  return out;
}

TEST(SegmentTest, NamesSortByIndexAndParseBack) {
  EXPECT_EQ(segment_file_name(0), "wal-0000000000000000.log");
  EXPECT_EQ(segment_file_name(0xabc), "wal-0000000000000abc.log");
  EXPECT_EQ(parse_segment_file_name(segment_file_name(~0ull)), ~0ull);
  EXPECT_LT(segment_file_name(9), segment_file_name(10));
  EXPECT_EQ(parse_segment_file_name("wal-000000000000000g.log"), std::nullopt);
  EXPECT_EQ(parse_segment_file_name("wal-00000000000000AB.log"), std::nullopt);
  EXPECT_EQ(parse_segment_file_name("wal-0.log"), std::nullopt);
  EXPECT_EQ(parse_segment_file_name("LOCK"), std::nullopt);
}

TEST(SegmentTest, FrameIsLengthCrcPayload) {
  std::string out;
  append_frame(out, "123456789");
  ASSERT_EQ(out.size(), 8u + 9u);
  EXPECT_EQ(out.substr(0, 4), std::string("\x09\x00\x00\x00", 4));
  EXPECT_EQ(out.substr(4, 4), std::string("\x83\x92\x06\xE3", 4));  // 0xE3069283, little-endian
  EXPECT_EQ(out.substr(8), "123456789");
}

TEST(SegmentTest, ScansWholeRecordsClean) {
  auto bytes = frames({"a", "bb", "ccc"});
  scan_result res;
  EXPECT_EQ(scan_payloads(bytes, &res), (std::vector<std::string>{"a", "bb", "ccc"}));
  EXPECT_EQ(res.end, scan_end::clean);
  EXPECT_EQ(res.valid_size, bytes.size());
  EXPECT_EQ(res.records, 3u);
}

TEST(SegmentTest, EveryCutOfTheLastRecordIsTorn) {
  auto whole = frames({"first", "second record"});
  auto first_end = 8 + 5;
  for (std::size_t cut = first_end + 1; cut < whole.size(); ++cut) {
    scan_result res;
    EXPECT_EQ(scan_payloads(std::string_view{whole}.substr(0, cut), &res),
              (std::vector<std::string>{"first"}))
      << cut;
    EXPECT_EQ(res.end, scan_end::torn) << cut;
    EXPECT_EQ(res.valid_size, first_end) << cut;
  }
}

TEST(SegmentTest, TrailingZerosAreTorn) {
  auto bytes = frames({"a"}) + std::string(3, '\0');
  scan_result res;
  scan_payloads(bytes, &res);
  EXPECT_EQ(res.end, scan_end::torn);
  bytes = frames({"a"}) + std::string(4096, '\0');
  scan_payloads(bytes, &res);
  EXPECT_EQ(res.end, scan_end::torn);
  EXPECT_EQ(res.valid_size, 9u);
}

TEST(SegmentTest, BadCrcFollowedByDataIsCorrupt) {
  auto bytes = frames({"aaaa", "bbbb", "cccc"});
  bytes[8 + 4 + 8] ^= 1;  // first payload byte of the second record
  scan_result res;
  EXPECT_EQ(scan_payloads(bytes, &res), (std::vector<std::string>{"aaaa"}));
  EXPECT_EQ(res.end, scan_end::corrupt);
  EXPECT_EQ(res.valid_size, 12u);
}

TEST(SegmentTest, BadCrcOfTheLastRecordWithOnlyZerosAfterIsTorn) {
  auto bytes = frames({"aaaa", "bbbb"});
  bytes[bytes.size() - 1] = '\0';
  scan_result res;
  scan_payloads(bytes + std::string(16, '\0'), &res);
  EXPECT_EQ(res.end, scan_end::torn);
  EXPECT_EQ(res.valid_size, 12u);
}

TEST(SegmentTest, ZeroOrHugeLengthBeforeDataIsCorrupt) {
  auto bytes = frames({"aaaa"}) + std::string(8, '\0') + frames({"bbbb"});
  scan_result res;
  scan_payloads(bytes, &res);
  EXPECT_EQ(res.end, scan_end::corrupt);
  EXPECT_EQ(res.valid_size, 12u);
  bytes = frames({"aaaa", "bbbb"});
  bytes[12 + 3] = '\x7F';  // length of the second record > max_record_size
  scan_payloads(bytes, &res);
  EXPECT_EQ(res.end, scan_end::corrupt);
}

TEST(SegmentTest, LengthPastTheEndIsCorruptWhenThePayloadSaysOtherwise) {
  auto bytes = frames({"aaaaaaaa", "bbbbbbbb", "cccccccc"});
  bytes[16 + 1] = '\x01';  // second length: 8 -> 264, past the end
  auto says_eight = [](std::string_view) -> std::optional<std::size_t> { return 8; };
  auto res = scan_frames(bytes, [](std::uint64_t, std::string_view) {});
  EXPECT_EQ(res.end, scan_end::torn);  // without the check it looks torn
  res = scan_frames(
    bytes, [](std::uint64_t, std::string_view) {}, says_eight);
  EXPECT_EQ(res.end, scan_end::corrupt);
  EXPECT_EQ(res.valid_size, 16u);
}

}  // namespace
