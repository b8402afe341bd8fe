// Ring hash with bounded load: the bound is never exceeded under random
// arrivals and departures; about 1/N of the keys move when one of N backends
// joins or leaves; keys stay home while their backend has room.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "actors/balance/policies/ring_hash.hpp"
#include "tests/balance/policies/fake_load.hpp"

namespace {

using namespace ballot::balance;
using namespace ballot::balance::test;

std::vector<std::uint64_t> some_keys(std::size_t n) {
  std::vector<std::uint64_t> keys;
  for (std::size_t i = 0; i < n; ++i)
    keys.push_back(hash_key("key-" + std::to_string(i)));
  return keys;
}

TEST(RingHashPolicy, BoundedLoadIsNeverExceeded) {
  test_rng rng{1234};
  for (int run = 0; run < 60; ++run) {
    // epsilon = k / 100, exact in integers: capacity(w) =
    // ceil((100 + k) * (m + 1) * w / (100 * W)).
    auto k = rng.below(151);
    auto n = 2 + rng.below(19);
    bool weighted = rng.below(2) == 0;
    std::vector<backend> set;
    for (backend_id id = 1; id <= n; ++id)
      set.push_back({id * 7919, weighted ? static_cast<std::uint32_t>(1 + rng.below(4)) : 1u});
    ring_hash_policy p{static_cast<std::uint32_t>(1 + rng.below(150)),
                       static_cast<double>(k) / 100};
    p.update(set);
    fake_load load;
    std::vector<backend_id> in_flight;
    // Hot keys: half the requests use one of 3 keys, so their home backends
    // would overflow without the bound.
    auto keys = some_keys(500);
    double arrival = 0.5 + 0.3 * rng.unit();
    std::uint64_t spilled = 0;
    for (int step = 0; step < 3000; ++step) {
      if (rng.below(50) == 0) {  // availability flips now and then
        auto& b = set[rng.below(set.size())];
        load.set_available(b.id, !load.available(b.id));
      }
      if (in_flight.empty() || rng.unit() < arrival) {
        auto key = rng.below(2) == 0 ? keys[rng.below(3)] : keys[rng.below(keys.size())];
        std::uint64_t m = 0;
        std::uint64_t total_weight = 0;
        for (const auto& b : set)
          if (load.available(b.id)) {
            m += load.outstanding(b.id);
            total_weight += b.weight;
          }
        auto picked = p.pick(key, load);
        if (total_weight == 0) {
          ASSERT_EQ(picked, std::nullopt);
          continue;
        }
        ASSERT_TRUE(picked) << "run " << run << " step " << step;
        ASSERT_TRUE(load.available(*picked));
        std::uint64_t w = 0;
        for (const auto& b : set)
          if (b.id == *picked)
            w = b.weight;
        auto num = (100 + k) * (m + 1) * w;
        auto den = 100 * total_weight;
        auto capacity = (num + den - 1) / den;
        ASSERT_LE(load.outstanding(*picked) + 1, capacity)
          << "run " << run << " step " << step << " epsilon " << k << "/100";
        // And it does not spill needlessly: home with room means home.
        auto home = *p.home(key);
        std::uint64_t home_w = 0;
        for (const auto& b : set)
          if (b.id == home)
            home_w = b.weight;
        auto home_capacity = ((100 + k) * (m + 1) * home_w + den - 1) / den;
        if (load.available(home) && load.outstanding(home) + 1 <= home_capacity) {
          ASSERT_EQ(*picked, home) << "run " << run << " step " << step;
        }
        spilled += *picked != home;
        load.add(*picked, 1);
        in_flight.push_back(*picked);
      } else {
        auto i = rng.below(in_flight.size());
        load.add(in_flight[i], -1);
        in_flight[i] = in_flight.back();
        in_flight.pop_back();
      }
    }
    EXPECT_GT(spilled, 0u) << "run " << run << ": the hot keys never hit the bound?";
  }
}

TEST(RingHashPolicy, RemovingOneOfTenMovesOnlyItsKeysAboutATenth) {
  auto keys = some_keys(20000);
  fake_load idle;
  ring_hash_policy all{100, 0.25};
  all.update(backends(10));
  std::vector<backend_id> before;
  for (auto k : keys)
    before.push_back(*all.pick(k, idle));
  for (backend_id gone = 1; gone <= 10; ++gone) {
    auto rest = backends(10);
    rest.erase(rest.begin() + static_cast<long>(gone - 1));
    ring_hash_policy p{100, 0.25};
    p.update(rest);
    std::size_t moved = 0;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      auto now = *p.pick(keys[i], idle);
      if (now != before[i]) {
        ++moved;
        ASSERT_EQ(before[i], gone) << "a key of a staying backend moved";
      } else {
        ASSERT_NE(before[i], gone);
      }
    }
    double fraction = static_cast<double>(moved) / keys.size();
    EXPECT_GT(fraction, 0.06) << "removing " << gone;
    EXPECT_LT(fraction, 0.15) << "removing " << gone;
  }
}

TEST(RingHashPolicy, AddingAnEleventhMovesAboutAnEleventhAllToIt) {
  auto keys = some_keys(20000);
  fake_load idle;
  ring_hash_policy p{100, 0.25};
  p.update(backends(10));
  std::vector<backend_id> before;
  for (auto k : keys)
    before.push_back(*p.pick(k, idle));
  p.update(backends(11));
  std::size_t moved = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto now = *p.pick(keys[i], idle);
    if (now != before[i]) {
      ++moved;
      ASSERT_EQ(now, backend_id{11}) << "a key moved between staying backends";
    }
  }
  double fraction = static_cast<double>(moved) / keys.size();
  EXPECT_NEAR(fraction, 1.0 / 11, 0.04);
}

TEST(RingHashPolicy, VirtualNodesBalanceKeys) {
  auto keys = some_keys(50000);
  ring_hash_policy p{100, 0.25};
  p.update(backends(10));
  EXPECT_EQ(p.size(), 1000u);
  std::map<backend_id, int> count;
  for (auto k : keys)
    ++count[*p.home(k)];
  ASSERT_EQ(count.size(), 10u);
  for (auto [id, n] : count) {
    EXPECT_GT(n, 5000 * 0.7) << id;
    EXPECT_LT(n, 5000 * 1.3) << id;
  }
}

TEST(RingHashPolicy, WeightsScaleTheShareOfKeys) {
  auto keys = some_keys(60000);
  ring_hash_policy p{200, 0.25};
  p.update(backends({1, 2, 3}));
  EXPECT_EQ(p.size(), 1200u);
  std::map<backend_id, int> count;
  for (auto k : keys)
    ++count[*p.home(k)];
  for (backend_id id = 1; id <= 3; ++id)
    EXPECT_NEAR(count[id], 10000.0 * static_cast<double>(id), 2500) << id;
}

TEST(RingHashPolicy, UnavailableBackendsKeysGoClockwiseOthersStay) {
  auto keys = some_keys(10000);
  ring_hash_policy p{100, 0.25};
  p.update(backends(6));
  fake_load load;
  std::vector<backend_id> before;
  for (auto k : keys)
    before.push_back(*p.pick(k, load));
  load.set_available(3, false);
  ring_hash_policy without{100, 0.25};
  without.update({{1, 1}, {2, 1}, {4, 1}, {5, 1}, {6, 1}});
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto now = *p.pick(keys[i], load);
    if (before[i] != 3) {
      ASSERT_EQ(now, before[i]);
    }
    // Walking past an unavailable backend's points is the same as not
    // having them on the ring.
    ASSERT_EQ(now, *without.home(keys[i]));
  }
}

TEST(RingHashPolicy, PlacementIgnoresTheSeed) {
  policy_options a;
  a.seed = 1;
  policy_options b;
  b.seed = 999;
  auto p = make_policy(policy_kind::ring_hash, a);
  auto q = make_policy(policy_kind::ring_hash, b);
  p->update(backends(7));
  q->update(backends(7));
  fake_load idle;
  for (auto k : some_keys(2000))
    ASSERT_EQ(p->pick(k, idle), q->pick(k, idle));
}

TEST(RingHashPolicy, CapacityFormula) {
  EXPECT_EQ(ring_hash_policy::capacity(0.25, 0, 1, 4), 1u);    // 1.25 / 4
  EXPECT_EQ(ring_hash_policy::capacity(0.25, 7, 1, 4), 3u);    // 1.25 * 8 / 4 = 2.5
  EXPECT_EQ(ring_hash_policy::capacity(0.25, 15, 1, 4), 5u);   // exactly 5, not 6
  EXPECT_EQ(ring_hash_policy::capacity(0.0, 99, 1, 10), 10u);  // exactly the average
  EXPECT_EQ(ring_hash_policy::capacity(0.5, 9, 3, 6), 8u);     // 1.5 * 10 * 3 / 6 = 7.5
  EXPECT_EQ(ring_hash_policy::capacity(1e30, 9, 1, 6), UINT64_MAX);
}

}  // namespace
