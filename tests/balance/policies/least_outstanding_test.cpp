// Least outstanding: always a minimum; ties by weight-scaled load, then in
// rotation.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "actors/balance/policies/least_outstanding.hpp"
#include "tests/balance/policies/fake_load.hpp"

namespace {

using namespace ballot::balance;
using namespace ballot::balance::test;

TEST(LeastOutstandingPolicy, AlwaysPicksAMinimum) {
  test_rng rng{21};
  least_outstanding_policy p{3};
  fake_load load;
  for (int round = 0; round < 200; ++round) {
    auto n = 1 + rng.below(16);
    p.update(backends(n));
    load.clear();
    for (backend_id id = 1; id <= n; ++id) {
      load.set_outstanding(id, static_cast<std::uint32_t>(rng.below(8)));
      load.set_available(id, rng.below(4) != 0);
    }
    for (int i = 0; i < 20; ++i) {
      std::uint32_t minimum = UINT32_MAX;
      for (backend_id id = 1; id <= n; ++id)
        if (load.available(id))
          minimum = std::min(minimum, load.outstanding(id));
      auto picked = p.pick(0, load);
      if (minimum == UINT32_MAX) {
        ASSERT_EQ(picked, std::nullopt);
        break;
      }
      ASSERT_TRUE(picked);
      ASSERT_TRUE(load.available(*picked));
      ASSERT_EQ(load.outstanding(*picked), minimum) << "round " << round;
      load.add(*picked, 1);  // the request goes out
    }
  }
}

TEST(LeastOutstandingPolicy, EqualCountsGoToTheHeavierBackend) {
  least_outstanding_policy p{0};
  p.update({{1, 1}, {2, 4}, {3, 2}});
  fake_load load;
  for (backend_id id = 1; id <= 3; ++id)
    load.set_outstanding(id, 3);
  EXPECT_EQ(p.pick(0, load), backend_id{2});
  load.set_outstanding(1, 2);  // fewer outstanding still comes first
  EXPECT_EQ(p.pick(0, load), backend_id{1});
}

TEST(LeastOutstandingPolicy, IdleBackendsShareTheLightLoad) {
  // Requests that finish before the next arrives: all idle every time. Every
  // backend gets its turn instead of the lowest id taking everything.
  least_outstanding_policy p{0};
  p.update(backends(5));
  fake_load load;
  std::vector<int> count(6);
  for (int i = 0; i < 500; ++i)
    ++count[*p.pick(0, load)];
  for (backend_id id = 1; id <= 5; ++id)
    EXPECT_EQ(count[id], 100) << id;
}

TEST(LeastOutstandingPolicy, FillsUpEvenly) {
  // With no request finishing, outstanding counts never differ by more than one.
  least_outstanding_policy p{1};
  p.update(backends(7));
  fake_load load;
  for (int i = 0; i < 700; ++i) {
    load.add(*p.pick(0, load), 1);
    std::uint32_t lo = UINT32_MAX;
    std::uint32_t hi = 0;
    for (backend_id id = 1; id <= 7; ++id) {
      lo = std::min(lo, load.outstanding(id));
      hi = std::max(hi, load.outstanding(id));
    }
    ASSERT_LE(hi - lo, 1u) << "after " << i + 1;
  }
}

}  // namespace
