// Each frame kind decodes to its one type, and nothing but a well-formed value
// of it: garbage, truncation, trailing bytes and hostile lengths are refused.
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"

#include "actors/replica/type_ids.hpp"
#include "runtime/peer/payload_codec.hpp"

namespace {

using namespace ballot;
using namespace ballot::peer;

class PeerPayloadTest : public ::testing::Test {
 protected:
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};

  template <class T>
  frame framed(frame_kind kind, const T& x) {
    auto bytes = make_frame(sys, kind, 2, 0, x);
    frame_decoder d;
    EXPECT_TRUE(d.feed(bytes.data(), bytes.size()));
    auto it = d.next();
    EXPECT_TRUE(it);
    return it ? std::move(it->frame) : frame{};
  }
};

TEST_F(PeerPayloadTest, CoreMessagesRoundTrip) {
  paxos::catchup_reply reply;
  paxos::value v;
  v.commands.push_back(paxos::command{7, 1, "put k v", 0xABCDEF0123456789ull});
  reply.entries.push_back({5, v});
  auto f = framed(core_kind<paxos::catchup_reply>(), reply);
  int calls = 0;
  EXPECT_TRUE(visit_core(sys, f, [&](auto&& msg) {
    using T = std::decay_t<decltype(msg)>;
    ++calls;
    if constexpr (std::is_same_v<T, paxos::catchup_reply>) {
      ASSERT_EQ(msg.entries.size(), 1u);
      EXPECT_EQ(msg.entries[0].slot, 5u);
      EXPECT_EQ(msg.entries[0].val.commands.at(0).payload, "put k v");
      // The leader's fingerprint travels with the command.
      EXPECT_EQ(msg.entries[0].val.commands.at(0).fingerprint, 0xABCDEF0123456789ull);
    } else {
      ADD_FAILURE() << "decoded to another type";
    }
  }));
  EXPECT_EQ(calls, 1);

  paxos::prepare p;
  p.ballot = {~std::uint64_t{0}, 3};
  p.first_open = 9;
  auto g = framed(frame_kind::prepare, p);
  EXPECT_TRUE(visit_core(sys, g, [&](auto&& msg) {
    if constexpr (std::is_same_v<std::decay_t<decltype(msg)>, paxos::prepare>)
      EXPECT_EQ(msg.first_open, 9u);
    else
      ADD_FAILURE();
  }));
}

TEST_F(PeerPayloadTest, RequestsAndRepliesRoundTrip) {
  paxos::client_reply r;
  r.client = 4;
  r.seq = 5;
  r.status = paxos::reply_status::not_leader;
  r.leader_hint = 3;
  auto f = framed(frame_kind::propose_reply, r);
  paxos::client_reply back;
  ASSERT_TRUE(decode_payload(sys, f.payload, back));
  EXPECT_EQ(back.leader_hint, std::optional<paxos::node_id>{3});
  EXPECT_EQ(back.status, paxos::reply_status::not_leader);
  std::string q;
  auto g = framed(frame_kind::read_request, std::string{"get color"});
  ASSERT_TRUE(decode_payload(sys, g.payload, q));
  EXPECT_EQ(q, "get color");
}

TEST_F(PeerPayloadTest, BatchesOfProposalsAndTheirAnswersRoundTrip) {
  std::vector<paxos::command> cmds{{1, 2, "put a 1"}, {3, 4, std::string(70'000, 'x')}};
  auto f = framed(frame_kind::propose_batch_request, cmds);
  EXPECT_TRUE(is_request(f.kind));
  std::vector<paxos::command> cmds_back;
  ASSERT_TRUE(decode_payload(sys, f.payload, cmds_back));
  EXPECT_EQ(cmds_back, cmds);

  std::vector<paxos::client_reply> rs(2);
  rs[0] = {1, 2, paxos::reply_status::ok, "ok", 3};
  rs[1] = {3, 4, paxos::reply_status::not_leader, {}, 2};
  auto g = framed(frame_kind::propose_batch_reply, rs);
  EXPECT_TRUE(is_reply(g.kind));
  std::vector<paxos::client_reply> rs_back;
  ASSERT_TRUE(decode_payload(sys, g.payload, rs_back));
  ASSERT_EQ(rs_back.size(), 2u);
  EXPECT_EQ(rs_back[0].result, "ok");
  EXPECT_EQ(rs_back[1].leader_hint, std::optional<paxos::node_id>{2});
  // A batch's bytes cut short decode to nothing.
  auto cut = g.payload;
  cut.resize(cut.size() - 3);
  EXPECT_FALSE(decode_payload(sys, cut, rs_back));
}

/// A frozen state made in pieces, with a size hint that may be off.
struct piecewise_state final : paxos::frozen_state {
  std::string bytes;
  std::size_t hint;
  mutable int whole_encodes = 0;
  piecewise_state(std::string b, std::size_t h) : bytes(std::move(b)), hint(h) {}
  std::string encode() const override {
    ++whole_encodes;
    return bytes;
  }
  void encode_to(const byte_sink& sink) const override {
    for (std::size_t at = 0; at < bytes.size(); at += 1000)
      sink(std::string_view{bytes}.substr(at, 1000));
  }
  std::size_t size_hint() const override { return hint; }
};

paxos::install_snapshot snapshot_with(paxos::machine_image machine) {
  paxos::install_snapshot m;
  m.snap.last = 77;
  m.snap.machine = std::move(machine);
  paxos::client_record rec;
  rec.client = 9;
  rec.results.emplace_back(3, "result");
  rec.fingerprints.push_back(5);
  m.snap.clients = std::vector<paxos::client_record>{rec};
  m.snap.members = "members";
  return m;
}

TEST_F(PeerPayloadTest, AnInstallSnapshotIsEncodedAsItsMachineIsMadeWithTheSameBytes) {
  std::string machine(5 * 1000 + 17, '\0');
  for (std::size_t i = 0; i < machine.size(); ++i)
    machine[i] = static_cast<char>(i * 31 + 7);
  auto expected = encode_payload(sys, snapshot_with(machine));
  for (auto hint : {machine.size(), machine.size() - 1, machine.size() + 1000}) {
    auto state = std::make_shared<piecewise_state>(machine, hint);
    auto msg = snapshot_with(paxos::machine_image{state});
    // The wire format is unchanged, whatever the hint (a wrong one costs a
    // second encode, whole), and an exact one never makes the state whole.
    EXPECT_EQ(encode_install_snapshot(sys, msg), expected) << "hint " << hint;
    EXPECT_EQ(state->whole_encodes, hint == machine.size() ? 0 : 1) << "hint " << hint;
    if (hint == machine.size()) {
      EXPECT_FALSE(msg.snap.machine.encoded());
    }
  }
  paxos::install_snapshot back;
  ASSERT_TRUE(decode_payload(sys, expected, back));
  EXPECT_EQ(back.snap.last, 77u);
  EXPECT_EQ(back.snap.machine.bytes(), machine);
  EXPECT_EQ(back.snap.members, "members");
  ASSERT_EQ(back.snap.clients.size(), 1u);
  EXPECT_EQ(back.snap.clients[0].results.at(0).second, "result");
  // Given bytes take the same path.
  EXPECT_EQ(encode_install_snapshot(sys, snapshot_with(machine)), expected);
}

TEST_F(PeerPayloadTest, TrailingBytesAndTruncationAreRefused) {
  paxos::accepted a;
  a.ballot = {3, 1};
  a.slot = 10;
  auto f = framed(frame_kind::accepted, a);
  auto longer = f;
  longer.payload.push_back('x');
  EXPECT_FALSE(visit_core(sys, longer, [](auto&&) { ADD_FAILURE(); }));
  for (std::size_t cut = 0; cut < f.payload.size(); ++cut) {
    auto shorter = f;
    shorter.payload.resize(cut);
    EXPECT_FALSE(visit_core(sys, shorter, [](auto&&) { ADD_FAILURE(); })) << cut;
  }
}

TEST_F(PeerPayloadTest, HostileSequenceLengthsAreRefusedWithoutAllocating) {
  // A catchup_reply claiming 4 billion entries, then a command payload
  // claiming 4 GiB (CAF's sequence sizes are 32 bits): both end at the end of
  // the buffer, and nothing is sized to them.
  for (int variant = 0; variant < 2; ++variant) {
    std::vector<char> payload;
    caf::binary_serializer sink{sys, payload};
    if (variant == 0) {
      std::size_t entries = 0xfffffff0u;
      // CAF writes sequence sizes as a varbyte; write the huge one by hand.
      auto err = sink.begin_sequence(entries);
      ASSERT_FALSE(err);
    } else {
      std::size_t one = 1;
      auto e1 = sink.begin_sequence(one);  // entries: 1
      std::uint64_t slot = 1;
      auto e2 = sink(slot);
      auto e3 = sink.begin_sequence(one);  // commands: 1
      std::uint64_t client = 1, seq = 1;
      auto e4 = sink(client, seq);
      std::size_t huge = 0xfffffff0u;
      auto e5 = sink.begin_sequence(huge);  // the payload string's length
      ASSERT_FALSE(e1 || e2 || e3 || e4 || e5);
    }
    frame f;
    f.kind = frame_kind::catchup_reply;
    f.from = 2;
    f.payload = payload;
    EXPECT_FALSE(visit_core(sys, f, [](auto&&) { ADD_FAILURE(); })) << variant;
  }
}

TEST_F(PeerPayloadTest, RandomGarbageDecodesToNothingOrSomethingWellFormed) {
  std::mt19937_64 rng{7};
  for (int round = 0; round < 3000; ++round) {
    frame f;
    f.kind = static_cast<frame_kind>(2 + rng() % 12);  // the core kinds
    f.payload.resize(rng() % 64);
    for (auto& c : f.payload)
      c = static_cast<char>(rng());
    visit_core(sys, f, [](auto&&) {});  // must not crash, throw or hang
  }
}

}  // namespace
