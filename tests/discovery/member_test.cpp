// The pure part of service discovery: the value a worker registers
// (encode/decode) and the member table a balancer keeps from a listing and
// the watch's events.

#include "runtime/discovery/member.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace ballot::discovery;
using ballot::kv::event;
using ballot::kv::event_type;

member_address addr(std::string host, std::uint16_t port, std::uint32_t weight = 1) {
  member_address a;
  a.host = std::move(host);
  a.port = port;
  a.weight = weight;
  return a;
}

TEST(MemberAddressTest, EncodesDefaultsAsHostAndPortOnly) {
  EXPECT_EQ(encode(addr("127.0.0.1", 7500)), "127.0.0.1:7500");
  EXPECT_EQ(encode(addr("w1.example", 80, 3)), "w1.example:80;weight=3");
  auto a = addr("::1", 7500, 2);
  a.max_outstanding = 8;
  EXPECT_EQ(encode(a), "[::1]:7500;weight=2;max=8");
}

TEST(MemberAddressTest, DecodesWhatItEncodes) {
  std::vector<member_address> xs{addr("127.0.0.1", 1), addr("host", 65535, max_weight),
                                 addr("fe80::1", 7500, 7)};
  xs.back().max_outstanding = 0;
  for (auto& a : xs) {
    auto back = decode(encode(a));
    ASSERT_TRUE(back) << encode(a);
    EXPECT_EQ(*back, a) << encode(a);
  }
}

TEST(MemberAddressTest, IgnoresUnknownAttributesAndEmptyOnes) {
  auto a = decode("10.0.0.2:9000;zone=eu-1;;weight=4;");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "10.0.0.2");
  EXPECT_EQ(a->port, 9000);
  EXPECT_EQ(a->weight, 4u);
  EXPECT_FALSE(a->max_outstanding);
}

TEST(MemberAddressTest, RejectsMalformedValuesNamingTheProblem) {
  for (const char* bad :
       {"", "host", ":7500", "host:", "host:0", "host:65536", "host:75x0", "::1:7500", "[::1]7500",
        "[::1:7500", "host:7500;weight=0", "host:7500;weight=x", "host:7500;weight=1000001",
        "host:7500;max=-1", "host:7500;weight", "ho st:7500"}) {
    std::string why;
    EXPECT_FALSE(decode(bad, &why)) << "'" << bad << "' decoded";
    EXPECT_NE(why.find(std::string{"'"} + bad + "'"), std::string::npos) << why;
  }
}

event put(std::uint64_t rev, std::string key, std::string value) {
  return event{rev, event_type::put, std::move(key), std::move(value)};
}

event del(std::uint64_t rev, std::string key) {
  return event{rev, event_type::del, std::move(key), {}};
}

std::vector<std::pair<change::kind, std::string>> kinds(const std::vector<change>& cs) {
  std::vector<std::pair<change::kind, std::string>> out;
  for (auto& c : cs)
    out.emplace_back(c.what, c.key);
  return out;
}

using K = change::kind;
using KK = std::vector<std::pair<change::kind, std::string>>;

TEST(MemberTableTest, ListingThenEventsGiveJoinsUpdatesAndLeaves) {
  member_table t;
  auto cs = t.reset({{"s/a", {"127.0.0.1:1", 5}}, {"s/b", {"127.0.0.1:2", 6}}});
  EXPECT_EQ(kinds(cs), (KK{{K::join, "s/a"}, {K::join, "s/b"}}));
  EXPECT_EQ(cs[0].address, addr("127.0.0.1", 1));

  // A new weight or a new port is an update; the same value again is nothing.
  EXPECT_EQ(kinds(t.apply(put(8, "s/a", "127.0.0.1:1;weight=3"))), (KK{{K::update, "s/a"}}));
  EXPECT_TRUE(t.apply(put(9, "s/a", "127.0.0.1:1;weight=3")).empty());
  EXPECT_EQ(kinds(t.apply(put(10, "s/c", "127.0.0.1:3"))), (KK{{K::join, "s/c"}}));
  EXPECT_EQ(kinds(t.apply(del(11, "s/b"))), (KK{{K::leave, "s/b"}}));
  EXPECT_TRUE(t.apply(del(12, "s/b")).empty());
  auto m = t.members();
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m.at("s/a"), addr("127.0.0.1", 1, 3));
  EXPECT_EQ(m.at("s/c"), addr("127.0.0.1", 3));
}

TEST(MemberTableTest, EventsOlderThanTheListedValueAreIgnored) {
  // The listing was at revision 10, but s/a's value was read at its version
  // 14: the watch from 10 replays 12 and 14, which must not move it back.
  member_table t;
  t.reset({{"s/a", {"127.0.0.1:3", 14}}});
  EXPECT_TRUE(t.apply(put(12, "s/a", "127.0.0.1:2")).empty());
  EXPECT_TRUE(t.apply(del(13, "s/a")).empty());
  EXPECT_TRUE(t.apply(put(14, "s/a", "127.0.0.1:3")).empty());
  EXPECT_EQ(t.members().at("s/a"), addr("127.0.0.1", 3));
  EXPECT_EQ(kinds(t.apply(del(15, "s/a"))), (KK{{K::leave, "s/a"}}));
  EXPECT_TRUE(t.members().empty());
}

TEST(MemberTableTest, ARelistingRemovesWhatIsGoneAndKeepsWhatIsKnown) {
  member_table t;
  t.reset({{"s/a", {"127.0.0.1:1", 5}}, {"s/b", {"127.0.0.1:2", 6}}});
  // After compaction: s/b went, s/c came, s/a unchanged, s/d moved.
  auto cs = t.reset({{"s/a", {"127.0.0.1:1", 5}}, {"s/c", {"127.0.0.1:3", 40}}});
  EXPECT_EQ(kinds(cs), (KK{{K::leave, "s/b"}, {K::join, "s/c"}}));
  cs = t.reset({{"s/a", {"127.0.0.1:9", 50}}, {"s/c", {"127.0.0.1:3", 40}}});
  EXPECT_EQ(kinds(cs), (KK{{K::update, "s/a"}}));
}

TEST(MemberTableTest, ABadValueIsRejectedAndEndsAMembership) {
  member_table t;
  auto cs = t.apply(put(3, "s/x", "not an address"));
  ASSERT_EQ(kinds(cs), (KK{{K::reject, "s/x"}}));
  EXPECT_NE(cs[0].message.find("s/x"), std::string::npos) << cs[0].message;
  EXPECT_TRUE(t.members().empty());
  EXPECT_EQ(kinds(t.apply(put(4, "s/x", "127.0.0.1:1"))), (KK{{K::join, "s/x"}}));
  EXPECT_EQ(kinds(t.apply(put(5, "s/x", "127.0.0.1:0"))),
            (KK{{K::leave, "s/x"}, {K::reject, "s/x"}}));
  // Deleting a key that never was a member is nothing.
  EXPECT_TRUE(t.apply(del(6, "s/x")).empty());
}

}  // namespace
