// The client port's read-ahead: whatever the reader asks for (a message's
// first word, then the rest), it gets exactly the bytes that were sent, in
// order, never fewer than it asked for except at the end of the stream, and
// far fewer reads reach the socket than the reader makes. It never holds more
// than its capacity, and reads of its capacity or more bypass it.
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
  std::string read(read_ahead_stream& in, size_t min_bytes, size_t max_bytes) {
    std::string out(max_bytes, '\0');
    auto n = in.tryRead(out.data(), min_bytes, max_bytes).wait(io.waitScope);
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
  auto n = read.wait(f.io.waitScope);
  ASSERT_GE(n, 5u);  // at least what was asked for
  EXPECT_EQ(std::string(pending.begin(), n), std::string("bcdefgh").substr(0, n));
  EXPECT_EQ(f.read(*in, 7 - n, 7 - n), std::string("bcdefgh").substr(n));
}

TEST(ReadAheadStreamTest, TheEndOfTheStreamGivesAShortCountThenZero) {
  pipe_fixture f;
  auto in = f.reader();
  f.send("xyz");
  f.pipe.ends[0]->shutdownWrite();
  EXPECT_EQ(f.read(*in, 8, 8), "xyz");
  EXPECT_EQ(f.read(*in, 1, 8), "");
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
    auto m = capnp::readMessage(*in).wait(f.io.waitScope);
    auto e = m->getRoot<schemas::client::Entry>();
    EXPECT_EQ(std::string(e.getKey().cStr()), "key/" + std::to_string(i));
    EXPECT_EQ(e.getVersion(), static_cast<std::uint64_t>(i));
  }
  // Without the read-ahead each message takes two (its first word, then the
  // rest): 80. The 40 messages are under 4 KiB, one block.
  EXPECT_LE(f.socket_reads, 2);
}

}  // namespace
}  // namespace ballot::tls
