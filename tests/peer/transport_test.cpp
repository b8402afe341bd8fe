// The peer transport between in-process endpoints on 127.0.0.1: frames flow
// between members; strangers, wrong certificates and forged senders are
// refused or dropped, and counted.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "runtime/peer/transport.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_certs.hpp"

namespace {

using namespace ballot::peer;
using namespace std::chrono_literals;
using ballot::testing::free_port;
using ballot::testing::test_certs;

std::string slurp(const std::string& path) {
  std::ifstream in{path};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

/// Frames one endpoint received, by sender.
struct inbox {
  std::mutex mtx;
  std::vector<std::pair<std::uint32_t, frame>> got;
  std::vector<std::string> log;

  std::size_t size() {
    std::lock_guard<std::mutex> g{mtx};
    return got.size();
  }
};

template <class Pred>
bool eventually(Pred p, std::chrono::milliseconds within = 5s) {
  auto end = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < end) {
    if (p())
      return true;
    std::this_thread::sleep_for(10ms);
  }
  return p();
}

class PeerTransportTest : public ::testing::Test {
 protected:
  std::map<std::uint32_t, std::uint16_t> ports{
    {1, free_port()}, {2, free_port()}, {3, free_port()}};
  std::map<std::uint32_t, inbox> boxes;
  std::string cluster_id = std::string(32, 'c');

  /// The first frame a member sends: its id and the cluster's.
  std::vector<char> hello_of(std::uint32_t id, const std::string& cluster) {
    return encode_frame(frame_kind::hello, id, 0,
                        std::vector<char>(cluster.begin(), cluster.end()));
  }
  std::vector<char> hello_of(std::uint32_t id) { return hello_of(id, cluster_id); }

  transport_options opts(std::uint32_t self, std::optional<tls_material> tls = std::nullopt) {
    transport_options o;
    o.self = self;
    for (auto& [id, port] : ports)
      o.members[id] = {"127.0.0.1", port};
    o.tls = std::move(tls);
    o.cluster_id = cluster_id;
    o.handshake_timeout = 2s;
    auto* box = &boxes[self];
    o.on_frame = [box](std::uint32_t member, frame&& f) -> std::optional<drop_reason> {
      std::lock_guard<std::mutex> g{box->mtx};
      box->got.emplace_back(member, std::move(f));
      return std::nullopt;
    };
    o.log = [box](const std::string& line) {
      std::lock_guard<std::mutex> g{box->mtx};
      box->log.push_back(line);
    };
    return o;
  }

  /// Members 1 and 2 connected both ways; 1 writes directly frames of at
  /// most `direct_limit` bytes (transport_options::direct_write_bytes).
  std::pair<std::shared_ptr<transport>, std::shared_ptr<transport>> connected_pair(
    std::size_t direct_limit = transport_options{}.direct_write_bytes) {
    auto o = opts(1);
    o.direct_write_bytes = direct_limit;
    auto a = transport::start(std::move(o));
    auto b = transport::start(opts(2));
    EXPECT_TRUE(eventually([&] { return a->connected(2) && b->connected(1); }));
    return {a, b};
  }

  bool logged(std::uint32_t id, const std::string& text) {
    auto& b = boxes[id];
    std::lock_guard<std::mutex> g{b.mtx};
    for (auto& l : b.log)
      if (l.find(text) != std::string::npos)
        return true;
    return false;
  }

  /// A raw TCP connection to member `id`'s peer port that sends `bytes`,
  /// then waits until the member closes it (or `wait` passes). Returns
  /// whether it was closed.
  bool raw_send(std::uint32_t id, const std::vector<char>& bytes,
                std::chrono::milliseconds wait = 1s) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(ports.at(id));
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd);
      return false;
    }
    auto sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    static_cast<void>(sent);
    timeval tv{static_cast<time_t>(wait.count() / 1000),
               static_cast<suseconds_t>((wait.count() % 1000) * 1000)};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char c;
    auto n = recv(fd, &c, 1, 0);
    close(fd);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }
};

std::vector<char> cat(std::initializer_list<std::vector<char>> parts) {
  std::vector<char> out;
  for (auto& p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST_F(PeerTransportTest, FramesFlowBetweenMembersInBothDirections) {
  auto a = transport::start(opts(1));
  auto b = transport::start(opts(2));
  ASSERT_TRUE(eventually([&] { return a->connected(2) && b->connected(1); }));
  EXPECT_FALSE(a->connected(3));  // nobody listens there
  EXPECT_EQ(a->send(3, encode_frame(frame_kind::heartbeat, 1, 0)),
            transport::send_result::not_connected);
  for (int i = 0; i < 100; ++i)
    ASSERT_EQ(a->send(2, encode_frame(frame_kind::accept, 1, 0, std::vector<char>(i, 'x'))),
              transport::send_result::queued);
  ASSERT_EQ(b->send(1, encode_frame(frame_kind::status_reply, 2, 77)),
            transport::send_result::queued);
  ASSERT_TRUE(eventually([&] { return boxes[2].size() == 100 && boxes[1].size() == 1; }));
  std::lock_guard<std::mutex> g{boxes[2].mtx};
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(boxes[2].got[i].first, 1u);
    EXPECT_EQ(boxes[2].got[i].second.payload.size(), static_cast<std::size_t>(i));  // in order
  }
  EXPECT_EQ(boxes[1].got[0].second.request_id, 77u);
}

TEST_F(PeerTransportTest, AMemberThatRestartsIsRedialed) {
  auto a = transport::start(opts(1));
  auto b = transport::start(opts(2));
  ASSERT_TRUE(eventually([&] { return a->connected(2); }));
  b->stop();
  ASSERT_TRUE(eventually([&] { return !a->connected(2); }));
  b = transport::start(opts(2));
  ASSERT_TRUE(eventually([&] { return a->connected(2); }, 5s));
  ASSERT_EQ(a->send(2, encode_frame(frame_kind::heartbeat, 1, 0)), transport::send_result::queued);
  EXPECT_TRUE(eventually([&] { return boxes[2].size() == 1; }));
}

TEST_F(PeerTransportTest, AMemberThatComesBackIsDialedAtOnceNotAtTheEndOfABackoff) {
  auto o = opts(1);
  o.max_backoff = 10s;  // a long backoff: only being heard from can end it early
  auto a = transport::start(std::move(o));
  {
    auto b = transport::start(opts(2));
    ASSERT_TRUE(eventually([&] { return a->connected(2); }));
  }
  // Down long enough for a's backoff to 1.6 s and more.
  std::this_thread::sleep_for(3500ms);
  auto b = transport::start(opts(2));
  auto started = std::chrono::steady_clock::now();
  // b dials a at once; what a sends the moment it hears from b is held for
  // the connection a is dialing, not refused.
  ASSERT_TRUE(eventually([&] { return boxes[1].size() > 0 || a->connected(2); }, 2s));
  ASSERT_EQ(a->send(2, encode_frame(frame_kind::status_reply, 1, 9)),
            transport::send_result::queued);
  ASSERT_TRUE(eventually([&] { return a->connected(2); }, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  EXPECT_TRUE(eventually([&] { return boxes[2].size() == 1; }));
}

TEST_F(PeerTransportTest, WritingToAMemberThatJustClosedDoesNotStopTrafficToTheOthers) {
  auto a = transport::start(opts(1));
  auto c = transport::start(opts(3));
  for (int round = 0; round < 10; ++round) {
    auto b = transport::start(opts(2));
    ASSERT_TRUE(eventually([&] { return a->connected(2) && a->connected(3); }));
    b->stop();
    // Frames for b until a notices: some of these writes meet a closed socket.
    for (int i = 0; i < 2000 && a->send(2, encode_frame(frame_kind::accept, 1, 0,
                                                        std::vector<char>(512, 'x'))) ==
                                  transport::send_result::queued;
         ++i)
      std::this_thread::sleep_for(100us);
    auto before = boxes[3].size();
    ASSERT_EQ(a->send(3, encode_frame(frame_kind::heartbeat, 1, 0)),
              transport::send_result::queued);
    ASSERT_TRUE(eventually([&] { return boxes[3].size() == before + 1; }, 2s))
      << "round " << round << ": a stopped writing to member 3";
  }
  EXPECT_FALSE(logged(1, "task failed"));
}

TEST_F(PeerTransportTest, InsecureConnectionsMustHelloAsAnotherMemberAndNotLieAboutFrom) {
  auto b = transport::start(opts(2));
  auto hello = [this](std::uint32_t id) { return hello_of(id); };
  // Not a hello first; a hello naming a stranger; one naming the node itself.
  EXPECT_TRUE(raw_send(2, encode_frame(frame_kind::prepare, 1, 0)));
  EXPECT_TRUE(raw_send(2, hello(9)));
  EXPECT_TRUE(raw_send(2, hello(2)));
  // Garbage where the length goes (a CAF middleman handshake, say).
  EXPECT_TRUE(raw_send(2, std::vector<char>(64, '\xff')));
  EXPECT_TRUE(raw_send(2, cat({hello(1), std::vector<char>{'\xff', '\xff', '\xff', '\x7f'}})));
  // Member 1 by its hello, then frames in member 3's name, an unknown kind and one good frame.
  auto odd = encode_frame(frame_kind::heartbeat, 1, 0);
  odd[4] = 99;
  EXPECT_FALSE(raw_send(2,
                        cat({hello(1), encode_frame(frame_kind::accepted, 3, 0),
                             encode_frame(frame_kind::catchup_reply, 3, 0), odd, hello_of(1),
                             encode_frame(frame_kind::heartbeat_ack, 1, 0)}),
                        300ms));
  ASSERT_TRUE(eventually([&] { return boxes[2].size() == 1; }));
  {
    std::lock_guard<std::mutex> g{boxes[2].mtx};
    EXPECT_EQ(boxes[2].got[0].second.kind, frame_kind::heartbeat_ack);
  }
  auto& c = b->counters();
  EXPECT_EQ(c.get(drop_reason::missing_hello), 1u);
  EXPECT_EQ(c.get(drop_reason::not_a_member), 2u);
  EXPECT_EQ(c.get(drop_reason::length_too_large), 2u);
  EXPECT_EQ(c.get(drop_reason::from_mismatch), 2u);
  EXPECT_EQ(c.get(drop_reason::unknown_kind), 1u);
  EXPECT_EQ(c.get(drop_reason::unexpected_kind), 1u);
  // The first from_mismatch on that connection was logged, the second only counted.
  EXPECT_TRUE(logged(2, "from_mismatch"));
}

TEST_F(PeerTransportTest, AMemberOfAnotherClusterIsRefusedAndCounted) {
  auto b = transport::start(opts(2));
  // The same member ids and addresses, another cluster id: every connection
  // it makes is refused at its hello, and nothing it sends arrives.
  auto saved = cluster_id;
  cluster_id = std::string(32, 'x');
  auto foreign = transport::start(opts(1));
  cluster_id = saved;
  ASSERT_TRUE(eventually([&] { return b->counters().get(drop_reason::foreign_cluster) >= 1; }));
  for (int i = 0; i < 5; ++i)
    foreign->send(2, encode_frame(frame_kind::heartbeat, 1, 0));
  // A raw hello without any cluster id (a node from before ids) is foreign too.
  EXPECT_TRUE(raw_send(2, encode_frame(frame_kind::hello, 1, 0)));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(boxes[2].size(), 0u);
  EXPECT_FALSE(b->connected(1));
  EXPECT_TRUE(logged(2, "foreign_cluster"));
  std::string hex_c;
  for (int i = 0; i < 32; ++i)
    hex_c += "63";                                         // 'c'
  EXPECT_TRUE(logged(2, "not of this cluster " + hex_c));  // names both ids
  EXPECT_EQ(b->counters().get(drop_reason::not_a_member), 0u);
  // A member of its own cluster still gets in.
  foreign->stop();
  auto member = transport::start(opts(1));
  ASSERT_TRUE(eventually([&] { return member->connected(2); }));
  member->send(2, encode_frame(frame_kind::heartbeat, 1, 0));
  ASSERT_TRUE(eventually([&] { return boxes[2].size() == 1; }));
}

TEST_F(PeerTransportTest, AHandshakeThatNeverComesTimesOut) {
  auto b = transport::start(opts(2));
  EXPECT_TRUE(raw_send(2, {}, 4s));  // connects and says nothing
  EXPECT_EQ(b->counters().get(drop_reason::not_a_member), 0u);
}

TEST_F(PeerTransportTest, ListeningTwiceOnOnePortFailsWithTheAddress) {
  auto b = transport::start(opts(2));
  try {
    auto again = transport::start(opts(2));
    FAIL() << "a second transport listened on the same port";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string{e.what()}.find("127.0.0.1:" + std::to_string(ports[2])),
              std::string::npos)
      << e.what();
  }
}

class PeerTransportTlsTest : public PeerTransportTest {
 protected:
  void SetUp() override {
    if (!test_certs::openssl_available())
      GTEST_SKIP() << "no openssl command";
    pki = std::make_unique<test_certs>();
    other = std::make_unique<test_certs>("Another CA");
  }

  tls_material member(std::uint32_t id, test_certs* ca = nullptr, std::string cn = {}) {
    ca = ca ? ca : pki.get();
    if (cn.empty())
      cn = "member-" + std::to_string(id);
    auto files = ca->issue(cn + "-" + std::to_string(serial++), cn, {"DNS:" + cn});
    return {slurp(pki->ca_cert()), slurp(files.cert), slurp(files.key)};
  }

  std::unique_ptr<test_certs> pki, other;
  int serial = 0;
};

TEST_F(PeerTransportTlsTest, MembersAuthenticateEachOther) {
  auto a = transport::start(opts(1, member(1)));
  auto b = transport::start(opts(2, member(2)));
  ASSERT_TRUE(eventually([&] { return a->connected(2) && b->connected(1); }));
  ASSERT_EQ(a->send(2, encode_frame(frame_kind::prepare, 1, 0)), transport::send_result::queued);
  // Big frames cross TLS too (an accept may carry a 16 MiB command).
  std::vector<char> big(8 << 20, 's');
  ASSERT_EQ(a->send(2, encode_frame(frame_kind::accept, 1, 0, big)),
            transport::send_result::queued);
  ASSERT_TRUE(eventually([&] { return boxes[2].size() == 2; }, 10s));
  std::lock_guard<std::mutex> g{boxes[2].mtx};
  EXPECT_EQ(boxes[2].got[0].first, 1u);
  EXPECT_EQ(boxes[2].got[1].second.payload.size(), big.size());
}

TEST_F(PeerTransportTlsTest, StrangersAreRefusedAndForgedSendersDropped) {
  auto b = transport::start(opts(2, member(2)));
  // No TLS at all: a plain hello on a TLS port.
  EXPECT_TRUE(raw_send(2, encode_frame(frame_kind::hello, 1, 0)));
  ASSERT_TRUE(eventually([&] { return b->counters().get(drop_reason::tls_handshake) >= 1; }));
  // A certificate named member-1 from another CA (it trusts our CA, so it
  // would itself accept member-2): the member refuses the handshake.
  auto before = b->counters().get(drop_reason::tls_handshake);
  auto stranger_tls = member(1, other.get());
  stranger_tls.ca_pem = slurp(pki->ca_cert());
  auto stranger = transport::start(opts(1, stranger_tls));
  ASSERT_TRUE(eventually([&] { return b->counters().get(drop_reason::tls_handshake) > before; }));
  EXPECT_FALSE(b->connected(1));
  EXPECT_EQ(boxes[2].size(), 0u);
  stranger->stop();
  // Signed by the cluster CA but for no member: refused after the handshake.
  auto outsider = transport::start(opts(1, member(1, pki.get(), "member-9")));
  ASSERT_TRUE(eventually([&] { return b->counters().get(drop_reason::not_a_member) >= 1; }));
  // Lines reach the log from a thread of their own, after the count.
  EXPECT_TRUE(eventually([&] { return logged(2, "member-9"); }));
  outsider->stop();
  // Member 3's real certificate, claiming to be member 1 in its frames: authenticated
  // as 3, so frames from 1 are dropped and counted; its own frames pass.
  auto impostor = transport::start(opts(1, member(3)));
  ASSERT_TRUE(eventually([&] { return impostor->connected(2); }));
  impostor->send(2, encode_frame(frame_kind::accepted, 1, 0));
  impostor->send(2, encode_frame(frame_kind::catchup_reply, 1, 0));
  impostor->send(2, encode_frame(frame_kind::heartbeat, 3, 0));
  ASSERT_TRUE(eventually([&] { return boxes[2].size() == 1; }));
  EXPECT_EQ(b->counters().get(drop_reason::from_mismatch), 2u);
  std::lock_guard<std::mutex> g{boxes[2].mtx};
  EXPECT_EQ(boxes[2].got[0].first, 3u);
}

TEST_F(PeerTransportTlsTest, ADialerSendsNothingToAServerWithTheWrongName) {
  // Member 1 dials member 2's address, where a process holding member 3's
  // certificate listens: the name check fails, and no frame is sent there.
  auto imposter_at_2 = transport::start(opts(2, member(3)));
  auto a = transport::start(opts(1, member(1)));
  ASSERT_TRUE(eventually([&] { return logged(1, "cannot reach member 2"); }));
  EXPECT_FALSE(a->connected(2));
  EXPECT_EQ(a->send(2, encode_frame(frame_kind::accept, 1, 0)),
            transport::send_result::not_connected);
  EXPECT_EQ(boxes[2].size(), 0u);
}

}  // namespace

namespace {

TEST_F(PeerTransportTest, MembersAddedAndRemovedAtRuntimeAreDialledAndDropped) {
  // 1 and 2 start as a two-member cluster; 3 knows all three (it joined).
  auto two = [&](std::uint32_t self) {
    auto o = opts(self);
    o.members.erase(3);
    return o;
  };
  auto a = transport::start(two(1));
  auto b = transport::start(two(2));
  auto c = transport::start(opts(3));
  ASSERT_TRUE(eventually([&] { return a->connected(2) && b->connected(1); }));
  // 1 refuses 3 (not a member yet) and cannot send to it.
  EXPECT_FALSE(a->connected(3));
  EXPECT_EQ(a->send(3, encode_frame(frame_kind::heartbeat, 1, 0)),
            transport::send_result::not_connected);
  std::map<std::uint32_t, std::pair<std::string, std::uint16_t>> all;
  for (auto& [id, port] : ports)
    all[id] = {"127.0.0.1", port};
  a->set_members(all);
  // Now 1 dials 3 and takes 3's frames.
  ASSERT_TRUE(eventually([&] { return a->connected(3) && c->connected(1); }));
  // Sent until they arrive: a connection 3 dialled while 1 still refused it
  // can look up for a moment and lose what was queued on it when 1 closes
  // it (a link drops its queue with its connection; the core resends).
  ASSERT_TRUE(eventually([&] {
    if (boxes[3].size() == 0)
      a->send(3, encode_frame(frame_kind::heartbeat, 1, 0));
    if (boxes[1].size() == 0)
      c->send(1, encode_frame(frame_kind::heartbeat, 3, 0));
    return boxes[3].size() >= 1 && boxes[1].size() >= 1;
  }));
  {
    std::lock_guard<std::mutex> g{boxes[1].mtx};
    EXPECT_EQ(boxes[1].got.back().first, 3u);
  }
  EXPECT_TRUE(eventually([&] { return logged(1, "member 3 at 127.0.0.1:"); }));
  // 3 leaves: 1 closes its link and drops whatever 3 still sends.
  a->set_members([&] {
    auto m = all;
    m.erase(3);
    return m;
  }());
  EXPECT_FALSE(a->connected(3));
  EXPECT_EQ(a->send(3, encode_frame(frame_kind::heartbeat, 1, 0)),
            transport::send_result::not_connected);
  EXPECT_TRUE(eventually([&] { return logged(1, "member 3 left the membership"); }));
  auto before = boxes[1].size();
  c->send(1, encode_frame(frame_kind::heartbeat, 3, 0));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(boxes[1].size(), before) << "a frame from a member that left was taken";
  // 2, untouched, still talks to 1.
  ASSERT_EQ(b->send(1, encode_frame(frame_kind::heartbeat, 2, 0)), transport::send_result::queued);
  EXPECT_TRUE(eventually([&] { return boxes[1].size() > before; }));
}

}  // namespace

// Direct writes (transport_options::direct_write_bytes): a sender's thread
// writes a small frame itself when nothing is queued ahead of it for that
// member.
namespace {

/// Four threads send 1,000 frames each to member 2, every fifth of 128 KiB
/// (more than a loopback socket takes at once: written directly, some go in
/// part and the loop finishes them while other threads go on sending).
/// Member 2 must get every frame whole and each thread's frames in order.
void expect_every_frame_whole_and_in_order(transport& a, std::map<std::uint32_t, inbox>& boxes) {
  constexpr std::uint64_t threads = 4, frames = 1000;
  auto payload = [](std::uint64_t th, std::uint64_t seq) {
    std::size_t n = seq % 5 == 0 ? 128 * 1024 : 16 + seq % 97;
    return std::vector<char>(n, static_cast<char>('a' + (th * 7 + seq) % 26));
  };
  std::vector<std::thread> senders;
  for (std::uint64_t th = 0; th < threads; ++th)
    senders.emplace_back([&, th] {
      for (std::uint64_t seq = 0; seq < frames; ++seq) {
        auto f = encode_frame(frame_kind::accept, 1, th << 32 | seq, payload(th, seq));
        auto r = a.send(2, f);
        for (; r == transport::send_result::over_budget; r = a.send(2, f))
          std::this_thread::sleep_for(1ms);  // the member's 64 MiB queue is full: wait
        ASSERT_EQ(r, transport::send_result::queued);
      }
    });
  for (auto& s : senders)
    s.join();
  ASSERT_TRUE(eventually([&] { return boxes[2].size() == threads * frames; }, 20s))
    << boxes[2].size() << " of " << threads * frames << " frames arrived";
  std::lock_guard<std::mutex> g{boxes[2].mtx};
  std::vector<std::uint64_t> next(threads, 0);
  for (auto& [from, f] : boxes[2].got) {
    auto th = f.request_id >> 32, seq = f.request_id & 0xffffffffu;
    ASSERT_LT(th, threads);
    ASSERT_EQ(seq, next[th]) << "thread " << th << "'s frames out of order";
    ++next[th];
    ASSERT_EQ(f.payload, payload(th, seq)) << "frame " << seq << " of thread " << th;
  }
}

TEST_F(PeerTransportTest, FramesFromManyThreadsArriveWholeAndInOrderWithDirectWrites) {
  // The big frames too: some go in part.
  auto [a, b] = connected_pair(std::size_t{1} << 20);
  expect_every_frame_whole_and_in_order(*a, boxes);
  EXPECT_GT(a->direct_frames(), 0u);
}

TEST_F(PeerTransportTest, FramesFromManyThreadsArriveWholeAndInOrderThroughTheLoopAlone) {
  auto [a, b] = connected_pair(0);
  expect_every_frame_whole_and_in_order(*a, boxes);
  EXPECT_EQ(a->direct_frames(), 0u);
}

/// Sends 50 heartbeats from 1 to 2, each after the one before arrived (the
/// link idle every time); returns how many 1 wrote from the caller's thread.
/// Frames sent one at a time, each after the one before arrived: how many of
/// 50 the sender wrote itself. Warm-up frames go first until one is written
/// directly (up to 20) or none could be: the connection's hello may still
/// be the peer thread's write when the test starts.
std::uint64_t idle_sends(transport& a, std::map<std::uint32_t, inbox>& boxes) {
  std::size_t sent = 0;
  auto send_one = [&] {
    ++sent;
    EXPECT_EQ(a.send(2, encode_frame(frame_kind::heartbeat, 1, sent)),
              transport::send_result::queued);
    EXPECT_TRUE(eventually([&] { return boxes[2].size() == sent; }));
  };
  for (int warm = 0; warm < 20 && a.direct_frames() == 0; ++warm)
    send_one();
  auto before = a.direct_frames();
  for (int i = 0; i < 50; ++i)
    send_one();
  return a.direct_frames() - before;
}

TEST_F(PeerTransportTest, AFrameToAnIdleLinkIsWrittenByItsSender) {
  auto [a, b] = connected_pair();
  EXPECT_EQ(idle_sends(*a, boxes), 50u);
}

TEST_F(PeerTransportTest, WithDirectWritesOffEveryFrameGoesThroughTheLoop) {
  auto [a, b] = connected_pair(0);
  EXPECT_EQ(idle_sends(*a, boxes), 0u);
}

TEST_F(PeerTransportTlsTest, OverTlsEveryFrameGoesThroughTheLoop) {
  auto a = transport::start(opts(1, member(1)));
  auto b = transport::start(opts(2, member(2)));
  ASSERT_TRUE(eventually([&] { return a->connected(2) && b->connected(1); }));
  EXPECT_EQ(idle_sends(*a, boxes), 0u);  // a TLS record can only be written by its stream
}

TEST_F(PeerTransportTest, SendersWritingDirectlyWhileTheMemberRestartsLoseOnlyWhatWasInFlight) {
  auto a = transport::start(opts(1));
  auto b = transport::start(opts(2));
  ASSERT_TRUE(eventually([&] { return a->connected(2) && b->connected(1); }));
  std::atomic<bool> stop{false};
  std::vector<std::thread> senders;
  for (int th = 0; th < 3; ++th)
    senders.emplace_back([&] {
      while (!stop)
        a->send(2, encode_frame(frame_kind::accept, 1, 0, std::vector<char>(4000, 'r')));
    });
  std::this_thread::sleep_for(200ms);
  b->stop();
  b.reset();
  std::this_thread::sleep_for(300ms);  // sends meet a closed connection, then none
  b = transport::start(opts(2));
  ASSERT_TRUE(eventually([&] { return a->connected(2); }));
  std::this_thread::sleep_for(200ms);
  stop = true;
  for (auto& s : senders)
    s.join();
  // The new connection carries whole frames only: a torn one would be
  // dropped by 2's decoder with the connection, and nothing after it taken.
  auto before = boxes[2].size();
  ASSERT_EQ(a->send(2, encode_frame(frame_kind::heartbeat, 1, 99)), transport::send_result::queued);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard<std::mutex> g{boxes[2].mtx};
    return boxes[2].got.size() > before && boxes[2].got.back().second.request_id == 99;
  }));
  for (auto r : {drop_reason::missing_hello, drop_reason::from_mismatch, drop_reason::unknown_kind,
                 drop_reason::too_large_for_kind, drop_reason::length_too_large,
                 drop_reason::length_too_small, drop_reason::bad_payload})
    EXPECT_EQ(b->counters().get(r), 0u) << reason_name(r);
}

}  // namespace

namespace {

// A member that accepts the connection and never reads: direct writes fill
// its socket, then frames queue up to the budget, then they are refused
// (over_budget, which consensus survives by re-sending). No send blocks.
TEST_F(PeerTransportTest, AMemberThatNeverReadsCostsTheBudgetAndBlocksNoSender) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  int on = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(ports.at(2));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 4), 0);  // the kernel completes the handshake; nobody reads
  auto o = opts(1);
  o.budget_bytes = 256 * 1024;
  auto a = transport::start(std::move(o));
  ASSERT_TRUE(eventually([&] { return a->connected(2); }));
  // The connection's hello may still be the peer thread's write: frames go
  // through it until that ends (a loaded CI run found none direct).
  std::size_t sent = 0;
  ASSERT_TRUE(eventually([&] {
    a->send(2, encode_frame(frame_kind::heartbeat, 1, sent++));
    return a->direct_frames() > 0;
  }));
  auto began = std::chrono::steady_clock::now();
  auto r = transport::send_result::queued;
  for (; r == transport::send_result::queued && sent < 1'000'000; ++sent)
    r = a->send(2, encode_frame(frame_kind::heartbeat, 1, sent));
  EXPECT_EQ(r, transport::send_result::over_budget) << "after " << sent << " frames";
  EXPECT_LT(std::chrono::steady_clock::now() - began, 5s);
  EXPECT_GT(a->direct_frames(), 0u);  // the socket took the first ones from the sender
  EXPECT_GT(a->counters().get(drop_reason::over_budget), 0u);
  a->stop();
  close(listener);
}

}  // namespace
