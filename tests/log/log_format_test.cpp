#include "runtime/log/log_format.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

using namespace ballot::logging;

record sample(std::string msg, std::vector<field> fields) {
  // 2026-12-05T19:35:25.123Z
  auto ts = std::chrono::system_clock::time_point{std::chrono::milliseconds{1796499325123}};
  return record{ts, level::warn, std::move(msg), std::move(fields)};
}

TEST(LogFormatTest, TextLineHasTimeLevelMessageAndFields) {
  auto line = format_record(format::text,
                            sample("slow fsync", {{"event", "slow_fsync"}, {"duration_ms", 150}}));
  EXPECT_EQ(line, "2026-12-05T19:35:25.123Z warn  slow fsync event=slow_fsync duration_ms=150");
}

TEST(LogFormatTest, TextQuotesValuesWithSpacesQuotesOrEquals) {
  auto line = format_record(
    format::text, sample("m", {{"a", "two words"}, {"b", "say \"hi\""}, {"c", "k=v"}, {"d", ""}}));
  EXPECT_NE(line.find(R"( a="two words")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"( b="say \"hi\"")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"( c="k=v")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"( d="")"), std::string::npos) << line;
}

TEST(LogFormatTest, TextEscapesControlAndInvalidBytesKeepingOneLine) {
  std::string key_from_client = std::string{"a\nb\x01"} + "\xff" + "\\" + "\x7f";
  auto line =
    format_record(format::text, sample("name " + key_from_client, {{"key", key_from_client}}));
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_NE(line.find(R"(name a\nb\x01\xff\\\x7f)"), std::string::npos) << line;
  EXPECT_NE(line.find(R"(key=a\nb\x01\xff\\\x7f)"), std::string::npos) << line;
  for (unsigned char ch : line)
    EXPECT_TRUE(ch >= 0x20 && ch != 0x7f) << line;
}

TEST(LogFormatTest, TextKeepsValidUtf8) {
  EXPECT_EQ(escape_text("caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac");
  // Overlong and surrogate forms are not valid UTF-8.
  EXPECT_EQ(escape_text("\xc0\xaf"), "\\xc0\\xaf");
  EXPECT_EQ(escape_text("\xed\xa0\x80"), "\\xed\\xa0\\x80");
  // A truncated sequence at the end.
  EXPECT_EQ(escape_text("x\xe2\x82"), "x\\xe2\\x82");
}

TEST(LogFormatTest, JsonLineParsesWithEveryFieldAndNumbersAsNumbers) {
  auto line = format_record(
    format::json,
    sample("leader elected", {{"event", "leader_elected"}, {"replica", 2}, {"ballot", "3.2"}}));
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["ts"], "2026-12-05T19:35:25.123Z");
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["msg"], "leader elected");
  EXPECT_EQ(j["event"], "leader_elected");
  EXPECT_EQ(j["replica"], 2);
  EXPECT_EQ(j["ballot"], "3.2");
}

TEST(LogFormatTest, JsonEscapesAnyBytesIntoValidJson) {
  std::string raw;
  for (int c = 0; c < 256; ++c)
    raw += static_cast<char>(c);
  auto line = format_record(format::json, sample(raw, {{raw, raw}, {"q", "\"\\"}}));
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto j = nlohmann::json::parse(line);  // throws on invalid JSON or UTF-8
  auto msg = j["msg"].get<std::string>();
  // ASCII comes back as it was; each byte >= 0x80 (none is valid UTF-8
  // alone) reads as its Latin-1 code point.
  EXPECT_EQ(msg.substr(0, 128), raw.substr(0, 128));
  EXPECT_EQ(msg.substr(128, 2), "\xc2\x80");
  EXPECT_EQ(j["q"], "\"\\");
  EXPECT_EQ(j.size(), 5u);
}

TEST(LogFormatTest, JsonKeepsValidUtf8AndFieldsCannotReplaceTheFixedKeys) {
  auto line = format_record(format::json, sample("caf\xc3\xa9", {{"msg", "mine"}, {"level", "x"}}));
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["msg"], "caf\xc3\xa9");
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["field.msg"], "mine");
  EXPECT_EQ(j["field.level"], "x");
}

TEST(LogFormatTest, JsonLineIsAsciiInTheFixedKeyOrder) {
  auto line = format_record(
    format::json, sample("caf\xc3\xa9\n", {{"replica", 2}, {"lag", -3}, {"key", "\xff"}}));
  EXPECT_EQ(line, R"({"ts":"2026-12-05T19:35:25.123Z","level":"warn","msg":"caf\u00e9\n",)"
                  R"("replica":2,"lag":-3,"key":"\u00ff"})");
}

TEST(LogFormatTest, LevelsAndFormatsParse) {
  EXPECT_EQ(parse_level("trace"), level::trace);
  EXPECT_EQ(parse_level("debug"), level::debug);
  EXPECT_EQ(parse_level("info"), level::info);
  EXPECT_EQ(parse_level("warn"), level::warn);
  EXPECT_EQ(parse_level("warning"), level::warn);
  EXPECT_EQ(parse_level("error"), level::error);
  EXPECT_EQ(parse_level("off"), level::off);
  EXPECT_EQ(parse_level("loud"), std::nullopt);
  EXPECT_EQ(parse_format("json"), format::json);
  EXPECT_EQ(parse_format("text"), format::text);
  EXPECT_EQ(parse_format("xml"), std::nullopt);
}

TEST(LogFormatTest, TimeIsUtcWithMilliseconds) {
  EXPECT_EQ(format_time(std::chrono::system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_time(std::chrono::system_clock::time_point{std::chrono::milliseconds{1001}}),
            "1970-01-01T00:00:01.001Z");
}

}  // namespace
