#include "runtime/json/json_line.hpp"

#include <gtest/gtest.h>

namespace {

using namespace ballot;
using namespace std::string_literals;

/// `bytes` as the JSON string literal a line holds.
std::string as_json_string(std::string_view bytes) {
  return json::line(json::value(json::text(bytes)));
}

TEST(JsonLineTest, TextKeepsValidUtf8) {
  std::string valid = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf";
  EXPECT_EQ(json::text(valid), valid);
  EXPECT_EQ(json::text("plain ascii\x01\x7f"), "plain ascii\x01\x7f");
}

TEST(JsonLineTest, TextReadsEachInvalidByteAsItsLatin1CodePoint) {
  EXPECT_EQ(json::text("\xff"), "\xc3\xbf");
  EXPECT_EQ(json::text("\x80"), "\xc2\x80");
  // Overlong, surrogate and past-U+10FFFF forms are not valid UTF-8.
  EXPECT_EQ(json::text("\xc0\xaf"), "\xc3\x80\xc2\xaf");
  EXPECT_EQ(json::text("\xed\xa0\x80"), "\xc3\xad\xc2\xa0\xc2\x80");
  EXPECT_EQ(json::text("\xf4\x90\x80\x80"), "\xc3\xb4\xc2\x90\xc2\x80\xc2\x80");
  // A truncated sequence at the end, and one cut short by ASCII.
  EXPECT_EQ(json::text("x\xe2\x82"), "x\xc3\xa2\xc2\x82");
  EXPECT_EQ(json::text("\xc3x"), "\xc3\x83x");
  // A lone Latin-1 é and the UTF-8 é read as the same code point.
  EXPECT_EQ(json::text("\xe9"), json::text("\xc3\xa9"));
}

TEST(JsonLineTest, QuotedEscapesControlsNulAndEverythingPastAscii) {
  EXPECT_EQ(as_json_string("a\tb\\c\x01\xff\n\xc3\xa9\"\r\b\f"),
            R"("a\tb\\c\u0001\u00ff\n\u00e9\"\r\b\f")");
  EXPECT_EQ(as_json_string("a\0b"s), R"("a\u0000b")");
  EXPECT_EQ(as_json_string("\x7f"), R"("\u007f")");
  // A C1 control (NEL) and the line separator end lines in some readers.
  EXPECT_EQ(as_json_string("\xc2\x85\xe2\x80\xa8"), R"("\u0085\u2028")");
  EXPECT_EQ(as_json_string("\xf0\x9f\x98\x80"), R"("\ud83d\ude00")");
  EXPECT_EQ(as_json_string(""), R"("")");
}

TEST(JsonLineTest, NewlineInAKeyStaysOnTheLine) {
  json::value v;
  v[json::text("evil\n{\"forged\":1}")] = json::text("x\ny");
  EXPECT_EQ(json::line(v), R"({"evil\n{\"forged\":1}":"x\ny"})");
}

TEST(JsonLineTest, AnyBytesMakeOneAsciiLineThatParsesBack) {
  std::string raw;
  for (int c = 0; c < 256; ++c)
    raw += static_cast<char>(c);
  json::value v;
  v[json::text(raw)] = json::text(raw);
  v["n"] = 7;
  auto line = json::line(v);
  for (unsigned char ch : line)
    ASSERT_TRUE(ch >= 0x20 && ch < 0x7f) << line;
  auto back = json::value::parse(line);  // throws on invalid JSON or UTF-8
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back.begin().key(), json::text(raw));
  EXPECT_EQ(back.begin().value(), json::text(raw));
  // Bytes below 0x80 come back as they were; every byte above reads as
  // U+0080..U+00FF (none of them is valid UTF-8 alone).
  auto s = back.begin().value().get<std::string>();
  EXPECT_EQ(s.substr(0, 128), raw.substr(0, 128));
  EXPECT_EQ(s.size(), 128u + 2 * 128u);
  EXPECT_EQ(s.substr(s.size() - 2), "\xc3\xbf");
}

TEST(JsonLineTest, ObjectsKeepInsertionOrder) {
  json::value v;
  v["z"] = 1;
  v["a"] = true;
  v["m"] = nullptr;
  v["l"] = json::value::array({1, "x"});
  EXPECT_EQ(json::line(v), R"({"z":1,"a":true,"m":null,"l":[1,"x"]})");
}

TEST(JsonLineTest, BytesNotPassedThroughTextDoNotThrow) {
  json::value v = "a\xff";
  EXPECT_EQ(json::line(v), R"("a\ufffd")");
}

}  // namespace
