// The peer port's frame codec, fed whole, byte by byte and hostile input.
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/peer/frame.hpp"
#include "runtime/peer/snapshot_chunk.hpp"

namespace {

using namespace ballot::peer;

std::vector<char> bytes(const std::string& s) {
  return {s.begin(), s.end()};
}

std::vector<frame_decoder::item> drain(frame_decoder& d) {
  std::vector<frame_decoder::item> out;
  while (auto it = d.next())
    out.push_back(std::move(*it));
  return out;
}

std::vector<char> le32(std::uint32_t v) {
  return {static_cast<char>(v & 0xff), static_cast<char>((v >> 8) & 0xff),
          static_cast<char>((v >> 16) & 0xff), static_cast<char>((v >> 24) & 0xff)};
}

TEST(PeerFrameTest, RoundTripsWholeAndByteByByte) {
  auto a = encode_frame(frame_kind::accept, 2, 0, bytes("payload"));
  auto b = encode_frame(frame_kind::propose_request, 3, 0x1122334455667788ull, bytes(""));
  auto c = encode_frame(frame_kind::status_reply, 7, 9, bytes("x"));
  std::vector<char> stream;
  for (auto* f : {&a, &b, &c})
    stream.insert(stream.end(), f->begin(), f->end());
  for (std::size_t step : {stream.size(), std::size_t{1}, std::size_t{5}}) {
    frame_decoder d;
    for (std::size_t i = 0; i < stream.size(); i += step)
      ASSERT_TRUE(d.feed(stream.data() + i, std::min(step, stream.size() - i)));
    auto items = drain(d);
    ASSERT_EQ(items.size(), 3u) << "step " << step;
    EXPECT_EQ(items[0].frame.kind, frame_kind::accept);
    EXPECT_EQ(items[0].frame.from, 2u);
    EXPECT_EQ(items[0].frame.payload, bytes("payload"));
    EXPECT_EQ(items[1].frame.kind, frame_kind::propose_request);
    EXPECT_EQ(items[1].frame.request_id, 0x1122334455667788ull);
    EXPECT_TRUE(items[1].frame.payload.empty());
    EXPECT_EQ(items[2].frame.from, 7u);
    EXPECT_TRUE(d.at_boundary());
  }
}

TEST(PeerFrameTest, AMegabytePayloadIsReadIntoOneBufferOfItsSize) {
  std::vector<char> value(1'000'000, 'v');
  auto f = encode_frame(frame_kind::accept, 2, 0, value);
  frame_decoder d;
  // As the transport hands it over: 64 KiB reads.
  for (std::size_t i = 0; i < f.size(); i += 65536)
    ASSERT_TRUE(d.feed(f.data() + i, std::min<std::size_t>(65536, f.size() - i)));
  auto items = drain(d);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].frame.payload, value);
  // Reserved once for the whole payload, not grown by doubling (which
  // leaves a power of two, 1 MiB here, after copying itself 4 times).
  EXPECT_EQ(items[0].frame.payload.capacity(), value.size());
}

TEST(PeerFrameTest, AnAnnouncedFrameCostsAtMostTheReserveAheadUntilItsBytesCome) {
  auto announced = max_frame_bytes - 1;
  auto head = le32(static_cast<std::uint32_t>(announced));
  head.push_back(static_cast<char>(frame_kind::accept));
  head.insert(head.end(), 12, '\0');  // from, request id
  head.insert(head.end(), 10, 'x');
  frame_decoder d;
  ASSERT_TRUE(d.feed(head.data(), head.size()));
  EXPECT_FALSE(d.next());
  EXPECT_GE(d.partial_capacity(), 10u);
  EXPECT_LE(d.partial_capacity(), frame_decoder::reserve_ahead + 10);
  // As more arrives, the buffer stays within twice what came (or the reserve).
  std::vector<char> more(6u << 20, 'y');
  ASSERT_TRUE(d.feed(more.data(), more.size()));
  EXPECT_LE(d.partial_capacity(), 2 * (more.size() + 10) + frame_decoder::reserve_ahead);
}

TEST(PeerFrameTest, TruncatedFrameYieldsNothingUntilComplete) {
  auto f = encode_frame(frame_kind::heartbeat, 1, 0, bytes("abc"));
  for (std::size_t cut = 0; cut < f.size(); ++cut) {
    frame_decoder d;
    ASSERT_TRUE(d.feed(f.data(), cut));
    EXPECT_FALSE(d.next()) << "a frame out of " << cut << " of " << f.size() << " bytes";
    EXPECT_EQ(d.at_boundary(), cut == 0);
  }
}

TEST(PeerFrameTest, OversizedLengthIsRefusedFromTheLengthAlone) {
  // 4 GiB - 1 announced, nothing else sent: refused at once, nothing buffered.
  frame_decoder d;
  auto len = le32(0xffffffffu);
  EXPECT_FALSE(d.feed(len.data(), len.size()));
  EXPECT_EQ(d.failure(), frame_decoder::error::length_too_large);
  EXPECT_EQ(d.bad_length(), 0xffffffffu);
  // Just over the cap, too; and a broken stream stays broken.
  frame_decoder e;
  auto over = le32(static_cast<std::uint32_t>(max_frame_bytes + 1));
  EXPECT_FALSE(e.feed(over.data(), over.size()));
  auto ok = encode_frame(frame_kind::heartbeat, 1, 0);
  EXPECT_FALSE(e.feed(ok.data(), ok.size()));
  EXPECT_FALSE(e.next());
}

TEST(PeerFrameTest, LengthShorterThanTheHeaderIsRefused) {
  for (std::uint32_t n : {0u, 1u, 12u}) {
    frame_decoder d;
    auto len = le32(n);
    EXPECT_FALSE(d.feed(len.data(), len.size())) << n;
    EXPECT_EQ(d.failure(), frame_decoder::error::length_too_small);
  }
}

TEST(PeerFrameTest, UnknownKindsAreSkippedNotBuffered) {
  // Kind 0, 11 (install_snapshot's old byte: a whole state in one frame is
  // no longer taken) and 200, then a good frame: the stream goes on.
  std::vector<char> stream;
  for (std::uint8_t k : {std::uint8_t{0}, std::uint8_t{11}, std::uint8_t{200}}) {
    auto f = encode_frame(frame_kind::prepare, 1, 0, bytes("whatever"));
    f[4] = static_cast<char>(k);
    stream.insert(stream.end(), f.begin(), f.end());
  }
  auto good = encode_frame(frame_kind::accepted, 1, 0, bytes("ok"));
  stream.insert(stream.end(), good.begin(), good.end());
  frame_decoder d;
  ASSERT_TRUE(d.feed(stream.data(), stream.size()));
  auto items = drain(d);
  ASSERT_EQ(items.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(items[i].is, frame_decoder::item::what::unknown_kind);
    EXPECT_TRUE(items[i].frame.payload.empty());
  }
  EXPECT_EQ(items[0].raw_kind, 0);
  EXPECT_EQ(items[1].raw_kind, 11);
  EXPECT_EQ(items[2].raw_kind, 200);
  EXPECT_EQ(items[3].is, frame_decoder::item::what::frame);
  EXPECT_EQ(items[3].frame.kind, frame_kind::accepted);
}

TEST(PeerFrameTest, SmallKindsHaveSmallCaps) {
  // A heartbeat announcing 1 MiB is skipped as too large for its kind.
  std::vector<char> big(1 << 20, 'x');
  auto f = encode_frame(frame_kind::heartbeat, 1, 0, big);
  frame_decoder d;
  ASSERT_TRUE(d.feed(f.data(), f.size()));
  auto items = drain(d);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].is, frame_decoder::item::what::too_large_for_kind);
  EXPECT_TRUE(items[0].frame.payload.empty());
  // The kinds that carry values take a 16 MiB command and more.
  EXPECT_GE(max_payload(frame_kind::accept), std::size_t{32} << 20);
  EXPECT_EQ(max_payload(frame_kind::prepare), max_small_payload);
  EXPECT_EQ(max_payload(frame_kind::snapshot_ack), max_small_payload);
  // A chunk is capped at the largest chunk, far under the port's cap.
  EXPECT_EQ(max_payload(frame_kind::snapshot_chunk), chunk_header_bytes + max_chunk_bytes);
  EXPECT_LE(max_frame_bytes, std::size_t{64} << 20);
  auto over = encode_frame(frame_kind::snapshot_chunk, 1, 0,
                           std::vector<char>(chunk_header_bytes + max_chunk_bytes + 1, 'c'));
  frame_decoder e;
  ASSERT_TRUE(e.feed(over.data(), over.size()));
  auto skipped = drain(e);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].is, frame_decoder::item::what::too_large_for_kind);
}

TEST(PeerFrameTest, ABatchOfProposalsOverItsCapIsSkippedUnread) {
  // A member's batch of proposals is held to 4 MiB (a bridge sends at most
  // 1 MiB of values), not the port's 64 MiB: a frame of tiny commands
  // decodes to a vector entry each.
  EXPECT_EQ(max_payload(frame_kind::propose_batch_request), max_batch_payload);
  EXPECT_LT(max_batch_payload, max_frame_bytes);
  auto at_cap = encode_frame(frame_kind::propose_batch_request, 2, 9,
                             std::vector<char>(max_batch_payload, 'b'));
  auto over = encode_frame(frame_kind::propose_batch_request, 2, 10,
                           std::vector<char>(max_batch_payload + 1, 'b'));
  frame_decoder d;
  ASSERT_TRUE(d.feed(over.data(), over.size()));
  ASSERT_TRUE(d.feed(at_cap.data(), at_cap.size()));
  auto items = drain(d);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].is, frame_decoder::item::what::too_large_for_kind);
  EXPECT_TRUE(items[0].frame.payload.empty());
  EXPECT_EQ(items[1].is, frame_decoder::item::what::frame);
  EXPECT_EQ(items[1].frame.request_id, 9u);
}

TEST(PeerFrameTest, TheTableIsClosed) {
  int known = 0;
  for (int b = 0; b < 256; ++b) {
    auto k = kind_from_byte(static_cast<std::uint8_t>(b));
    if (!k)
      continue;
    ++known;
    EXPECT_EQ(static_cast<int>(*k), b);
    EXPECT_STRNE(kind_name(*k), "?");
  }
  // hello, 11 core messages, a snapshot's chunk and ack, 4 requests and
  // their 4 replies: nothing else.
  EXPECT_EQ(known, 22);
  EXPECT_TRUE(is_request(frame_kind::propose_batch_request));
  EXPECT_TRUE(is_reply(frame_kind::propose_batch_reply));
  EXPECT_FALSE(kind_from_byte(11));
  EXPECT_TRUE(is_request(frame_kind::read_request));
  EXPECT_TRUE(is_reply(frame_kind::status_reply));
  EXPECT_FALSE(is_request(frame_kind::catchup_reply));
}

TEST(PeerFrameTest, RandomGarbageNeverCrashes) {
  std::mt19937_64 rng{42};
  for (int round = 0; round < 2000; ++round) {
    std::vector<char> junk(rng() % 200);
    for (auto& c : junk)
      c = static_cast<char>(rng());
    frame_decoder d;
    d.feed(junk.data(), junk.size());
    while (auto it = d.next())
      EXPECT_LE(it->frame.payload.size(), junk.size());
  }
}

}  // namespace
