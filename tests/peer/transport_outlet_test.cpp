// The replica's outlet to the peer port (runtime/peer/transport_outlet.hpp):
// nothing before the transport is attached, then every consensus message
// framed as its kind, in the order sent; an install_snapshot is left to the
// member's link actor.
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"

#include "actors/replica/type_ids.hpp"
#include "runtime/peer/payload_codec.hpp"
#include "runtime/peer/transport.hpp"
#include "runtime/peer/transport_outlet.hpp"
#include "tests/support/process.hpp"

namespace {

using namespace ballot;
using namespace ballot::peer;
using namespace std::chrono_literals;

class TransportOutletTest : public ::testing::Test {
 protected:
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::map<std::uint32_t, std::uint16_t> ports{{1, ballot::testing::free_port()},
                                               {2, ballot::testing::free_port()}};
  std::mutex mtx;
  std::vector<frame> got;  // what member 2 received

  transport_options opts(std::uint32_t self) {
    transport_options o;
    o.self = self;
    for (auto& [id, port] : ports)
      o.members[id] = {"127.0.0.1", port};
    o.cluster_id = std::string(32, 'o');
    o.log = [](const std::string&) {};
    o.on_frame = [this, self](std::uint32_t, frame&& f) -> std::optional<drop_reason> {
      if (self == 2) {
        std::lock_guard<std::mutex> g{mtx};
        got.push_back(std::move(f));
      }
      return std::nullopt;
    };
    return o;
  }

  std::size_t received() {
    std::lock_guard<std::mutex> g{mtx};
    return got.size();
  }

  template <class Pred>
  static bool eventually(Pred p) {
    for (auto end = std::chrono::steady_clock::now() + 5s; std::chrono::steady_clock::now() < end;
         std::this_thread::sleep_for(5ms))
      if (p())
        return true;
    return p();
  }
};

TEST_F(TransportOutletTest, TakesNothingUntilAttachedThenFramesEachMessageInOrder) {
  transport_outlet outlet{sys};
  paxos::message hb = paxos::heartbeat{{3, 1}, 41, 0};
  EXPECT_FALSE(outlet.send(2, 1, hb)) << "no transport yet: the link actor must take it";

  auto a = transport::start(opts(1));
  auto b = transport::start(opts(2));
  ASSERT_TRUE(eventually([&] { return a->connected(2) && b->connected(1); }));
  outlet.attach(a);
  for (std::uint64_t i = 1; i <= 100; ++i) {
    paxos::message m = i % 2 == 0 ? paxos::message{paxos::heartbeat{{3, 1}, i, 0}}
                                  : paxos::message{paxos::accept{{3, 1}, i, {}, i - 1}};
    ASSERT_TRUE(outlet.send(2, 1, m));
  }
  ASSERT_TRUE(eventually([&] { return received() == 100; })) << received() << " of 100";
  std::lock_guard<std::mutex> g{mtx};
  for (std::uint64_t i = 1; i <= 100; ++i) {
    auto& f = got[i - 1];
    EXPECT_EQ(f.from, 1u);
    bool decoded = visit_core(sys, f, [&](auto&& msg) {
      using T = std::decay_t<decltype(msg)>;
      if constexpr (std::is_same_v<T, paxos::heartbeat>) {
        EXPECT_EQ(i % 2, 0u);
        EXPECT_EQ(msg.commit, i);
      } else if constexpr (std::is_same_v<T, paxos::accept>) {
        EXPECT_EQ(i % 2, 1u);
        EXPECT_EQ(msg.slot, i);
        EXPECT_EQ(msg.commit, i - 1);
      } else {
        ADD_FAILURE() << "frame " << i << " decoded to another type";
      }
    });
    EXPECT_TRUE(decoded) << "frame " << i;
  }
}

TEST_F(TransportOutletTest, AnInstallSnapshotIsLeftToTheLinkActor) {
  transport_outlet outlet{sys};
  auto a = transport::start(opts(1));
  auto b = transport::start(opts(2));
  ASSERT_TRUE(eventually([&] { return a->connected(2) && b->connected(1); }));
  outlet.attach(a);
  EXPECT_FALSE(outlet.send(2, 1, paxos::message{paxos::install_snapshot{}}));
  // A message sent after it still goes, and is the only one that arrives.
  EXPECT_TRUE(outlet.send(2, 1, paxos::message{paxos::heartbeat{{3, 1}, 7, 0}}));
  ASSERT_TRUE(eventually([&] { return received() == 1; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(received(), 1u);
}

}  // namespace
