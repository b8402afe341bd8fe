// Encoding and decoding of each record kind, and what decoding refuses.
#include <gtest/gtest.h>

#include <string>

#include "runtime/wal/codec.hpp"

namespace {

using namespace ballot::wal;
using namespace ballot::paxos;

record round_trip(const record& rec) {
  std::string bytes;
  encode(rec, bytes);
  return decode(bytes);
}

value sample_value() {
  std::string binary{"a\0b\xff", 4};
  return value{{command{1, 2, "put x 1"}, command{3, 4, binary}, command{5, 6, ""}}};
}

TEST(CodecTest, RoundTripsPromise) {
  record rec = promise_record{{42, 3}};
  EXPECT_EQ(round_trip(rec), rec);
}

TEST(CodecTest, RoundTripsVote) {
  record rec = vote_record{17, {{5, 2}, sample_value()}};
  EXPECT_EQ(round_trip(rec), rec);
}

TEST(CodecTest, RoundTripsChosen) {
  record rec = chosen_record{99, sample_value()};
  EXPECT_EQ(round_trip(rec), rec);
}

TEST(CodecTest, KeepsEachCommandsFingerprint) {
  // Not part of a command's ==, so checked field by field.
  auto val = sample_value();
  val.commands[0].fingerprint = 0x1122334455667788ull;
  val.commands[1].fingerprint = ~0ull;
  auto back = round_trip(chosen_record{3, val});
  auto& got = std::get<chosen_record>(back).val.commands;
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].fingerprint, 0x1122334455667788ull);
  EXPECT_EQ(got[1].fingerprint, ~0ull);
  EXPECT_EQ(got[2].fingerprint, 0u);
}

TEST(CodecTest, RoundTripsNoopAndExtremes) {
  record noop = chosen_record{1, value{}};
  EXPECT_EQ(round_trip(noop), noop);
  record big =
    vote_record{~0ull, {{~0ull, ~0u}, value{{command{~0ull, ~0ull, std::string(100000, 'x')}}}}};
  EXPECT_EQ(round_trip(big), big);
}

TEST(CodecTest, EncodesAppendToTheOutput) {
  std::string bytes = "prefix";
  encode(promise_record{{1, 1}}, bytes);
  EXPECT_EQ(bytes.substr(0, 6), "prefix");
  EXPECT_EQ(decode(std::string_view{bytes}.substr(6)), (record{promise_record{{1, 1}}}));
}

TEST(CodecTest, DecodesUnalignedInput) {
  std::string bytes = "x";
  encode(vote_record{3, {{2, 1}, sample_value()}}, bytes);
  EXPECT_EQ(decode(std::string_view{bytes}.substr(1)),
            (record{vote_record{3, {{2, 1}, sample_value()}}}));
}

TEST(CodecTest, EncodedSizeReadsThePayloadsOwnHeader) {
  std::string bytes;
  encode(vote_record{3, {{2, 1}, sample_value()}}, bytes);
  EXPECT_EQ(encoded_size(bytes), bytes.size());
  EXPECT_EQ(encoded_size(std::string_view{bytes}.substr(0, 8)), bytes.size());
  EXPECT_EQ(encoded_size(std::string_view{bytes}.substr(0, 7)), std::nullopt);
  EXPECT_EQ(encoded_size(std::string(8, '\0')), std::nullopt);  // zeros tell nothing
}

TEST(CodecTest, RefusesWhatIsNotExactlyOneRecord) {
  std::string bytes;
  encode(promise_record{{1, 1}}, bytes);
  EXPECT_THROW(decode(""), codec_error);
  EXPECT_THROW(decode(std::string_view{bytes}.substr(0, bytes.size() - 1)), codec_error);
  EXPECT_THROW(decode(std::string_view{bytes}.substr(0, bytes.size() - 8)), codec_error);
  EXPECT_THROW(decode(bytes + std::string(8, '\0')), codec_error);
  EXPECT_THROW(decode(std::string(64, '\xAB')), codec_error);
}

TEST(CodecTest, ApplyMatchesPersistTo) {
  ready rd;
  rd.promised = ballot_number{4, 2};
  rd.accepted.push_back({1, {{4, 2}, sample_value()}});
  rd.chosen.push_back({1, sample_value()});
  durable_state expected;
  rd.persist_to(expected);
  durable_state got;
  apply_record(promise_record{{4, 2}}, got);
  apply_record(vote_record{1, {{4, 2}, sample_value()}}, got);
  apply_record(chosen_record{1, sample_value()}, got);
  EXPECT_EQ(got.promised, expected.promised);
  ASSERT_EQ(got.accepted.size(), 1u);
  EXPECT_EQ(got.accepted[1].val, expected.accepted[1].val);
  EXPECT_EQ(got.chosen, expected.chosen);
}

}  // namespace
