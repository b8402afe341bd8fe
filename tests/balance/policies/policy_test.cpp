// Properties every policy must keep, whatever its algorithm: only available
// backends, nullopt when there is none, reproducible from the seed, weight 0
// as 1; plus the names and the key hash.
#include <gtest/gtest.h>

#include <ostream>
#include <set>
#include <string>

#include "actors/balance/policies/policy.hpp"
#include "tests/balance/policies/fake_load.hpp"

namespace ballot::balance {
// Test names and failures show "maglev", not "1-byte object <06>".
void PrintTo(policy_kind kind, std::ostream* os) {
  *os << to_string(kind);
}
}  // namespace ballot::balance

namespace {

using namespace ballot::balance;
using namespace ballot::balance::test;

class EveryPolicy : public ::testing::TestWithParam<policy_kind> {
 protected:
  std::unique_ptr<policy> make(std::uint64_t seed = 7) {
    policy_options opts;
    opts.seed = seed;
    opts.maglev_table_size = 1021;  // small: many rebuilds below
    return make_policy(GetParam(), opts);
  }
};

TEST_P(EveryPolicy, NeverPicksAnUnavailableBackend) {
  auto p = make();
  test_rng rng{11};
  fake_load load;
  for (int round = 0; round < 40; ++round) {
    // A random set of up to 12 backends with random weights, each available
    // with probability 1/2 (sometimes none), under random loads.
    std::vector<backend> set;
    auto n = 1 + rng.below(12);
    for (std::uint64_t i = 0; i < n; ++i)
      set.push_back(backend{1 + rng.below(40), static_cast<std::uint32_t>(rng.below(5))});
    p->update(set);
    load.clear();
    bool any = false;
    for (const auto& b : set) {
      bool up = rng.below(2) == 0;
      load.set_available(b.id, up);
      load.set_outstanding(b.id, static_cast<std::uint32_t>(rng.below(10)));
      any = any || up;
    }
    for (int i = 0; i < 200; ++i) {
      auto picked = p->pick(rng.next(), load);
      ASSERT_EQ(picked.has_value(), any) << "round " << round;
      if (picked) {
        ASSERT_TRUE(load.available(*picked)) << *picked;
        bool known = false;
        for (const auto& b : set)
          known = known || b.id == *picked;
        ASSERT_TRUE(known) << *picked << " was never a backend";
      }
    }
  }
}

TEST_P(EveryPolicy, NulloptWithoutBackends) {
  auto p = make();
  fake_load load;
  EXPECT_EQ(p->pick(1, load), std::nullopt);  // before any update
  p->update({});
  EXPECT_EQ(p->pick(1, load), std::nullopt);
  p->update(backends(3));
  EXPECT_TRUE(p->pick(1, load).has_value());
  p->update({});
  EXPECT_EQ(p->pick(1, load), std::nullopt);
}

TEST_P(EveryPolicy, NulloptWhenNoneAvailable) {
  auto p = make();
  p->update(backends(5));
  fake_load load;
  for (backend_id id = 1; id <= 5; ++id)
    load.set_available(id, false);
  for (std::uint64_t key = 0; key < 100; ++key)
    EXPECT_EQ(p->pick(key * 0x9E3779B97F4A7C15ULL, load), std::nullopt);
  load.set_available(4, true);
  for (std::uint64_t key = 0; key < 100; ++key)
    EXPECT_EQ(p->pick(key * 0x9E3779B97F4A7C15ULL, load), backend_id{4});
}

TEST_P(EveryPolicy, SameSeedSameChoices) {
  auto a = make(42);
  auto b = make(42);
  a->update(backends({3, 1, 2, 5, 1}));
  b->update(backends({3, 1, 2, 5, 1}));
  fake_load load;
  test_rng rng{5};
  for (int i = 0; i < 2000; ++i) {
    load.set_outstanding(1 + rng.below(5), static_cast<std::uint32_t>(rng.below(6)));
    auto key = rng.next();
    ASSERT_EQ(a->pick(key, load), b->pick(key, load)) << "pick " << i;
  }
}

TEST_P(EveryPolicy, OrderOfBackendsDoesNotMatter) {
  auto a = make(3);
  auto b = make(3);
  auto set = backends({2, 1, 3, 1});
  a->update(set);
  std::reverse(set.begin(), set.end());
  b->update(set);
  fake_load load;
  test_rng rng{8};
  for (int i = 0; i < 500; ++i) {
    auto key = rng.next();
    ASSERT_EQ(a->pick(key, load), b->pick(key, load)) << "pick " << i;
  }
}

TEST_P(EveryPolicy, WeightZeroCountsAsOne) {
  auto a = make(9);
  auto b = make(9);
  a->update({{1, 0}, {2, 3}, {3, 0}});
  b->update({{1, 1}, {2, 3}, {3, 1}});
  fake_load load;
  load.set_outstanding(2, 2);
  test_rng rng{9};
  for (int i = 0; i < 500; ++i) {
    auto key = rng.next();
    ASSERT_EQ(a->pick(key, load), b->pick(key, load)) << "pick " << i;
  }
}

TEST_P(EveryPolicy, KindAndFactoryAgree) {
  EXPECT_EQ(make()->kind(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(, EveryPolicy, ::testing::ValuesIn(all_policy_kinds()),
                         [](const auto& info) {
                           std::string name = to_string(info.param);
                           for (auto& c : name)
                             if (c == '-')
                               c = '_';
                           return name;
                         });

TEST(PolicyNames, RoundTrip) {
  auto kinds = all_policy_kinds();
  ASSERT_EQ(kinds.size(), 7u);
  std::set<std::string> names;
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    EXPECT_EQ(static_cast<std::size_t>(kinds[i]), i) << "declaration order";
    names.insert(to_string(kinds[i]));
    EXPECT_EQ(parse_policy_kind(to_string(kinds[i])), kinds[i]);
  }
  EXPECT_EQ(names.size(), kinds.size());
  EXPECT_STREQ(to_string(policy_kind::weighted_round_robin), "weighted-round-robin");
  EXPECT_STREQ(to_string(policy_kind::power_of_two), "power-of-two");
}

TEST(PolicyNames, AliasesAndUnknown) {
  EXPECT_EQ(parse_policy_kind("rr"), policy_kind::round_robin);
  EXPECT_EQ(parse_policy_kind("wrr"), policy_kind::weighted_round_robin);
  EXPECT_EQ(parse_policy_kind("p2c"), policy_kind::power_of_two);
  EXPECT_EQ(parse_policy_kind(""), std::nullopt);
  EXPECT_EQ(parse_policy_kind("Maglev"), std::nullopt);
  EXPECT_EQ(parse_policy_kind("least_outstanding"), std::nullopt);
  EXPECT_EQ(parse_policy_kind("ring-hashes"), std::nullopt);
}

TEST(HashKey, StableValues) {
  // Golden values: balancers of different builds must route a key alike.
  // If this fails, the hash changed, and every hashing balancer would move
  // (nearly) every key on upgrade. Cross-checked, when written, against an
  // independent model of the algorithm in another language.
  EXPECT_EQ(hash_key(""), 0xe9e0033e3badaf36ULL);
  EXPECT_EQ(hash_key("a"), 0x8083907d6e9e2732ULL);
  EXPECT_EQ(hash_key("user:42"), 0x5895898d4187e7bcULL);
  EXPECT_EQ(hash_key("a somewhat longer key, over two blocks"), 0x4fba7608bb8767deULL);
}

TEST(HashKey, DistinguishesNearbyKeys) {
  EXPECT_NE(hash_key("a"), hash_key(std::string("a\0", 2)));
  EXPECT_NE(hash_key("ab"), hash_key("ba"));
  EXPECT_NE(hash_key("12345678"), hash_key("123456789"));
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 100000; ++i)
    seen.insert(hash_key("key-" + std::to_string(i)));
  EXPECT_EQ(seen.size(), 100000u);
}

TEST(HashKey, Avalanche) {
  // Flipping one input bit flips about half the output bits, on average.
  test_rng rng{1};
  double flipped = 0;
  int trials = 0;
  for (int t = 0; t < 200; ++t) {
    std::string key(1 + rng.below(24), '\0');
    for (auto& c : key)
      c = static_cast<char>(rng.below(256));
    auto h = hash_key(key);
    for (std::size_t bit = 0; bit < key.size() * 8; ++bit) {
      auto other = key;
      other[bit / 8] = static_cast<char>(other[bit / 8] ^ (1 << (bit % 8)));
      flipped += __builtin_popcountll(h ^ hash_key(other));
      ++trials;
    }
  }
  EXPECT_NEAR(flipped / trials, 32.0, 0.5);
}

TEST(HashKey, SpreadsEvenlyOverBuckets) {
  constexpr int buckets = 64;
  constexpr int keys = 64000;
  std::vector<int> count(buckets);
  for (int i = 0; i < keys; ++i)
    ++count[hash_key("k" + std::to_string(i)) % buckets];
  for (int c : count)
    EXPECT_NEAR(c, keys / buckets, 150);  // ~5 standard deviations
}

}  // namespace
