// Randomized property test: many sessions issue random commands with
// increasing (sometimes jumping) time, and after every step the safety rules
// must hold. A second replica applies the same commands and is rebuilt from
// its own snapshot mid-way; both must stay byte-for-byte identical.

#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "actors/lock/lock_codec.hpp"
#include "actors/lock/lock_service.hpp"
#include "tests/lock/lock_test_util.hpp"

namespace {

using namespace ballot::lock;
using namespace ballot::lock::test;

const std::vector<std::string> names{"a", "b", "c"};

class generator {
 public:
  explicit generator(std::uint64_t seed) : rng_(seed) {}

  /// The next command, aimed mostly at the sessions `svc` has alive.
  command next(const lock_service& svc, session_id last_session) {
    now_ += pick(25);
    if (pick(300) == 0)
      now_ += 500 + pick(1500);  // a stall, as during a fail-over
    auto& live = svc.sessions().sessions();
    if (live.size() < 6 && pick(2) == 0)
      return open_session{now_, 200 + pick(800)};
    // Mostly live sessions, sometimes one that ended or never existed.
    session_id s = 1 + pick(last_session + 1);
    if (!live.empty() && pick(10) != 0)
      s = std::next(live.begin(), static_cast<long>(pick(live.size())))->first;
    auto name = names[pick(names.size())];
    switch (pick(16)) {
      case 0:
        return open_session{now_, 100 + pick(900)};
      case 1:
      case 2:
      case 3:
        return keep_alive{now_, s};
      case 4:
        return close_session{now_, s};
      case 5:
        return pick(4) == 0 ? command{leader_change{now_, pick(500)}} : command{tick{now_}};
      case 6:
      case 7:
      case 8:
        return acquire{now_,         s,
                       name,         pick(2) == 0 ? lock_mode::shared : lock_mode::exclusive,
                       pick(4) != 0, pick(3) == 0 ? pick(400) : 0};
      case 9:
      case 10:
      case 11:
        return release{now_, s, name};
      case 12:
        return cancel_wait{now_, s, name};
      case 13:
        return put_key{now_, "k/" + name, std::to_string(now_), pick(2) == 0 ? 0 : s};
      case 14:
        return delete_key{now_, "k/" + name};
      default:
        return open_session{now_, 50 + pick(300)};
    }
  }

 private:
  std::uint64_t pick(std::uint64_t n) { return rng_() % n; }

  std::mt19937_64 rng_;
  time_ms now_ = 0;
};

/// The safety rules, checked against the state after every step.
void check_invariants(const lock_service& svc, const result& r,
                      std::map<std::string, std::uint64_t>& last_token, const std::string& where) {
  for (auto& [name, l] : svc.locks().locks()) {
    auto exclusive = std::count_if(l.holders.begin(), l.holders.end(),
                                   [](auto& h) { return h.mode == lock_mode::exclusive; });
    ASSERT_LE(exclusive, 1) << where << ": two exclusive holders of " << name;
    ASSERT_TRUE(exclusive == 0 || l.holders.size() == 1)
      << where << ": exclusive and shared holders of " << name;
    for (auto& h : l.holders) {
      auto* s = svc.sessions().find(h.session);
      ASSERT_NE(s, nullptr) << where << ": dead session " << h.session << " holds " << name;
      ASSERT_GE(s->deadline, svc.now()) << where << ": expired session holds " << name;
      ASSERT_TRUE(token_valid(svc, name, h.token)) << where;
    }
    for (auto& w : l.waiters)
      ASSERT_NE(svc.sessions().find(w.session), nullptr)
        << where << ": dead session " << w.session << " waits for " << name;
    // Liveness: nobody waits for a lock that could be handed to them.
    if (!l.waiters.empty() && svc.now() >= l.delay_until) {
      auto front = l.waiters.front().mode;
      bool blocked = front == lock_mode::exclusive ? !l.holders.empty() : exclusive == 1;
      ASSERT_TRUE(blocked) << where << ": grantable waiter left queued on " << name;
    }
  }
  for (auto& [key, e] : svc.keys().keys())
    ASSERT_TRUE(e.session == 0 || svc.sessions().find(e.session) != nullptr)
      << where << ": ephemeral key " << key << " outlived its session";
  for (auto id : r.expired)
    ASSERT_EQ(svc.sessions().find(id), nullptr) << where;
  // Every grant of this step, in the order it was made.
  std::vector<grant> grants = r.grants;
  for (auto& g : grants) {
    ASSERT_GT(g.token, last_token[g.name]) << where << ": token went backwards on " << g.name;
    last_token[g.name] = g.token;
  }
}

/// What the random histories exercised: a generator that never reaches a
/// rule would make the test pass vacuously.
struct coverage {
  int hand_offs = 0;
  int expiries = 0;
  int queued = 0;
  int delayed = 0;
  int shared_pairs = 0;
};

void run_seed(std::uint64_t seed, int steps, coverage& seen) {
  generator gen{seed};
  lock_service a{16};
  auto b = std::make_unique<lock_service>(16);
  std::map<std::string, std::uint64_t> last_token;
  session_id last_session = 0;
  for (int i = 0; i < steps; ++i) {
    auto where = "seed " + std::to_string(seed) + " step " + std::to_string(i);
    if (i == steps / 2) {
      // Built with another history limit: restore must adopt the snapshot's.
      auto restored = std::make_unique<lock_service>();
      restored->restore(*b->snapshot());
      b = std::move(restored);
    }
    auto cmd = gen.next(a, last_session);
    auto payload = encode(cmd);
    auto bytes_a = a.apply(payload);
    auto bytes_b = b->apply(payload);
    ASSERT_EQ(bytes_a, bytes_b) << where << ": replicas answered differently";
    result r;
    std::string error;
    ASSERT_TRUE(decode(bytes_a, r, error)) << error;
    if (std::holds_alternative<open_session>(cmd) && r.ok())
      last_session = r.session;
    seen.hand_offs += static_cast<int>(r.grants.size());
    seen.expiries += static_cast<int>(r.expired.size());
    seen.queued += r.code == result_code::queued;
    for (auto& [name, l] : a.locks().locks()) {
      seen.delayed += l.delay_until > a.now() && !l.waiters.empty();
      seen.shared_pairs += l.holders.size() > 1;
    }
    check_invariants(a, r, last_token, where);
    // An acquire's own grant comes after those its time advance made.
    if (std::holds_alternative<acquire>(cmd) && r.ok()) {
      auto& name = std::get<acquire>(cmd).name;
      ASSERT_GT(r.token, last_token[name]) << where << ": token went backwards on " << name;
      last_token[name] = r.token;
    }
    if (testing::Test::HasFatalFailure())
      return;
    ASSERT_EQ(*a.snapshot(), *b->snapshot()) << where << ": replicas diverged";
  }
}

TEST(LockPropertyTest, RandomHistoriesKeepSafetyAndReplicasIdentical) {
  coverage seen;
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    run_seed(seed, 3'000, seen);
    if (HasFatalFailure())
      return;
  }
  EXPECT_GT(seen.hand_offs, 100);
  EXPECT_GT(seen.expiries, 100);
  EXPECT_GT(seen.queued, 100);
  EXPECT_GT(seen.delayed, 10);
  EXPECT_GT(seen.shared_pairs, 10);
  std::cout << "hand-offs " << seen.hand_offs << ", expiries " << seen.expiries << ", queued "
            << seen.queued << ", delayed-with-waiters " << seen.delayed << ", shared pairs "
            << seen.shared_pairs << "\n";
}

}  // namespace
