// The key/value codec: every request and result survives a round trip, and
// any malformed byte string decodes to a clear error, never a crash.

#include "actors/kv/command_codec.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace {

using namespace ballot::kv;

request round_trip(const request& req) {
  request out;
  std::string error;
  EXPECT_TRUE(decode(encode(req), out, error)) << error;
  return out;
}

TEST(CommandCodecTest, RequestsRoundTrip) {
  auto put = std::get<put_request>(round_trip(put_request{"k", std::string("v\0x", 3), 7}));
  EXPECT_EQ(put.key, "k");
  EXPECT_EQ(put.value, std::string("v\0x", 3));
  EXPECT_EQ(put.if_version, 7u);
  auto create = std::get<put_request>(round_trip(put_request{"k", "", 0}));
  EXPECT_EQ(create.if_version, 0u);
  auto plain = std::get<put_request>(round_trip(put_request{"k", "v", std::nullopt}));
  EXPECT_FALSE(plain.if_version);
  EXPECT_EQ(std::get<get_request>(round_trip(get_request{"key"})).key, "key");
  auto del = std::get<del_request>(round_trip(del_request{"d", 0xffffffffffffffffull}));
  EXPECT_EQ(del.if_version, 0xffffffffffffffffull);
  auto list = std::get<list_request>(round_trip(list_request{"pre/", 10}));
  EXPECT_EQ(list.prefix, "pre/");
  EXPECT_EQ(list.limit, 10u);
}

TEST(CommandCodecTest, APutEncodedFromViewsIsTheSameBytesAndDecodes) {
  std::string value(100'000, 'v');
  value[7] = '\0';
  for (auto version : {std::optional<std::uint64_t>{}, std::optional<std::uint64_t>{42}})
    for (auto user : {std::optional<std::string>{}, std::optional<std::string>{""},
                      std::optional<std::string>{"alice"}}) {
      put_request req{"k\n1", value, version, user};
      auto bytes = encode_put(req.key, req.value, version, user);
      EXPECT_EQ(bytes, encode(request{req}));
      request back;
      std::string error;
      ASSERT_TRUE(decode(bytes, back, error)) << error;
      auto* put = std::get_if<put_request>(&back);
      ASSERT_NE(put, nullptr);
      EXPECT_EQ(put->value, value);
      EXPECT_EQ(put->if_version, version);
      EXPECT_EQ(put->checked_user, user);
    }
}

TEST(CommandCodecTest, ResultsRoundTrip) {
  result r;
  r.code = result_code::version_mismatch;
  r.version = 42;
  r.value = "value";
  r.entries = {{"a", 1}, {"b", 2}};
  r.truncated = true;
  r.message = "why";
  result out;
  std::string error;
  ASSERT_TRUE(decode(encode(r), out, error)) << error;
  EXPECT_EQ(out.code, result_code::version_mismatch);
  EXPECT_EQ(out.version, 42u);
  EXPECT_EQ(out.value, "value");
  EXPECT_EQ(out.entries, r.entries);
  EXPECT_TRUE(out.truncated);
  EXPECT_EQ(out.message, "why");
}

TEST(CommandCodecTest, PagedListingsRoundTripAndOldEncodingsStillDecode) {
  list_request paged{"pre/", 10, "pre/x", true, 4096};
  auto out = std::get<list_request>(round_trip(paged));
  EXPECT_EQ(out.start_after, "pre/x");
  EXPECT_TRUE(out.with_values);
  EXPECT_EQ(out.max_bytes, 4096u);
  // A plain listing encodes as before the paging fields existed (tag, prefix,
  // limit), so such an encoding decodes with the new fields at their defaults.
  auto plain = encode(list_request{"pre/", 10});
  EXPECT_EQ(plain, std::string("\x04\x04\0\0\0pre/\x0a\0\0\0", 13));
  request decoded;
  std::string error;
  ASSERT_TRUE(decode(plain, decoded, error)) << error;
  auto old = std::get<list_request>(decoded);
  EXPECT_EQ(old.prefix, "pre/");
  EXPECT_TRUE(old.start_after.empty());
  EXPECT_FALSE(old.with_values);
  EXPECT_EQ(old.max_bytes, 0u);
  // A cut paging tail is an error, not a silent default.
  auto cut = encode(paged);
  EXPECT_FALSE(decode(cut.substr(0, cut.size() - 1), decoded, error));
}

TEST(CommandCodecTest, ListingValuesRoundTripAndResultsWithoutValuesEncodeAsBefore) {
  result r;
  r.entries = {{"a", 1, std::string("x\0y", 3)}, {"b", 2, ""}};
  result out;
  std::string error;
  ASSERT_TRUE(decode(encode(r), out, error)) << error;
  EXPECT_EQ(out.entries, r.entries);
  // Without values: code version value n (key version)* truncated message.
  result plain;
  plain.entries = {{"a", 1}};
  auto bytes = encode(plain);
  EXPECT_EQ(bytes.size(), 1u + 8 + 4 + 4 + (4 + 1 + 8) + 1 + 4);
  ASSERT_TRUE(decode(bytes, out, error)) << error;
  EXPECT_EQ(out.entries, plain.entries);
  // A values tail must have one value per entry.
  auto valued = encode(r);
  EXPECT_FALSE(decode(valued.substr(0, valued.size() - 4), out, error));
}

TEST(CommandCodecTest, MalformedRequestsNameTheProblem) {
  request out;
  std::string error;
  EXPECT_FALSE(decode("", out, error));
  EXPECT_NE(error.find("tag at offset 0"), std::string::npos) << error;
  EXPECT_FALSE(decode(std::string("\x09", 1), out, error));
  EXPECT_NE(error.find("unknown operation 9"), std::string::npos) << error;
  // A key length far beyond the input: rejected without allocating it.
  EXPECT_FALSE(decode(std::string("\x02\xff\xff\xff\xff", 5), out, error));
  EXPECT_NE(error.find("key at offset 1"), std::string::npos) << error;
  EXPECT_NE(error.find("exceeds"), std::string::npos) << error;
  auto valid = encode(get_request{"k"});
  EXPECT_FALSE(decode(valid + "x", out, error));
  EXPECT_NE(error.find("1 trailing bytes"), std::string::npos) << error;
  EXPECT_FALSE(decode(valid.substr(0, valid.size() - 1), out, error));
  auto put = encode(put_request{"k", "v", std::nullopt});
  put.back() = '\x02';  // the if_version flag must be 0 or 1
  EXPECT_FALSE(decode(put, out, error));
  EXPECT_NE(error.find("flag byte is 2"), std::string::npos) << error;
}

TEST(CommandCodecTest, MalformedResultsAreRejected) {
  result out;
  std::string error;
  // One past the last code (expired = 10).
  EXPECT_FALSE(decode(std::string("\x0b", 1), out, error));
  EXPECT_NE(error.find("unknown result code 11"), std::string::npos) << error;
  result r;
  r.entries = {{"a", 1}};
  auto bytes = encode(r);
  // Claim four billion entries: refused before any reservation.
  bytes[13] = bytes[14] = bytes[15] = bytes[16] = '\xff';
  EXPECT_FALSE(decode(bytes, out, error));
  EXPECT_NE(error.find("cannot fit"), std::string::npos) << error;
}

TEST(CommandCodecTest, EveryPrefixOfAValidMessageIsRejected) {
  auto bytes = encode(put_request{"key", "value", 3});
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    request out;
    std::string error;
    EXPECT_FALSE(decode(bytes.substr(0, n), out, error)) << "prefix of " << n << " bytes";
  }
}

TEST(CommandCodecTest, RandomBytesNeverCrash) {
  std::mt19937_64 rng{7};
  for (int i = 0; i < 20000; ++i) {
    std::string bytes(rng() % 40, '\0');
    for (auto& c : bytes)
      c = static_cast<char>(rng() % 6);  // small bytes: plausible tags and lengths
    request req;
    result res;
    std::string error;
    decode(bytes, req, error);
    decode(bytes, res, error);
  }
}

}  // namespace
