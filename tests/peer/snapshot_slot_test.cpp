// One incoming snapshot transfer at a time per node (issue 9): every link's
// receiver shares the node's snapshot_slot, so a node that two members send
// their state at once buffers one transfer, refuses the other "busy" at its
// first chunk, and the slot comes free when the transfer completes, is
// dropped, idles, or its link goes away; then the other sender gets through.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/peer/frame.hpp"
#include "runtime/peer/snapshot_chunk.hpp"
#include "runtime/peer/snapshot_receiver.hpp"
#include "runtime/peer/snapshot_sender.hpp"
#include "runtime/peer/snapshot_slot.hpp"
#include "tests/support/random_bytes.hpp"

namespace {

using namespace ballot::peer;
using verdict = snapshot_receiver::verdict;
using ballot::test_support::random_bytes;

constexpr std::uint64_t idle_ms = 1000;

/// A chunk's payload as the transport hands it over.
std::vector<char> wire(std::uint64_t transfer, const std::string& whole, std::uint64_t offset,
                       std::size_t n) {
  auto bytes = make_chunk_frame(1, transfer, whole.size(), offset,
                                chunk_crc(whole.data(), whole.size()), whole.data() + offset, n);
  frame_decoder d;
  EXPECT_TRUE(d.feed(bytes.data(), bytes.size()));
  auto it = d.next();
  EXPECT_TRUE(it && it->is == frame_decoder::item::what::frame);
  return it ? std::move(it->frame.payload) : std::vector<char>{};
}

snapshot_receiver::result feed(snapshot_receiver& r, std::uint64_t transfer,
                               const std::string& whole, std::uint64_t offset, std::size_t n,
                               std::uint64_t now) {
  auto payload = wire(transfer, whole, offset, n);
  return r.on_chunk(*parse_chunk(payload), now);
}

/// Two links' receivers of one node: members 2 and 3.
struct node_receivers {
  std::shared_ptr<snapshot_slot> slot = std::make_shared<snapshot_slot>(idle_ms);
  receiver_options opts() const {
    receiver_options o;
    o.max_total_bytes = 1 << 20;
    o.idle_ms = idle_ms;
    o.slot = slot;
    return o;
  }
  std::unique_ptr<snapshot_receiver> from2 = std::make_unique<snapshot_receiver>(opts(), 2);
  std::unique_ptr<snapshot_receiver> from3 = std::make_unique<snapshot_receiver>(opts(), 3);
};

TEST(SnapshotSlotTest, OneHolderAtATimeAndOnlyItsOwnReleaseFreesIt) {
  snapshot_slot slot{idle_ms};
  auto t2 = slot.acquire(2, 0);
  ASSERT_NE(t2, 0u);
  EXPECT_EQ(slot.acquire(3, 10), 0u) << "busy";
  EXPECT_EQ(slot.acquire(2, 10), 0u) << "a holder keeps its ticket, it gets no second";
  EXPECT_TRUE(slot.touch(t2, 500));
  ASSERT_TRUE(slot.current());
  EXPECT_EQ(slot.current()->member, 2u);
  EXPECT_EQ(slot.current()->last_ms, 500u);
  slot.release(t2);
  EXPECT_FALSE(slot.current());
  auto t3 = slot.acquire(3, 600);
  ASSERT_NE(t3, 0u);
  EXPECT_NE(t3, t2);
  // A stale ticket neither touches nor frees the new holder's slot.
  EXPECT_FALSE(slot.touch(t2, 700));
  slot.release(t2);
  EXPECT_EQ(slot.acquire(2, 700), 0u);
  EXPECT_EQ(slot.current()->ticket, t3);
}

TEST(SnapshotSlotTest, AHolderIdleForIdleMsLosesTheSlotToTheNextClaimant) {
  snapshot_slot slot{idle_ms};
  auto t2 = slot.acquire(2, 5000);
  ASSERT_TRUE(slot.touch(t2, 5400));
  EXPECT_EQ(slot.acquire(3, 6399), 0u) << "idle only since 5400";
  auto t3 = slot.acquire(3, 6400);
  ASSERT_NE(t3, 0u);
  EXPECT_FALSE(slot.touch(t2, 6401)) << "the idle holder learns it lost the slot";
  slot.release(t2);
  ASSERT_TRUE(slot.current());
  EXPECT_EQ(slot.current()->member, 3u);
}

TEST(SnapshotSlotTest, AHoldReleasesWhenDestroyedAndMovesWithoutReleasing) {
  auto slot = std::make_shared<snapshot_slot>(idle_ms);
  {
    slot_hold outer;
    {
      slot_hold inner{slot, slot->acquire(2, 0)};
      EXPECT_TRUE(inner.touch(1));
      outer = std::move(inner);
    }
    EXPECT_TRUE(slot->current()) << "moved, not released";
    EXPECT_EQ(slot->acquire(3, 2), 0u);
  }
  EXPECT_FALSE(slot->current());
  EXPECT_NE(slot->acquire(3, 3), 0u);
  EXPECT_TRUE(slot_hold{}.touch(0)) << "no slot shared: always holds";
}

TEST(SnapshotSlotReceiverTest, ASecondMembersTransferIsRefusedBusyAtItsFirstChunkUnbuffered) {
  node_receivers n;
  auto a = random_bytes(100, 1), b = random_bytes(100, 2);
  ASSERT_EQ(feed(*n.from2, 7, a, 0, 40, 0).v, verdict::accepted);
  auto res = feed(*n.from3, 9, b, 0, 40, 1);
  EXPECT_EQ(res.v, verdict::refused_busy);
  ASSERT_TRUE(res.ack);
  EXPECT_EQ(res.ack->status, ack_status::busy);
  EXPECT_EQ(res.ack->transfer, 9u);
  EXPECT_NE(res.why.find("member 2"), std::string::npos) << res.why;
  EXPECT_FALSE(n.from3->partial());
  EXPECT_EQ(n.from3->capacity(), 0u);
  // The rest of its window is refused alike, still unbuffered.
  EXPECT_EQ(feed(*n.from3, 9, b, 40, 40, 2).v, verdict::refused_busy);
  EXPECT_EQ(n.from3->capacity(), 0u);
  // The holder's own newer transfer replaces its partial one in place.
  ASSERT_EQ(feed(*n.from2, 8, a, 0, 50, 3).v, verdict::accepted);
  ASSERT_EQ(feed(*n.from2, 8, a, 50, 50, 4).v, verdict::complete);
  {
    auto whole = n.from2->take();
    EXPECT_EQ(std::string(whole.data(), whole.size()), a);
    EXPECT_EQ(feed(*n.from3, 10, b, 0, 40, 5).v, verdict::refused_busy)
      << "the completed bytes still hold the slot until they are freed";
  }
  EXPECT_EQ(feed(*n.from3, 11, b, 0, 40, 6).v, verdict::accepted);
  EXPECT_EQ(feed(*n.from2, 12, a, 0, 40, 7).v, verdict::refused_busy);
}

TEST(SnapshotSlotReceiverTest, EveryDropOfTheHoldersTransferFreesTheSlot) {
  auto a = random_bytes(100, 1), b = random_bytes(100, 2);
  auto busy_for_3 = [&](node_receivers& n, std::uint64_t now) {
    return feed(*n.from3, now + 100, b, 0, 10, now).v == verdict::refused_busy;
  };
  {  // a chunk fails its CRC
    node_receivers n;
    ASSERT_EQ(feed(*n.from2, 1, a, 0, 50, 0).v, verdict::accepted);
    ASSERT_TRUE(busy_for_3(n, 1));
    auto bad = wire(1, a, 50, 50);
    bad.back() ^= 1;
    ASSERT_EQ(n.from2->on_chunk(*parse_chunk(bad), 2).v, verdict::refused_crc);
    EXPECT_FALSE(busy_for_3(n, 3));
  }
  {  // idle: the holder's own link expires it
    node_receivers n;
    ASSERT_EQ(feed(*n.from2, 1, a, 0, 50, 0).v, verdict::accepted);
    EXPECT_FALSE(n.from2->expire(idle_ms - 1));
    ASSERT_TRUE(busy_for_3(n, idle_ms - 1));
    EXPECT_TRUE(n.from2->expire(idle_ms));
    EXPECT_FALSE(busy_for_3(n, idle_ms));
  }
  {  // the connection was reset
    node_receivers n;
    ASSERT_EQ(feed(*n.from2, 1, a, 0, 50, 0).v, verdict::accepted);
    ASSERT_TRUE(busy_for_3(n, 1));
    n.from2->reset();
    EXPECT_FALSE(busy_for_3(n, 2));
  }
  {  // the link went away (its receiver destroyed with it)
    node_receivers n;
    ASSERT_EQ(feed(*n.from2, 1, a, 0, 50, 0).v, verdict::accepted);
    ASSERT_TRUE(busy_for_3(n, 1));
    n.from2.reset();
    EXPECT_FALSE(busy_for_3(n, 2));
  }
}

TEST(SnapshotSlotReceiverTest, ADeadLinkThatNeverLooksAgainHoldsTheSlotNoLongerThanIdleMs) {
  node_receivers n;
  auto a = random_bytes(100, 1), b = random_bytes(100, 2);
  ASSERT_EQ(feed(*n.from2, 1, a, 0, 50, 10'000).v, verdict::accepted);
  // Member 2's link is stuck: it never calls expire. The slot still frees.
  EXPECT_EQ(feed(*n.from3, 2, b, 0, 50, 10'000 + idle_ms - 1).v, verdict::refused_busy);
  ASSERT_EQ(feed(*n.from3, 3, b, 0, 50, 10'000 + idle_ms).v, verdict::accepted);
  // The stale transfer's next chunk finds the slot gone: dropped, told busy.
  auto res = feed(*n.from2, 1, a, 50, 50, 10'000 + idle_ms + 1);
  EXPECT_EQ(res.v, verdict::refused_busy);
  ASSERT_TRUE(res.ack);
  EXPECT_EQ(res.ack->status, ack_status::busy);
  EXPECT_FALSE(n.from2->partial());
  EXPECT_EQ(n.from2->capacity(), 0u);
  EXPECT_EQ(feed(*n.from3, 3, b, 50, 50, 10'000 + idle_ms + 2).v, verdict::complete);
}

TEST(SnapshotSenderTest, ABusyAckEndsTheTransferAsBusyNotRefused) {
  snapshot_sender s{{10, 20, 1000}, 5};
  s.start(7, std::make_shared<const std::vector<char>>(50, 'x'), 0);
  s.sent(*s.next());
  EXPECT_EQ(s.on_ack({5, 0, ack_status::busy}, 1), snapshot_sender::ack_effect::busy);
  EXPECT_FALSE(s.active());
  EXPECT_FALSE(s.in_flight(7)) << "the replica's resend starts it again";
  EXPECT_FALSE(s.next());
}

/// Two senders, members 2 and 3, to one node, chunk by chunk, each through
/// its own link's receiver. Member 2 wins the slot and dies mid-transfer;
/// member 3 is told busy, and its retry (the replica's resend, later) gets
/// through once member 2's link is gone or its transfer idled. The node never
/// buffers more than one transfer.
struct two_senders {
  node_receivers n;
  std::string state2 = random_bytes(3000, 2), state3 = random_bytes(3000, 3);
  snapshot_sender s2{{100, 400, 10'000}, 200}, s3{{100, 400, 10'000}, 300};
  std::size_t most_buffered = 0;

  /// Sends what `s`'s window allows to `r`, and `r`'s acks back to `s`.
  snapshot_sender::ack_effect step(snapshot_sender& s, snapshot_receiver& r, std::uint64_t now,
                                   std::string* got) {
    auto effect = snapshot_sender::ack_effect::ignored;
    std::vector<std::vector<char>> frames;
    while (auto c = s.next()) {
      frames.push_back(
        make_chunk_frame(1, c->transfer, c->total, c->offset, c->whole_crc, c->data, c->size));
      s.sent(*c);
    }
    for (auto& f : frames) {
      frame_decoder d;
      d.feed(f.data(), f.size());
      auto it = d.next();
      auto res = r.on_chunk(*parse_chunk(it->frame.payload), now);
      auto from2 = n.from2 ? n.from2->capacity() : 0;
      most_buffered = std::max(most_buffered, from2 + n.from3->capacity());
      if (res.v == verdict::complete && got != nullptr) {
        auto whole = r.take();
        got->assign(whole.data(), whole.size());
      }
      if (res.ack && s.active()) {
        auto e = s.on_ack(*res.ack, now);
        if (e != snapshot_sender::ack_effect::ignored)
          effect = e;
      }
    }
    return effect;
  }
};

TEST(SnapshotSlotTransferTest, WhenTheFirstSenderDiesTheOtherGetsTheSlotAfterTheIdleDrop) {
  two_senders t;
  t.s2.start(1, std::make_shared<const std::vector<char>>(t.state2.begin(), t.state2.end()), 0);
  ASSERT_EQ(t.step(t.s2, *t.n.from2, 0, nullptr), snapshot_sender::ack_effect::progress);
  t.s3.start(1, std::make_shared<const std::vector<char>>(t.state3.begin(), t.state3.end()), 1);
  EXPECT_EQ(t.step(t.s3, *t.n.from3, 1, nullptr), snapshot_sender::ack_effect::busy);
  EXPECT_FALSE(t.s3.active());
  ASSERT_TRUE(t.n.from2->partial());
  // Member 2 dies silently (no reset seen): its link's tick drops the partial
  // transfer at idle_ms; a resend before then is busy again, one after gets it.
  t.s3.start(1, std::make_shared<const std::vector<char>>(t.state3.begin(), t.state3.end()), 500);
  EXPECT_EQ(t.step(t.s3, *t.n.from3, 500, nullptr), snapshot_sender::ack_effect::busy);
  EXPECT_TRUE(t.n.from2->expire(idle_ms));
  std::string got;
  t.s3.start(1, std::make_shared<const std::vector<char>>(t.state3.begin(), t.state3.end()),
             idle_ms);
  for (std::uint64_t now = idle_ms; t.s3.active() && now < idle_ms + 100; ++now)
    t.step(t.s3, *t.n.from3, now, &got);
  EXPECT_EQ(got, t.state3);
  EXPECT_FALSE(t.n.slot->current());
  EXPECT_LE(t.most_buffered, t.state3.size()) << "never two transfers buffered";
}

TEST(SnapshotSlotTransferTest, WhenTheFirstSendersLinkGoesAwayTheOtherGetsTheSlotAtOnce) {
  two_senders t;
  t.s2.start(1, std::make_shared<const std::vector<char>>(t.state2.begin(), t.state2.end()), 0);
  ASSERT_EQ(t.step(t.s2, *t.n.from2, 0, nullptr), snapshot_sender::ack_effect::progress);
  ASSERT_EQ(t.step(t.s2, *t.n.from2, 1, nullptr), snapshot_sender::ack_effect::progress);
  t.s3.start(1, std::make_shared<const std::vector<char>>(t.state3.begin(), t.state3.end()), 2);
  EXPECT_EQ(t.step(t.s3, *t.n.from3, 2, nullptr), snapshot_sender::ack_effect::busy);
  t.n.from2.reset();  // member 2 removed: its link stops
  std::string got;
  t.s3.start(1, std::make_shared<const std::vector<char>>(t.state3.begin(), t.state3.end()), 3);
  for (std::uint64_t now = 3; t.s3.active() && now < 100; ++now)
    t.step(t.s3, *t.n.from3, now, &got);
  EXPECT_EQ(got, t.state3);
  EXPECT_LE(t.most_buffered, t.state3.size());
}

}  // namespace
