// A snapshot made as it is sent (issue 9): the sender reads what a producer
// makes on its own thread, a bounded window ahead, with the size and CRC of
// a first pass; a producer that breaks its promise ends the transfer.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>

#include "runtime/peer/encoding_source.hpp"
#include "runtime/peer/snapshot_receiver.hpp"
#include "runtime/peer/snapshot_sender.hpp"
#include "tests/support/random_bytes.hpp"

namespace {

using namespace ballot::peer;
using verdict = snapshot_receiver::verdict;

std::string random_string(std::size_t n, unsigned seed) {
  return ballot::test_support::random_bytes(n, seed);
}

/// Makes `bytes` in pieces of 1..700 bytes; counts what it made.
struct piecewise {
  std::string bytes;
  std::atomic<std::uint64_t> made{0};
  std::atomic<int> passes{0};
  encoding_source::producer producer() {
    return [this](const encoding_source::sink& out) {
      ++passes;
      made = 0;
      std::size_t at = 0;
      for (std::size_t n = 1; at < bytes.size(); n = n % 700 + 1) {
        auto take = std::min(n, bytes.size() - at);
        out(std::string_view{bytes}.substr(at, take));
        at += take;
        made += take;
      }
    };
  }
};

template <class Pred>
bool eventually(Pred p) {
  for (int i = 0; i < 2000 && !p(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return p();
}

TEST(EncodingSourceTest, ASenderGetsTheBytesAWindowAheadAndTheReceiverChecksThem) {
  piecewise p;
  p.bytes = random_string(200'000, 3);
  constexpr std::size_t buffer = 5000;
  auto src = std::make_shared<encoding_source>(p.producer(), p.bytes.size(), buffer);
  sender_options so{1000, 4000, 10'000};
  snapshot_sender s{so, 9};
  receiver_options ro;
  ro.max_total_bytes = 1 << 20;
  snapshot_receiver r{ro};
  s.start(1, src, 0);
  ASSERT_TRUE(eventually([&] { return src->ready(); }));
  std::string got;
  std::uint64_t max_lead = 0;
  for (int idle = 0; s.active() && idle < 5000;) {
    auto c = s.next();
    if (!c) {
      // The window is full (ack what arrived), or the producer is behind.
      if (s.sent_bytes() > s.acked_bytes()) {
        s.on_ack({s.transfer(), s.sent_bytes(), ack_status::progress}, 0);
      } else {
        ++idle;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      continue;
    }
    // The second pass never runs more than the buffer (and a piece) ahead.
    if (p.passes == 2)
      max_lead =
        std::max<std::uint64_t>(max_lead, p.made - std::min<std::uint64_t>(p.made, c->offset));
    snapshot_chunk wire = *c;
    wire.crc = chunk_crc(c->data, c->size);
    auto res = r.on_chunk(wire, 0);
    ASSERT_TRUE(res.v == verdict::accepted || res.v == verdict::complete) << res.why;
    got.append(c->data, c->size);
    s.sent(*c);
    if (res.v == verdict::complete) {
      EXPECT_EQ(s.on_ack(*res.ack, 0), snapshot_sender::ack_effect::done);
    }
  }
  EXPECT_EQ(got, p.bytes);
  EXPECT_EQ(p.passes.load(), 2);
  EXPECT_LE(max_lead, buffer + 700);
  EXPECT_TRUE(src->failure().empty());
}

TEST(EncodingSourceTest, AProducerThatMakesAnotherSizeFailsTheTransfer) {
  piecewise p;
  p.bytes = random_string(10'000, 4);
  auto src = std::make_shared<encoding_source>(p.producer(), p.bytes.size() + 1, 4096);
  snapshot_sender s{{1000, 4000, 10'000}, 1};
  s.start(1, src, 0);
  ASSERT_TRUE(eventually([&] { return !s.failure().empty(); }));
  EXPECT_NE(s.failure().find("10000 bytes"), std::string::npos) << s.failure();
  EXPECT_FALSE(src->ready());
  EXPECT_FALSE(s.next()) << "nothing of a size it cannot keep is sent";
}

TEST(EncodingSourceTest, DroppingTheTransferStopsTheProducer) {
  piecewise p;
  p.bytes = random_string(1'000'000, 5);
  auto src = std::make_shared<encoding_source>(p.producer(), p.bytes.size(), 1000);
  ASSERT_TRUE(eventually([&] { return src->ready(); }));
  ASSERT_FALSE(src->read(0, 500).empty());
  // The second pass waits for room; dropping the source ends it (no hang).
  src.reset();
  EXPECT_EQ(p.passes.load(), 2);
  EXPECT_LT(p.made.load(), p.bytes.size());
}

}  // namespace
