// Maglev: the table's balance (each backend floor(M/N) or ceil(M/N) entries
// with equal weights), little disruption when a backend leaves or joins, and
// a deterministic fallback past unavailable backends.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "actors/balance/policies/maglev.hpp"
#include "tests/balance/policies/fake_load.hpp"

namespace {

using namespace ballot::balance;
using namespace ballot::balance::test;

std::map<backend_id, std::size_t> entries_per_backend(const maglev_policy& p) {
  std::map<backend_id, std::size_t> count;
  for (auto id : p.table())
    ++count[id];
  return count;
}

/// Ids far apart and irregular, as real ones would be.
std::vector<backend> spread_ids(std::size_t n, std::uint64_t salt = 0) {
  std::vector<backend> out;
  for (std::size_t i = 0; i < n; ++i)
    out.push_back({(i + 1) * 1000003 + salt, 1});
  return out;
}

TEST(MaglevPolicy, TableSizeIsPrime) {
  EXPECT_EQ(maglev_policy::next_prime(65537), 65537u);
  EXPECT_EQ(maglev_policy::next_prime(1000), 1009u);
  EXPECT_EQ(maglev_policy::next_prime(0), 2u);
  maglev_policy p{1000};
  p.update(backends(3));
  EXPECT_EQ(p.table_size(), 1009u);
  maglev_policy tiny{2};
  tiny.update(backends(6));  // never fewer entries than backends
  EXPECT_EQ(tiny.table_size(), 7u);
  EXPECT_EQ(entries_per_backend(tiny).size(), 6u);
}

TEST(MaglevPolicy, EqualWeightsGetFloorOrCeilOfMOverN) {
  // Backends take one turn each per round until the table is full, so their
  // entry counts differ by at most one.
  for (std::uint32_t m : {251u, 65537u}) {
    for (std::size_t n : {1, 2, 3, 5, 8, 10, 13, 64, 100}) {
      maglev_policy p{m};
      p.update(spread_ids(n, m));
      auto count = entries_per_backend(p);
      ASSERT_EQ(count.size(), n);
      auto lo = m / n;
      auto hi = (m + n - 1) / n;
      for (auto [id, c] : count) {
        EXPECT_GE(c, lo) << "M=" << m << " N=" << n << " backend " << id;
        EXPECT_LE(c, hi) << "M=" << m << " N=" << n << " backend " << id;
      }
    }
  }
}

TEST(MaglevPolicy, WeightsScaleTheEntries) {
  maglev_policy p{65537};
  p.update({{10, 1}, {20, 2}, {30, 5}, {40, 8}});
  auto count = entries_per_backend(p);
  const double m = 65537;
  const double total = 16;
  std::map<backend_id, double> weight{{10, 1}, {20, 2}, {30, 5}, {40, 8}};
  for (auto [id, c] : count)
    EXPECT_LE(std::abs(static_cast<double>(c) - m * weight[id] / total), 5.0) << id;
}

TEST(MaglevPolicy, EveryBackendOwnsAnEntryWhateverItsWeight) {
  // Otherwise a light backend next to a heavy one could never be picked, and
  // a key could find no fallback when the heavy one is unavailable.
  maglev_policy p{1009};
  p.update({{1, 1}, {2, 5000}});
  auto count = entries_per_backend(p);
  EXPECT_EQ(count[1], 1u);
  EXPECT_EQ(count[2], 1008u);
  fake_load load;
  load.set_available(2, false);
  for (std::uint64_t k = 0; k < 2000; ++k)
    ASSERT_EQ(p.pick(k * 0x9E3779B97F4A7C15ULL, load), backend_id{1});
}

TEST(MaglevPolicy, RemovingABackendDisruptsLittleBeyondItsOwnEntries) {
  // Minimal disruption would change only the leaver's entries (1/N of the
  // table). Maglev is close to that, not exactly: the paper measures a small
  // excess. Measured here with M = 65537, N = 10: 0.2-0.35 % of the table on
  // top of the leaver's 10 % (N = 100: ~0.6 % on top of 1 %). The bound below
  // leaves room but catches a table that reshuffles (which would change ~90 %).
  maglev_policy full{65537};
  auto set = spread_ids(10);
  full.update(set);
  auto before = full.table();
  for (std::size_t gone = 0; gone < set.size(); ++gone) {
    auto rest = set;
    rest.erase(rest.begin() + static_cast<long>(gone));
    maglev_policy p{65537};
    p.update(rest);
    auto after = p.table();
    std::size_t own = 0;
    std::size_t extra = 0;
    for (std::size_t i = 0; i < before.size(); ++i) {
      if (before[i] == set[gone].id)
        ++own;
      else if (after[i] != before[i])
        ++extra;
    }
    EXPECT_GT(own, 0u);
    EXPECT_LT(static_cast<double>(extra) / before.size(), 0.01)
      << "removing backend " << gone << ": " << extra << " extra entries changed";
  }
}

TEST(MaglevPolicy, AddingABackendMostlyTakesEntriesForItself) {
  maglev_policy p{65537};
  auto set = spread_ids(10);
  p.update(set);
  auto before = p.table();
  set.push_back({99999989, 1});
  p.update(set);
  auto after = p.table();
  std::size_t to_new = 0;
  std::size_t between_old = 0;
  for (std::size_t i = 0; i < before.size(); ++i) {
    if (after[i] == 99999989)
      ++to_new;
    else if (after[i] != before[i])
      ++between_old;
  }
  EXPECT_NEAR(static_cast<double>(to_new) / before.size(), 1.0 / 11, 0.001);
  EXPECT_LT(static_cast<double>(between_old) / before.size(), 0.01);
}

TEST(MaglevPolicy, UnavailableBackendsKeysSpreadOverTheOthers) {
  maglev_policy p{65537};
  p.update(backends(8));
  fake_load load;
  std::vector<backend_id> before;
  std::vector<std::uint64_t> keys;
  for (int i = 0; i < 40000; ++i)
    keys.push_back(hash_key("k" + std::to_string(i)));
  for (auto k : keys)
    before.push_back(*p.pick(k, load));
  load.set_available(5, false);
  std::map<backend_id, int> displaced;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto now = *p.pick(keys[i], load);
    ASSERT_EQ(now, *p.pick(keys[i], load)) << "fallback must be deterministic";
    if (before[i] != 5) {
      ASSERT_EQ(now, before[i]);
    } else {
      ASSERT_NE(now, backend_id{5});
      ++displaced[now];
    }
  }
  // ~5000 displaced keys over 7 backends: ~714 each, none taking double.
  ASSERT_EQ(displaced.size(), 7u);
  for (auto [id, n] : displaced) {
    EXPECT_GT(n, 714 / 2) << id;
    EXPECT_LT(n, 714 * 2) << id;
  }
}

TEST(MaglevPolicy, TableIgnoresTheSeedAndTheOrder) {
  policy_options a;
  a.seed = 1;
  a.maglev_table_size = 4099;
  auto b = a;
  b.seed = 12345;
  auto p = make_policy(policy_kind::maglev, a);
  auto q = make_policy(policy_kind::maglev, b);
  auto set = spread_ids(9);
  p->update(set);
  std::reverse(set.begin(), set.end());
  q->update(set);
  fake_load idle;
  for (std::uint64_t k = 0; k < 4099; ++k)
    ASSERT_EQ(p->pick(k, idle), q->pick(k, idle));
}

}  // namespace
