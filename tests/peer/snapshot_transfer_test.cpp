// A snapshot sent to a lagging member in chunks (issue 9): the chunk and ack
// frames, the sender's window and its ends, the receiver's reassembly, and
// everything a hostile member may send instead: wrong offsets, duplicates,
// over-long and over-budget transfers, unknown transfers, bad checksums,
// garbage; each refused without buffering more than came.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/peer/frame.hpp"
#include "runtime/peer/peer_policy.hpp"
#include "runtime/peer/snapshot_chunk.hpp"
#include "runtime/peer/snapshot_receiver.hpp"
#include "runtime/peer/snapshot_sender.hpp"
#include "runtime/peer/snapshot_source.hpp"

namespace {

using namespace ballot::peer;
using verdict = snapshot_receiver::verdict;

std::shared_ptr<const std::vector<char>> random_bytes(std::size_t n, unsigned seed = 1) {
  std::mt19937 rng{seed};
  auto v = std::make_shared<std::vector<char>>(n);
  for (auto& c : *v)
    c = static_cast<char>(rng());
  return v;
}

/// The one frame in `bytes`, decoded as the transport would.
frame decode_one(const std::vector<char>& bytes) {
  frame_decoder d;
  EXPECT_TRUE(d.feed(bytes.data(), bytes.size()));
  auto it = d.next();
  EXPECT_TRUE(it.has_value());
  EXPECT_EQ(it->is, frame_decoder::item::what::frame);
  return it ? std::move(it->frame) : frame{};
}

/// A chunk as a sender would make it, through the wire format.
struct wire_chunk {
  std::vector<char> payload;
  snapshot_chunk view() const { return *parse_chunk(payload); }
};

wire_chunk chunk_of(std::uint64_t transfer, const std::vector<char>& whole, std::uint64_t offset,
                    std::size_t n, std::uint64_t total = ~std::uint64_t{0}) {
  if (total == ~std::uint64_t{0})
    total = whole.size();
  auto f = decode_one(make_chunk_frame(
    1, transfer, total, offset, chunk_crc(whole.data(), whole.size()), whole.data() + offset, n));
  EXPECT_EQ(f.kind, frame_kind::snapshot_chunk);
  return {std::move(f.payload)};
}

receiver_options small_budget(std::uint64_t max_total = 1 << 20) {
  receiver_options o;
  o.max_total_bytes = max_total;
  o.idle_ms = 1000;
  return o;
}

TEST(SnapshotChunkTest, ChunkAndAckFramesRoundTrip) {
  std::vector<char> data{'a', 'b', 'c', 'd'};
  auto f = decode_one(make_chunk_frame(7, 42, 100, 96, 0xdeadbeef, data.data(), data.size()));
  EXPECT_EQ(f.kind, frame_kind::snapshot_chunk);
  EXPECT_EQ(f.from, 7u);
  auto c = parse_chunk(f.payload);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->transfer, 42u);
  EXPECT_EQ(c->total, 100u);
  EXPECT_EQ(c->offset, 96u);
  EXPECT_EQ(c->whole_crc, 0xdeadbeefu);
  EXPECT_EQ(c->crc, chunk_crc(data.data(), data.size()));
  EXPECT_EQ(std::string(c->data, c->size), "abcd");
  auto a = decode_one(make_ack_frame(3, {42, 96, ack_status::complete}));
  EXPECT_EQ(a.kind, frame_kind::snapshot_ack);
  auto ack = parse_ack(a.payload);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->transfer, 42u);
  EXPECT_EQ(ack->received, 96u);
  EXPECT_EQ(ack->status, ack_status::complete);
  // Short chunks, acks of another size or with an unknown status do not parse.
  EXPECT_FALSE(parse_chunk(std::vector<char>(chunk_header_bytes - 1)));
  EXPECT_FALSE(parse_ack(std::vector<char>(ack_payload_bytes + 1)));
  auto busy = a.payload;
  busy.back() = 3;
  ASSERT_TRUE(parse_ack(busy));
  EXPECT_EQ(parse_ack(busy)->status, ack_status::busy);
  auto bad = a.payload;
  bad.back() = 4;
  EXPECT_FALSE(parse_ack(bad));
}

TEST(SnapshotSenderTest, SendsChunksWithinTheWindowAndMovesWithAcks) {
  snapshot_sender s{{10, 30, 1000}, 5};
  auto bytes = random_bytes(95);
  s.start(7, bytes, 0);
  EXPECT_TRUE(s.in_flight(7));
  EXPECT_FALSE(s.in_flight(8));
  std::vector<std::uint64_t> offsets;
  while (auto c = s.next()) {
    offsets.push_back(c->offset);
    EXPECT_EQ(c->transfer, 5u);
    EXPECT_EQ(c->total, 95u);
    EXPECT_EQ(std::vector<char>(c->data, c->data + c->size),
              std::vector<char>(bytes->begin() + c->offset, bytes->begin() + c->offset + c->size));
    s.sent(*c);
  }
  // Three chunks of 10 fill the window of 30; nothing more until an ack.
  EXPECT_EQ(offsets, (std::vector<std::uint64_t>{0, 10, 20}));
  EXPECT_EQ(s.on_ack({5, 10, ack_status::progress}, 1), snapshot_sender::ack_effect::progress);
  auto c = s.next();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->offset, 30u);
  s.sent(*c);
  EXPECT_FALSE(s.next());
  // Acks of another transfer, for more than was sent, or going back: ignored.
  EXPECT_EQ(s.on_ack({4, 40, ack_status::progress}, 2), snapshot_sender::ack_effect::ignored);
  EXPECT_EQ(s.on_ack({5, 41, ack_status::progress}, 2), snapshot_sender::ack_effect::ignored);
  EXPECT_EQ(s.on_ack({5, 5, ack_status::progress}, 2), snapshot_sender::ack_effect::ignored);
  EXPECT_EQ(s.on_ack({5, 40, ack_status::complete}, 2), snapshot_sender::ack_effect::ignored)
    << "complete is only for all the bytes";
  // To the end: the last chunk is short.
  for (std::uint64_t acked = 40; s.active();) {
    EXPECT_EQ(s.on_ack({5, acked, ack_status::progress}, 3), snapshot_sender::ack_effect::progress);
    while (auto n = s.next()) {
      EXPECT_LE(n->offset + n->size, 95u);
      s.sent(*n);
    }
    if (s.sent_bytes() == 95) {
      EXPECT_EQ(s.on_ack({5, 95, ack_status::complete}, 4), snapshot_sender::ack_effect::done);
      break;
    }
    acked = s.sent_bytes();
  }
  EXPECT_FALSE(s.active());
  EXPECT_FALSE(s.in_flight(7));
}

TEST(SnapshotSenderTest, ANewSnapshotReplacesTheTransferAndRefusalsOrStallsEndIt) {
  snapshot_sender s{{10, 20, 1000}, 1};
  s.start(7, random_bytes(50), 100);
  s.sent(*s.next());
  EXPECT_EQ(s.transfer(), 1u);
  s.start(9, random_bytes(50, 2), 100);
  EXPECT_EQ(s.transfer(), 2u) << "a new transfer id";
  EXPECT_EQ(s.sent_bytes(), 0u);
  EXPECT_FALSE(s.in_flight(7));
  EXPECT_EQ(s.next()->offset, 0u);
  // An ack of the old transfer does not move the new one.
  s.sent(*s.next());
  EXPECT_EQ(s.on_ack({1, 10, ack_status::progress}, 150), snapshot_sender::ack_effect::ignored);
  // Stalled only after stall_ms without progress; progress restarts the clock.
  EXPECT_FALSE(s.stalled(1099));
  EXPECT_EQ(s.on_ack({2, 10, ack_status::progress}, 1000), snapshot_sender::ack_effect::progress);
  EXPECT_FALSE(s.stalled(1500));
  EXPECT_TRUE(s.stalled(2000));
  // The member refuses: over.
  EXPECT_EQ(s.on_ack({2, 0, ack_status::refused}, 2001), snapshot_sender::ack_effect::refused);
  EXPECT_FALSE(s.active());
  EXPECT_FALSE(s.next());
}

/// A source whose bytes are not made until the test says so.
struct gated_source final : snapshot_source {
  std::string bytes = std::string(25, 'g');
  bool open = false;
  bool ready() const override { return open; }
  std::uint64_t size() const override { return bytes.size(); }
  std::uint32_t crc() const override { return chunk_crc(bytes.data(), bytes.size()); }
  std::string_view read(std::uint64_t offset, std::size_t n) override {
    return std::string_view{bytes}.substr(offset, n);
  }
};

TEST(SnapshotSenderTest, ASourceStillMakingItsFirstPassSendsNothingAndDoesNotStall) {
  snapshot_sender s{{10, 20, 1000}, 1};
  auto src = std::make_shared<gated_source>();
  s.start(4, src, 0);
  EXPECT_TRUE(s.active());
  EXPECT_EQ(s.total(), 25u);
  EXPECT_FALSE(s.next());
  EXPECT_FALSE(s.stalled(5000)) << "a long first pass is not a stall";
  src->open = true;
  EXPECT_FALSE(s.stalled(5500));
  EXPECT_TRUE(s.stalled(6000)) << "the clock starts once the source is ready";
  auto c = s.next();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->whole_crc, chunk_crc(src->bytes.data(), 25));
  EXPECT_EQ(std::string(c->data, c->size), std::string(10, 'g'));
}

TEST(SnapshotSenderTest, AnEmptySnapshotIsOneEmptyChunk) {
  snapshot_sender s{{10, 20, 1000}, 1};
  s.start(3, std::make_shared<const std::vector<char>>(), 0);
  auto c = s.next();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->size, 0u);
  s.sent(*c);
  EXPECT_FALSE(s.next());
  snapshot_receiver r{small_budget()};
  auto f = decode_one(make_chunk_frame(1, c->transfer, 0, 0, c->whole_crc, c->data, 0));
  EXPECT_EQ(r.on_chunk(*parse_chunk(f.payload), 0).v, verdict::complete);
  EXPECT_EQ(r.take().size(), 0u);
}

/// Sender and receiver through real frames, the window checked at every step.
TEST(SnapshotTransferTest, AStateCrossesInManyChunksAndArrivesIntact) {
  for (std::size_t chunk : {std::size_t{1}, std::size_t{4096}, std::size_t{100'000}}) {
    auto bytes = random_bytes(300'000, static_cast<unsigned>(chunk));
    sender_options so{chunk, 4 * chunk, 10'000};
    snapshot_sender s{so, 77};
    snapshot_receiver r{small_budget()};
    s.start(1, bytes, 0);
    std::size_t frames = 0;
    std::vector<char> got;
    while (s.active()) {
      std::vector<std::vector<char>> wire;
      while (auto c = s.next()) {
        wire.push_back(
          make_chunk_frame(1, c->transfer, c->total, c->offset, c->whole_crc, c->data, c->size));
        EXPECT_LE(wire.back().size(), 4 + frame_header_bytes + chunk_header_bytes + chunk);
        s.sent(*c);
        ASSERT_LE(s.sent_bytes() - s.acked_bytes(), so.window_bytes);
      }
      ASSERT_FALSE(wire.empty()) << "stuck at " << s.sent_bytes();
      for (auto& w : wire) {
        ++frames;
        auto f = decode_one(w);
        auto res = r.on_chunk(*parse_chunk(f.payload), 0);
        ASSERT_TRUE(res.v == verdict::accepted || res.v == verdict::complete) << res.why;
        ASSERT_TRUE(res.ack);
        auto a = decode_one(make_ack_frame(2, *res.ack));
        s.on_ack(*parse_ack(a.payload), 0);
        if (res.v == verdict::complete) {
          auto whole = r.take();
          got.assign(whole.data(), whole.data() + whole.size());
        }
      }
    }
    EXPECT_EQ(frames, (bytes->size() + chunk - 1) / chunk);
    EXPECT_EQ(got, *bytes) << "chunk " << chunk;
    EXPECT_FALSE(r.partial());
  }
}

TEST(SnapshotReceiverTest, AGapOrADuplicateIsRefusedAndNotBuffered) {
  auto whole = *random_bytes(100);
  snapshot_receiver r{small_budget()};
  ASSERT_EQ(r.on_chunk(chunk_of(9, whole, 0, 10).view(), 0).v, verdict::accepted);
  // A gap: offset 20 while 10 bytes are in.
  auto gap = r.on_chunk(chunk_of(9, whole, 20, 10).view(), 0);
  EXPECT_EQ(gap.v, verdict::refused_offset);
  EXPECT_FALSE(gap.ack);
  // The same chunk again, or one that overlaps what is in.
  EXPECT_EQ(r.on_chunk(chunk_of(9, whole, 0, 10).view(), 0).v, verdict::refused_duplicate);
  EXPECT_EQ(r.on_chunk(chunk_of(9, whole, 5, 10).view(), 0).v, verdict::refused_duplicate);
  EXPECT_EQ(r.buffered(), 10u);
  // The transfer goes on where it stood.
  EXPECT_EQ(r.on_chunk(chunk_of(9, whole, 10, 90).view(), 0).v, verdict::complete);
  auto got = r.take();
  EXPECT_EQ(std::vector<char>(got.data(), got.data() + got.size()), whole);
}

TEST(SnapshotReceiverTest, OverLongChunksAndChangedTotalsAreRefused) {
  auto whole = *random_bytes(100);
  snapshot_receiver r{small_budget()};
  // Past the announced total.
  auto big = *random_bytes(120);
  auto f = decode_one(make_chunk_frame(1, 3, 100, 0, 0, big.data(), big.size()));
  EXPECT_EQ(r.on_chunk(*parse_chunk(f.payload), 0).v, verdict::refused_overlong);
  EXPECT_EQ(r.buffered(), 0u);
  ASSERT_EQ(r.on_chunk(chunk_of(3, whole, 0, 50).view(), 0).v, verdict::accepted);
  auto tail =
    decode_one(make_chunk_frame(1, 3, 100, 50, chunk_crc(whole.data(), 100), big.data(), 60));
  EXPECT_EQ(r.on_chunk(*parse_chunk(tail.payload), 0).v, verdict::refused_overlong);
  // The same transfer announcing another total.
  EXPECT_EQ(r.on_chunk(chunk_of(3, whole, 50, 10, 1000).view(), 0).v, verdict::refused_overlong);
  EXPECT_EQ(r.buffered(), 50u);
}

TEST(SnapshotReceiverTest, ATransferOverTheBudgetIsRefusedAtItsFirstChunk) {
  snapshot_receiver r{small_budget(1000)};
  auto some = *random_bytes(10);
  // Announces 1 GiB, sends 10 bytes: refused, told, nothing kept.
  auto f = decode_one(make_chunk_frame(1, 4, std::uint64_t{1} << 30, 0, 0, some.data(), 10));
  auto res = r.on_chunk(*parse_chunk(f.payload), 0);
  EXPECT_EQ(res.v, verdict::refused_budget);
  ASSERT_TRUE(res.ack);
  EXPECT_EQ(res.ack->status, ack_status::refused);
  EXPECT_EQ(res.ack->transfer, 4u);
  EXPECT_NE(res.why.find("budget"), std::string::npos) << res.why;
  EXPECT_FALSE(r.partial());
  EXPECT_EQ(r.capacity(), 0u);
  // Within the budget but announcing far more than it sends: the buffer
  // holds what came, not what was announced.
  snapshot_receiver big{small_budget(std::uint64_t{1} << 40)};
  auto g = decode_one(make_chunk_frame(1, 5, std::uint64_t{1} << 39, 0, 0, some.data(), 10));
  EXPECT_EQ(big.on_chunk(*parse_chunk(g.payload), 0).v, verdict::accepted);
  EXPECT_LE(big.capacity(), 64u);
}

TEST(SnapshotReceiverTest, ChunksOfUnknownTransfersAreRefusedAndNewerOnesReplace) {
  auto whole = *random_bytes(100);
  snapshot_receiver r{small_budget()};
  // Mid-transfer chunk of a transfer never started: refused, told.
  auto res = r.on_chunk(chunk_of(8, whole, 40, 10).view(), 0);
  EXPECT_EQ(res.v, verdict::refused_unknown);
  ASSERT_TRUE(res.ack);
  EXPECT_EQ(res.ack->status, ack_status::refused);
  EXPECT_FALSE(r.partial());
  // Transfer id 0 names none.
  EXPECT_EQ(r.on_chunk(chunk_of(0, whole, 0, 10).view(), 0).v, verdict::refused_unknown);
  ASSERT_EQ(r.on_chunk(chunk_of(8, whole, 0, 30).view(), 0).v, verdict::accepted);
  // Another transfer's middle does not disturb the current one.
  EXPECT_EQ(r.on_chunk(chunk_of(6, whole, 30, 10).view(), 0).v, verdict::refused_unknown);
  EXPECT_EQ(r.transfer(), 8u);
  EXPECT_EQ(r.buffered(), 30u);
  // A new transfer (the sender's next snapshot) drops the partial one.
  auto other = *random_bytes(40, 3);
  ASSERT_EQ(r.on_chunk(chunk_of(12, other, 0, 20).view(), 0).v, verdict::accepted);
  EXPECT_EQ(r.transfer(), 12u);
  EXPECT_EQ(r.buffered(), 20u);
  EXPECT_EQ(r.on_chunk(chunk_of(12, other, 20, 20).view(), 0).v, verdict::complete);
  auto got = r.take();
  EXPECT_EQ(std::vector<char>(got.data(), got.data() + got.size()), other);
}

TEST(SnapshotReceiverTest, BadChecksumsDropTheTransfer) {
  auto whole = *random_bytes(100);
  snapshot_receiver r{small_budget()};
  ASSERT_EQ(r.on_chunk(chunk_of(2, whole, 0, 50).view(), 0).v, verdict::accepted);
  auto c = chunk_of(2, whole, 50, 50);
  c.payload.back() ^= 1;  // a flipped bit in the data
  auto res = r.on_chunk(c.view(), 0);
  EXPECT_EQ(res.v, verdict::refused_crc);
  ASSERT_TRUE(res.ack);
  EXPECT_EQ(res.ack->status, ack_status::refused);
  EXPECT_FALSE(r.partial());
  // Every chunk sound but the whole is not what was announced.
  auto f1 = decode_one(make_chunk_frame(1, 3, 100, 0, 12345, whole.data(), 50));
  auto f2 = decode_one(make_chunk_frame(1, 3, 100, 50, 12345, whole.data() + 50, 50));
  ASSERT_EQ(r.on_chunk(*parse_chunk(f1.payload), 0).v, verdict::accepted);
  EXPECT_EQ(r.on_chunk(*parse_chunk(f2.payload), 0).v, verdict::refused_crc);
  EXPECT_FALSE(r.partial());
  EXPECT_EQ(r.take().size(), 0u);
}

TEST(SnapshotReceiverTest, AnIdlePartialTransferExpires) {
  auto whole = *random_bytes(100);
  snapshot_receiver r{small_budget()};  // idle_ms 1000
  ASSERT_EQ(r.on_chunk(chunk_of(2, whole, 0, 50).view(), 5000).v, verdict::accepted);
  EXPECT_FALSE(r.expire(5999));
  EXPECT_TRUE(r.partial());
  EXPECT_TRUE(r.expire(6000));
  EXPECT_FALSE(r.partial());
  EXPECT_EQ(r.buffered(), 0u);
  // Its remaining chunks are now of an unknown transfer.
  EXPECT_EQ(r.on_chunk(chunk_of(2, whole, 50, 50).view(), 6001).v, verdict::refused_unknown);
}

TEST(SnapshotReceiverTest, ChunksFromNonMembersNeverReachIt) {
  // The transport asks the policy for each frame: a chunk claiming another
  // sender than its connection's member, or from a member that left, is
  // dropped before any link sees it.
  peer_policy policy{1, {1, 2, 3}};
  auto whole = *random_bytes(10);
  auto f = decode_one(make_chunk_frame(3, 1, 10, 0, 0, whole.data(), 10));
  EXPECT_EQ(policy.check(2, f), drop_reason::from_mismatch);
  EXPECT_EQ(policy.check(3, f), std::nullopt);
  policy.set_members({1, 2});
  EXPECT_EQ(policy.check(3, f), drop_reason::not_a_member);
  auto a = decode_one(make_ack_frame(3, {1, 0, ack_status::progress}));
  EXPECT_EQ(policy.check(3, a), drop_reason::not_a_member);
}

TEST(SnapshotReceiverTest, MutatedChunkStreamsNeverCrashNorOverBuffer) {
  // A good transfer's frames with random bytes changed, dropped or repeated:
  // whatever is taken is either refused or, if complete, exactly the state.
  std::mt19937_64 rng{9};
  auto whole = *random_bytes(5000, 4);
  for (int round = 0; round < 300; ++round) {
    snapshot_receiver r{small_budget(8000)};
    std::uint64_t id = 1 + rng() % 3;
    for (std::size_t off = 0; off < whole.size();) {
      auto n = std::min<std::size_t>(1 + rng() % 700, whole.size() - off);
      auto c = chunk_of(id, whole, off, n);
      switch (rng() % 8) {
        case 0:
          c.payload[rng() % c.payload.size()] = static_cast<char>(rng());
          break;
        case 1:
          c.payload.resize(rng() % c.payload.size());
          break;
        case 2:
          off += n;  // dropped
          continue;
        default:
          break;
      }
      if (auto v = parse_chunk(c.payload)) {
        auto res = r.on_chunk(*v, 0);
        ASSERT_LE(r.buffered(), 8000u);
        ASSERT_LE(r.capacity(), 8000u);
        if (res.v == verdict::complete) {
          auto got = r.take();
          ASSERT_EQ(std::vector<char>(got.data(), got.data() + got.size()), whole);
        }
      }
      if (rng() % 5 != 0)
        off += n;  // otherwise repeated
    }
  }
}

}  // namespace
