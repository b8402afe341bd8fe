// The client port's read-ahead: whatever the reader asks for (a message's
// first word, then the rest), it gets exactly the bytes that were sent, in
// order, never fewer than it asked for except at the end of the stream, and
// far fewer reads reach the socket than the reader makes. It never holds more
// than its capacity, reads of its capacity or more bypass it, a read given up
// on loses no held byte, and after abortRead nothing held is returned.
#include <gtest/gtest.h>

#include <string>

#include <capnp/message.h>
#include <capnp/serialize-async.h>
#include <kj/async-io.h>

#include "runtime/tls/read_ahead_stream.hpp"
#include "schemas/client.capnp.h"

namespace ballot::tls {
namespace {

/// Counts the reads that reach the wrapped stream (the socket).
class counting_stream final : public forwarding_stream {
 public:
  counting_stream(kj::Own<kj::AsyncIoStream> inner, int& reads)
      : forwarding_stream(kj::mv(inner)), reads_(reads) {}
  kj::Promise<size_t> tryRead(void* buffer, size_t min_bytes, size_t max_bytes) override {
    ++reads_;
    return forwarding_stream::tryRead(buffer, min_bytes, max_bytes);
  }

 private:
  int& reads_;
};

struct pipe_fixture {
  kj::AsyncIoContext io = kj::setupAsyncIo();
  kj::TwoWayPipe pipe = io.provider->newTwoWayPipe();
  int socket_reads = 0;

  kj::Own<read_ahead_stream> reader(size_t capacity = read_ahead_stream::default_capacity) {
    return kj::heap<read_ahead_stream>(
      kj::heap<counting_stream>(kj::mv(pipe.ends[1]), socket_reads), capacity);
  }
  void send(const std::string& bytes) {
    pipe.ends[0]->write(bytes.data(), bytes.size()).wait(io.waitScope);
  }
  /// A read that would wait for bytes that never come fails instead.
  template <class T>
  T bounded(kj::Promise<T> p) {
    return io.provider->getTimer().timeoutAfter(2 * kj::SECONDS, kj::mv(p)).wait(io.waitScope);
  }
  std::string read(read_ahead_stream& in, size_t min_bytes, size_t max_bytes) {
    std::string out(max_bytes, '\0');
    auto n = bounded(in.tryRead(out.data(), min_bytes, max_bytes));
    out.resize(n);
    return out;
  }
};

TEST(ReadAheadStreamTest, SmallReadsAreServedFromOneSocketRead) {
  pipe_fixture f;
  auto in = f.reader();
  f.send("0123456789abcdefghij");
  EXPECT_EQ(f.read(*in, 4, 4), "0123");
  EXPECT_EQ(f.socket_reads, 1);
  EXPECT_EQ(in->held(), 16u);
  EXPECT_EQ(f.read(*in, 2, 6), "456789");
  EXPECT_EQ(f.read(*in, 10, 10), "abcdefghij");
  EXPECT_EQ(f.socket_reads, 1);
  EXPECT_EQ(in->held(), 0u);
}

TEST(ReadAheadStreamTest, AReadLongerThanWhatIsHeldWaitsForTheRestAndKeepsTheOrder) {
  pipe_fixture f;
  auto in = f.reader();
  f.send("abc");
  EXPECT_EQ(f.read(*in, 1, 1), "a");
  auto pending = kj::heapString(8);
  auto read = in->tryRead(pending.begin(), 5, 8);
  f.send("defgh");
  auto n = f.bounded(kj::mv(read));
  ASSERT_GE(n, 5u);  // at least what was asked for
  EXPECT_EQ(std::string(pending.begin(), n), std::string("bcdefgh").substr(0, n));
  EXPECT_EQ(f.read(*in, 7 - n, 7 - n), std::string("bcdefgh").substr(n));
}

TEST(ReadAheadStreamTest, TheEndOfTheStreamGivesAShortCountThenZero) {
  // A small read (through the block) and a large one (past the capacity,
  // with a byte held) both see the end the same way.
  for (size_t want : {8, 64}) {
    pipe_fixture f;
    auto in = f.reader(16);
    f.send("0123");
    EXPECT_EQ(f.read(*in, 1, 1), "0");
    f.pipe.ends[0]->shutdownWrite();
    EXPECT_EQ(f.read(*in, want, want), "123") << want;
    EXPECT_EQ(f.read(*in, 1, want), "") << want;
  }
}

TEST(ReadAheadStreamTest, AReadOfTheCapacityOrMoreBypassesTheBlock) {
  pipe_fixture f;
  auto in = f.reader(16);
  std::string sent;
  for (char c = 'a'; c <= 'z'; ++c)
    sent += std::string(4, c);  // 104 bytes
  f.send(sent);
  EXPECT_EQ(f.read(*in, 2, 2), "aa");
  EXPECT_EQ(in->held(), 14u);  // one block: never more than the capacity
  // 14 bytes come from the block, the other 86 straight from the socket.
  EXPECT_EQ(f.read(*in, 100, 100), sent.substr(2, 100));
  EXPECT_EQ(in->held(), 0u);
  EXPECT_EQ(f.read(*in, 2, 2), sent.substr(102));
}

TEST(ReadAheadStreamTest, CapnProtoMessagesSentTogetherCostOneSocketReadNotTwoEach) {
  pipe_fixture f;
  auto in = f.reader();
  constexpr int n = 40;
  for (int i = 0; i < n; ++i) {
    capnp::MallocMessageBuilder m;
    auto e = m.initRoot<schemas::client::Entry>();
    e.setKey(kj::str("key/", i));
    e.setVersion(static_cast<std::uint64_t>(i));
    capnp::writeMessage(*f.pipe.ends[0], m).wait(f.io.waitScope);
  }
  for (int i = 0; i < n; ++i) {
    auto m = f.bounded(capnp::readMessage(*in));
    auto e = m->getRoot<schemas::client::Entry>();
    EXPECT_EQ(std::string(e.getKey().cStr()), "key/" + std::to_string(i));
    EXPECT_EQ(e.getVersion(), static_cast<std::uint64_t>(i));
  }
  // Without the read-ahead each message takes two (its first word, then the
  // rest): 80. The 40 messages are under 4 KiB, one block.
  EXPECT_LE(f.socket_reads, 2);
}

TEST(ReadAheadStreamTest, AZeroByteMinimumReturnsWhatIsHeldAtOnceOrReadsTheSocket) {
  pipe_fixture f;
  auto in = f.reader();
  f.send("abcdef");
  EXPECT_EQ(f.read(*in, 2, 2), "ab");
  EXPECT_EQ(f.read(*in, 0, 3), "cde");  // held: no socket read
  EXPECT_EQ(f.socket_reads, 1);
  EXPECT_EQ(f.read(*in, 0, 8), "f");
  f.send("gh");
  // Nothing held: a zero minimum is not an answer of zero bytes by itself.
  EXPECT_EQ(f.read(*in, 0, 8), "gh");
  EXPECT_EQ(f.socket_reads, 2);
}

TEST(ReadAheadStreamTest, ALargeReadWithNothingHeldGoesStraightToTheCaller) {
  pipe_fixture f;
  auto in = f.reader(16);
  std::string sent(40, 'z');
  sent[39] = 'e';
  f.send(sent);
  EXPECT_EQ(f.read(*in, 40, 40), sent);
  EXPECT_EQ(in->held(), 0u);
  EXPECT_EQ(f.socket_reads, 1);
}

TEST(ReadAheadStreamTest, AReadGivenUpOnKeepsTheHeldBytesForTheNext) {
  pipe_fixture f;
  auto in = f.reader(16);
  f.send("ab");
  EXPECT_EQ(f.read(*in, 1, 1), "a");
  {
    // A small read that needs more than is held, dropped before more came.
    std::string out(3, '\0');
    auto pending = in->tryRead(out.data(), 3, 3);
    EXPECT_FALSE(pending.poll(f.io.waitScope));
  }
  EXPECT_EQ(in->held(), 1u);
  {
    // A large one (past the capacity), dropped the same way.
    std::string out(20, '\0');
    auto pending = in->tryRead(out.data(), 20, 20);
    EXPECT_FALSE(pending.poll(f.io.waitScope));
  }
  EXPECT_EQ(in->held(), 1u);
  f.send("cdefghijklmnopqrstu");
  EXPECT_EQ(f.read(*in, 20, 20), "bcdefghijklmnopqrstu");
}

TEST(ReadAheadStreamTest, AfterAbortReadNothingHeldIsReturned) {
  pipe_fixture f;
  auto in = f.reader();
  f.send("abcdef");
  EXPECT_EQ(f.read(*in, 1, 1), "a");
  EXPECT_EQ(in->held(), 5u);
  in->abortRead();
  EXPECT_EQ(in->held(), 0u);
  EXPECT_EQ(f.read(*in, 1, 8), "");  // the socket's read side is shut
}

TEST(ReadAheadStreamTest, LargeAndManySegmentMessagesComeThroughWhole) {
  pipe_fixture f;
  auto in = f.reader();
  const std::string big(60'000, 'v');
  auto send_entry = [&](const std::string& key, const std::string& value, capnp::uint words) {
    // A small first segment and fixed-size growth: the big value lands in a
    // segment of its own, so the message has a segment table to read too.
    capnp::MallocMessageBuilder m(words, capnp::AllocationStrategy::FIXED_SIZE);
    auto e = m.initRoot<schemas::client::Entry>();
    e.setKey(key);
    e.setValue(kj::arrayPtr(reinterpret_cast<const kj::byte*>(value.data()), value.size()));
    capnp::writeMessage(*f.pipe.ends[0], m).wait(f.io.waitScope);
  };
  auto read_entry = [&](const std::string& key, const std::string& value) {
    capnp::ReaderOptions opts;
    opts.traversalLimitInWords = 1u << 20;
    auto m = f.bounded(capnp::readMessage(*in, opts));
    auto e = m->getRoot<schemas::client::Entry>();
    EXPECT_EQ(std::string(e.getKey().cStr()), key);
    auto v = e.getValue();
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(v.begin()), v.size()), value);
    EXPECT_LE(in->held(), read_ahead_stream::default_capacity);
  };
  // All written first: the socket pair's buffer holds the three.
  send_entry("small/1", "x", 8);
  send_entry("big", big, 8);
  send_entry("small/2", "y", 8);
  read_entry("small/1", "x");
  read_entry("big", big);
  read_entry("small/2", "y");
}

}  // namespace
}  // namespace ballot::tls
