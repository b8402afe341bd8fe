#include "tests/support/linearizability.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>

namespace {

using ballot::testing::check_kv_history;
using ballot::testing::check_options;
using ballot::testing::check_result;
using ballot::testing::format_operation;
using ballot::testing::kv_operation;
using ballot::testing::read_history;
using ballot::testing::write_history;
using kind = kv_operation::kind;
using result = kv_operation::result;
using history = std::vector<kv_operation>;

// -- building histories by hand --------------------------------------------------------------

kv_operation make(kind op, std::string key, std::int64_t from, std::int64_t to, result outcome) {
  kv_operation out;
  out.op = op;
  out.key = std::move(key);
  out.invoke_ns = from;
  out.return_ns = to;
  out.outcome = outcome;
  return out;
}

/// An acknowledged put that was assigned `version`.
kv_operation put(std::string key, std::string value, std::int64_t from, std::int64_t to,
                 std::uint64_t version) {
  auto out = make(kind::put, std::move(key), from, to, result::ok);
  out.value = std::move(value);
  out.version = version;
  return out;
}

/// A conditional put; `version` matters only when it succeeded.
kv_operation put_if(std::string key, std::string value, std::uint64_t if_version, std::int64_t from,
                    std::int64_t to, result outcome, std::uint64_t version = 0) {
  auto out = put(std::move(key), std::move(value), from, to, version);
  out.if_version = if_version;
  out.outcome = outcome;
  return out;
}

/// A put whose client timed out at some point after `from`.
kv_operation put_unknown(std::string key, std::string value, std::int64_t from) {
  auto out = put(std::move(key), std::move(value), from, 0, 0);
  out.outcome = result::unknown;
  return out;
}

kv_operation get(std::string key, std::int64_t from, std::int64_t to, std::string value,
                 std::uint64_t version) {
  auto out = make(kind::get, std::move(key), from, to, result::ok);
  out.read_value = std::move(value);
  out.version = version;
  return out;
}

kv_operation get_absent(std::string key, std::int64_t from, std::int64_t to) {
  return make(kind::get, std::move(key), from, to, result::absent);
}

kv_operation del(std::string key, std::int64_t from, std::int64_t to, result outcome,
                 std::optional<std::uint64_t> if_version = std::nullopt) {
  auto out = make(kind::del, std::move(key), from, to, outcome);
  out.if_version = if_version;
  return out;
}

/// Success when the history is linearizable; the explanation otherwise.
::testing::AssertionResult linearizable(const history& h, check_options options = {}) {
  auto r = check_kv_history(h, options);
  if (r.linearizable)
    return ::testing::AssertionSuccess() << "accepted";
  if (r.timed_out)
    return ::testing::AssertionFailure() << "timed out: " << r.explanation;
  return ::testing::AssertionFailure() << r.explanation;
}

bool in_window(const check_result& r, std::size_t index) {
  return std::find(r.window.begin(), r.window.end(), index) != r.window.end();
}

// -- small histories ---------------------------------------------------------------------------

TEST(KvLinearizability, AcceptsSequentialPutsGetsAndDeletes) {
  EXPECT_TRUE(linearizable({}));
  EXPECT_TRUE(linearizable({
    get_absent("a", 0, 5),
    put("a", "x", 10, 20, 1),
    get("a", 30, 40, "x", 1),
    put("a", "y", 50, 60, 2),
    get("a", 70, 80, "y", 2),
    del("a", 90, 100, result::ok),
    get_absent("a", 110, 120),
    del("a", 130, 140, result::refused),
    del("a", 150, 160, result::absent),
  }));
}

TEST(KvLinearizability, ConcurrentPutsLetAReadSeeEitherInVersionOrder) {
  // Two overlapping puts may take effect in either order, but the versions the server
  // returned tell which came second: a later read must see that one.
  auto x_first = put("a", "x", 0, 100, 1);
  auto y_second = put("a", "y", 0, 100, 2);
  EXPECT_TRUE(linearizable({x_first, y_second, get("a", 150, 160, "y", 2)}));
  EXPECT_FALSE(linearizable({x_first, y_second, get("a", 150, 160, "x", 1)}));
  auto y_first = put("a", "y", 0, 100, 1);
  auto x_second = put("a", "x", 0, 100, 2);
  EXPECT_TRUE(linearizable({y_first, x_second, get("a", 150, 160, "x", 2)}));
  // A read overlapping both may see nothing, or the first one.
  EXPECT_TRUE(linearizable({x_first, y_second, get_absent("a", 50, 60)}));
  EXPECT_TRUE(linearizable({x_first, y_second, get("a", 50, 60, "x", 1)}));
  EXPECT_TRUE(linearizable({x_first, y_second, get("a", 50, 60, "y", 2)}));
  // Successive reads may watch the writes land in order, but never go back.
  EXPECT_TRUE(
    linearizable({x_first, y_second, get("a", 50, 60, "x", 1), get("a", 70, 80, "y", 2)}));
  EXPECT_FALSE(
    linearizable({x_first, y_second, get("a", 50, 60, "y", 2), get("a", 70, 80, "x", 1)}));
}

TEST(KvLinearizability, RejectsAStaleRead) {
  history h{
    put("a", "x", 0, 10, 1),
    put("a", "y", 20, 30, 2),
    get("a", 40, 50, "x", 1),
  };
  auto r = check_kv_history(h);
  EXPECT_FALSE(r.linearizable);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.key, "a");
  EXPECT_TRUE(in_window(r, 2)) << r.explanation;
  EXPECT_NE(r.explanation.find("#2 "), std::string::npos) << r.explanation;
  EXPECT_NE(r.explanation.find("t=50"), std::string::npos) << r.explanation;
}

TEST(KvLinearizability, RejectsAReadOfAValueNeverWritten) {
  history h{put("a", "x", 0, 10, 1), get("a", 20, 30, "z", 1)};
  auto r = check_kv_history(h);
  EXPECT_FALSE(r.linearizable);
  EXPECT_EQ(r.key, "a");
  EXPECT_EQ(r.window, std::vector<std::size_t>{1});
  EXPECT_NE(r.explanation.find("no put"), std::string::npos) << r.explanation;
  // The right value with a version it never had is just as wrong.
  EXPECT_FALSE(linearizable({put("a", "x", 0, 10, 1), get("a", 20, 30, "x", 2)}));
}

TEST(KvLinearizability, RejectsALostAcknowledgedWrite) {
  EXPECT_FALSE(linearizable({put("a", "x", 0, 10, 1), get_absent("a", 20, 30)}));
  EXPECT_FALSE(linearizable({
    put("a", "x", 0, 10, 1),
    put("a", "y", 20, 30, 2),
    get("a", 40, 50, "y", 2),
    get("a", 60, 70, "x", 1),
  }));
}

TEST(KvLinearizability, RejectsVersionsGoingBackwards) {
  EXPECT_FALSE(linearizable({put("a", "x", 0, 10, 5), put("a", "y", 20, 30, 3)}));
  EXPECT_FALSE(linearizable({put("a", "x", 0, 10, 5), put("a", "y", 20, 30, 5)}));
  EXPECT_FALSE(linearizable({put("a", "x", 0, 10, 0)}));  // versions start above 0
  // Gaps are fine: the checker does not assume how the server counts.
  EXPECT_TRUE(linearizable({put("a", "x", 0, 10, 5), put("a", "y", 20, 30, 90)}));
}

TEST(KvLinearizability, RejectsCreateOnlySucceedingTwiceWithoutADelete) {
  EXPECT_FALSE(linearizable({
    put_if("a", "x", 0, 0, 10, result::ok, 1),
    put_if("a", "y", 0, 20, 30, result::ok, 2),
  }));
  // Overlapping does not help: one of them comes second and finds the key present.
  EXPECT_FALSE(linearizable({
    put_if("a", "x", 0, 0, 10, result::ok, 1),
    put_if("a", "y", 0, 5, 15, result::ok, 2),
  }));
  EXPECT_TRUE(linearizable({
    put_if("a", "x", 0, 0, 10, result::ok, 1),
    put_if("a", "y", 0, 5, 15, result::refused),
  }));
  // Refused although the key was absent.
  EXPECT_FALSE(linearizable({put_if("a", "x", 0, 0, 10, result::refused)}));
}

TEST(KvLinearizability, AcceptsCreateOnlyAgainAfterADelete) {
  EXPECT_TRUE(linearizable({
    put_if("a", "x", 0, 0, 10, result::ok, 1),
    del("a", 20, 30, result::ok),
    put_if("a", "y", 0, 40, 50, result::ok, 2),
  }));
}

TEST(KvLinearizability, ConditionalWritesFollowTheVersion) {
  auto base = history{put("a", "x", 0, 10, 1)};
  auto with = [&](std::initializer_list<kv_operation> more) {
    auto h = base;
    h.insert(h.end(), more);
    return h;
  };
  EXPECT_TRUE(linearizable(with({
    put_if("a", "y", 1, 20, 30, result::ok, 2),
    put_if("a", "z", 1, 40, 50, result::refused),
    get("a", 60, 70, "y", 2),
  })));
  EXPECT_FALSE(linearizable(with({put_if("a", "y", 1, 20, 30, result::refused)})));
  EXPECT_FALSE(linearizable(with({put_if("a", "y", 2, 20, 30, result::ok, 3)})));
  EXPECT_TRUE(linearizable(with({del("a", 20, 30, result::ok, 1), get_absent("a", 40, 50)})));
  EXPECT_TRUE(linearizable(with({del("a", 20, 30, result::refused, 2), get("a", 40, 50, "x", 1)})));
  EXPECT_FALSE(linearizable(with({del("a", 20, 30, result::refused, 1)})));
  EXPECT_FALSE(linearizable(with({del("a", 20, 30, result::ok, 2)})));
}

TEST(KvLinearizability, DeletesFollowTheModel) {
  EXPECT_FALSE(linearizable({del("a", 0, 10, result::ok)}));  // nothing to delete
  EXPECT_FALSE(linearizable({put("a", "x", 0, 10, 1), del("a", 20, 30, result::refused)}));
  EXPECT_FALSE(linearizable({put("a", "x", 0, 10, 1), del("a", 20, 30, result::absent)}));
  EXPECT_FALSE(linearizable({
    put("a", "x", 0, 10, 1),
    del("a", 20, 30, result::ok),
    get("a", 40, 50, "x", 1),
  }));
}

TEST(KvLinearizability, VersionsRestartAfterADeleteUnlessTheyMustSurvive) {
  history h{put("a", "x", 0, 10, 5), del("a", 20, 30, result::ok), put("a", "y", 40, 50, 3)};
  EXPECT_TRUE(linearizable(h));
  check_options survive;
  survive.versions_survive_deletes = true;
  EXPECT_FALSE(linearizable(h, survive));
  h.back().version = 6;
  EXPECT_TRUE(linearizable(h, survive));
}

TEST(KvLinearizability, TouchingOperationsAreConcurrent) {
  // Clocks are coarse: a call at the instant another returns may have come first.
  EXPECT_TRUE(linearizable({put("a", "x", 0, 10, 1), get_absent("a", 10, 20)}));
  EXPECT_FALSE(linearizable({put("a", "x", 0, 10, 1), get_absent("a", 11, 20)}));
}

// -- unknown outcomes ---------------------------------------------------------------------------

TEST(KvLinearizability, AcceptsAnUnknownPutThatIsLaterObserved) {
  EXPECT_TRUE(linearizable({
    put("a", "x", 0, 10, 1),
    put_unknown("a", "y", 20),
    get("a", 30, 40, "x", 1),
    get("a", 50, 60, "y", 7),
    get("a", 70, 80, "y", 7),
  }));
}

TEST(KvLinearizability, AcceptsAnUnknownPutThatIsNeverObserved) {
  EXPECT_TRUE(linearizable({
    put("a", "x", 0, 10, 1),
    put_unknown("a", "y", 20),
    get("a", 30, 40, "x", 1),
    get("a", 1000, 1010, "x", 1),
  }));
  // An unknown delete that never took effect.
  auto lost_delete = del("a", 20, 0, result::unknown);
  EXPECT_TRUE(linearizable({put("a", "x", 0, 10, 1), lost_delete, get("a", 30, 40, "x", 1)}));
}

TEST(KvLinearizability, RejectsAnUnknownPutObservedAndThenMissing) {
  EXPECT_FALSE(linearizable({
    put("a", "x", 0, 10, 1),
    put_unknown("a", "y", 20),
    get("a", 30, 40, "y", 7),
    get("a", 50, 60, "x", 1),
  }));
}

TEST(KvLinearizability, AReadSettlesTheVersionOfAnUnknownPut) {
  auto unknown_then_read = history{
    put("a", "x", 0, 10, 1),
    put_unknown("a", "y", 20),
    get("a", 30, 40, "y", 5),
  };
  auto then = [&](kv_operation op) {
    auto h = unknown_then_read;
    h.push_back(std::move(op));
    return h;
  };
  EXPECT_TRUE(linearizable(unknown_then_read));
  EXPECT_TRUE(linearizable(then(put("a", "z", 50, 60, 6))));
  EXPECT_FALSE(linearizable(then(put("a", "z", 50, 60, 4))));
  EXPECT_FALSE(linearizable(then(get("a", 50, 60, "y", 6))));
  EXPECT_TRUE(linearizable(then(put_if("a", "z", 5, 50, 60, result::ok, 8))));
  EXPECT_FALSE(linearizable(then(put_if("a", "z", 4, 50, 60, result::ok, 8))));
  // Before any read the version is only known to be above the previous one.
  EXPECT_FALSE(
    linearizable({put("a", "x", 0, 10, 1), put_unknown("a", "y", 20), get("a", 30, 40, "y", 1)}));
  // A conditional write can settle it too.
  EXPECT_TRUE(linearizable({
    put("a", "x", 0, 10, 1),
    put_unknown("a", "y", 20),
    put_if("a", "z", 3, 30, 40, result::ok, 4),
    get("a", 50, 60, "z", 4),
  }));
}

TEST(KvLinearizability, AnUnknownPutNeedsRoomBetweenVersions) {
  // If y took effect between x (1) and z (2), it had a version strictly between them: none.
  EXPECT_FALSE(linearizable({
    put("a", "x", 0, 10, 1),
    put_unknown("a", "y", 20),
    get("a", 30, 40, "y", 2),
    put("a", "z", 50, 60, 2),
  }));
  // Two unknown puts both observed, in order, need two versions above 1.
  EXPECT_TRUE(linearizable({
    put("a", "x", 0, 10, 1),
    put_unknown("a", "y", 20),
    put_unknown("a", "z", 20),
    get("a", 30, 40, "z", 2),
    get("a", 50, 60, "y", 3),
  }));
  EXPECT_FALSE(linearizable({
    put("a", "x", 0, 10, 1),
    put_unknown("a", "y", 20),
    put_unknown("a", "z", 20),
    get("a", 30, 40, "z", 3),
    get("a", 50, 60, "y", 3),
  }));
}

TEST(KvLinearizability, ARefusalOfTheLowestPossibleVersionRaisesTheBound) {
  // The refused create-only shows y took effect (the key was deleted before), so y's version
  // is at least 1; the refusal of "if version 1" then says it is at least 2.
  EXPECT_FALSE(linearizable({
    put("a", "x", 0, 10, 1),
    del("a", 12, 14, result::ok),
    put_unknown("a", "y", 20),
    put_if("a", "z", 0, 30, 40, result::refused),
    put_if("a", "w", 1, 50, 60, result::refused),
    get("a", 70, 80, "y", 1),
  }));
}

TEST(KvLinearizability, IgnoresGetsWhoseAnswerWasLost) {
  auto lost = get_absent("a", 20, 0);
  lost.outcome = result::unknown;
  EXPECT_TRUE(linearizable({put("a", "x", 0, 10, 1), lost}));
}

// -- keys -----------------------------------------------------------------------------------------

TEST(KvLinearizability, ChecksKeysIndependently) {
  // Versions are per key: both keys may use version 1, and reads of one key say nothing of
  // the other.
  EXPECT_TRUE(linearizable({
    put("a", "x", 0, 10, 1),
    get_absent("b", 20, 30),
    put("b", "y", 40, 50, 1),
    get("a", 60, 70, "x", 1),
    get("b", 60, 70, "y", 1),
  }));
  history h{
    put("a", "x", 0, 10, 1),
    put("b", "y", 0, 10, 1),
    get("a", 20, 30, "x", 1),
    get_absent("b", 20, 30),
  };
  auto r = check_kv_history(h);
  EXPECT_FALSE(r.linearizable);
  EXPECT_EQ(r.key, "b");
  EXPECT_TRUE(in_window(r, 3)) << r.explanation;
  EXPECT_FALSE(in_window(r, 2)) << r.explanation;
}

// -- misuse ---------------------------------------------------------------------------------------

TEST(KvLinearizability, RejectsOperationsTheModelCannotExpress) {
  auto refused_get = get_absent("a", 0, 10);
  refused_get.outcome = result::refused;
  auto unconditional_refusal = put("a", "x", 0, 10, 1);
  unconditional_refusal.outcome = result::refused;
  auto absent_put = put("a", "x", 0, 10, 1);
  absent_put.outcome = result::absent;
  auto backwards = put("a", "x", 10, 0, 1);
  for (auto& op :
       {refused_get, unconditional_refusal, absent_put, backwards, del("a", 0, 10, result::ok, 0)})
    EXPECT_THROW(check_kv_history({op}), std::invalid_argument) << format_operation(op);
}

TEST(KvLinearizability, ReportsABudgetThatRunsOut) {
  auto r = check_kv_history({put("a", "x", 0, 10, 1)}, std::chrono::milliseconds{0});
  EXPECT_FALSE(r.linearizable);
  EXPECT_TRUE(r.timed_out);
  EXPECT_NE(r.explanation.find("nothing was proven"), std::string::npos) << r.explanation;
}

// -- the text format ------------------------------------------------------------------------------

TEST(KvHistoryFormat, FormatsOneOperationALine) {
  auto op = put_if("my key", "50%", 3, 100, 200, result::ok, 4);
  op.client = 7;
  EXPECT_EQ(format_operation(op), "7 100 200 put my%20key 50%25 if=3 -> ok 4");
  EXPECT_EQ(format_operation(get("k", 1, 2, "", 9)), "0 1 2 get k -> ok \"\" 9");
  EXPECT_EQ(format_operation(put_unknown("k", "v", 5)), "0 5 inf put k v -> unknown");
  EXPECT_EQ(format_operation(del("k", 1, 2, result::refused, 4)), "0 1 2 del k if=4 -> refused");
}

TEST(KvHistoryFormat, RoundTrips) {
  history h{
    put("a", "plain", 0, 10, 1),
    put_if("key with spaces", "line\nbreak \"quoted\" 100% \xc3\xa9", 0, 5, 15, result::ok, 2),
    put_if("", "", 3, 20, 30, result::refused),
    put_unknown("a", "maybe", 40),
    get("a", 50, 60, "plain", 1),
    get_absent("b", -5, 70),
    del("a", 80, 90, result::ok, 1),
    del("a", 100, 110, result::absent),
    del("a", 120, 0, result::unknown),
  };
  h[1].client = 18446744073709551615ULL;
  std::stringstream text;
  write_history(text, h);
  auto back = read_history(text);
  ASSERT_EQ(back.size(), h.size()) << text.str();
  for (std::size_t i = 0; i < h.size(); ++i) {
    SCOPED_TRACE(format_operation(h[i]));
    EXPECT_EQ(back[i].op, h[i].op);
    EXPECT_EQ(back[i].key, h[i].key);
    EXPECT_EQ(back[i].value, h[i].op == kind::put ? h[i].value : "");
    EXPECT_EQ(back[i].if_version, h[i].if_version);
    EXPECT_EQ(back[i].outcome, h[i].outcome);
    EXPECT_EQ(back[i].read_value, h[i].read_value);
    EXPECT_EQ(back[i].version, h[i].outcome == result::ok ? h[i].version : 0);
    EXPECT_EQ(back[i].client, h[i].client);
    EXPECT_EQ(back[i].invoke_ns, h[i].invoke_ns);
    if (h[i].outcome != result::unknown) {
      EXPECT_EQ(back[i].return_ns, h[i].return_ns);
    }
  }
}

TEST(KvHistoryFormat, SkipsCommentsAndNamesTheBadLine) {
  std::istringstream good{"# a comment\n\n  \n1 0 10 put a x -> ok 1\n"};
  EXPECT_EQ(read_history(good).size(), 1u);
  for (auto bad :
       {"1 0 10 put a x -> ok", "1 0 10 put a x -> ok 1 extra", "1 0 10 get a -> fine",
        "1 0 10 jump a -> ok", "1 0 inf put a x -> ok 1", "1 0 10 put a x -> unknown",
        "1 0 10 put a x if=z -> refused", "1 0 10 put a%4 x -> ok 1", "1 0 10 put a%zz x -> ok 1",
        "1 0 10 put a\"b x -> ok 1", "x 0 10 get a -> absent", "1 0 10 get a absent"}) {
    std::istringstream in{std::string{"# header\n1 0 10 get a -> absent\n"} + bad + "\n"};
    try {
      read_history(in);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string{e.what()}.find("line 3"), std::string::npos) << e.what();
    }
  }
}

// -- large generated histories --------------------------------------------------------------------

/// Simulates clients of a linearizable store: each operation takes effect at a random instant
/// inside its interval, in that order, against a store that assigns versions from a global
/// counter. Some writes time out: half of those took effect, half never reached the store.
history random_linearizable_history(std::size_t ops, std::size_t keys, std::size_t clients,
                                    std::uint64_t seed, int unknown_percent = 2) {
  std::mt19937_64 rng{seed};
  auto uniform = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>{lo, hi}(rng);
  };
  history h(ops);
  std::vector<std::int64_t> effect_at(ops);
  std::vector<std::int64_t> client_free(clients, 0);
  for (std::size_t i = 0; i < ops; ++i) {
    auto& op = h[i];
    op.client = i % clients;
    op.invoke_ns = client_free[op.client] + uniform(0, 20);
    op.return_ns = op.invoke_ns + uniform(1, 100);
    client_free[op.client] = op.return_ns;
    effect_at[i] = uniform(op.invoke_ns, op.return_ns);
    op.key = "k" + std::to_string(uniform(0, std::int64_t(keys) - 1));
    auto roll = uniform(0, 99);
    op.op = roll < 45 ? kind::get : roll < 85 ? kind::put : kind::del;
    if (op.op == kind::put)
      op.value = "v" + std::to_string(i);
  }
  std::vector<std::size_t> order(ops);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](auto x, auto y) { return effect_at[x] < effect_at[y]; });
  struct stored {
    std::string value;
    std::uint64_t version;
  };
  std::map<std::string, stored> store;
  std::uint64_t revision = 0;
  for (auto i : order) {
    auto& op = h[i];
    auto it = store.find(op.key);
    auto present = it != store.end();
    auto current = present ? it->second.version : 0;
    if (op.op == kind::get) {
      op.outcome = present ? result::ok : result::absent;
      if (present) {
        op.read_value = it->second.value;
        op.version = current;
      }
      continue;
    }
    // Conditions are right half of the time, so both outcomes occur.
    auto conditional = uniform(0, 99) < 30;
    if (conditional)
      op.if_version = uniform(0, 1) == 0 ? current : current + 1;
    if (op.op == kind::del && op.if_version == std::uint64_t{0})
      op.if_version.reset();
    auto lost = uniform(0, 99) < unknown_percent;
    auto applied = !(lost && uniform(0, 1) == 0);
    auto allowed = op.op == kind::put ? !op.if_version || *op.if_version == current
                                      : present && (!op.if_version || *op.if_version == current);
    if (lost)
      op.outcome = result::unknown;
    else
      op.outcome = allowed ? result::ok : result::refused;
    if (!allowed || !applied)
      continue;
    if (op.op == kind::put) {
      op.version = ++revision;
      store[op.key] = {op.value, op.version};
    } else {
      store.erase(it);
    }
  }
  return h;
}

/// What a client sees when the leader dies with requests in flight: every write invoked in
/// [from, to) times out. Some of them took effect and some did not; forgetting the outcome
/// keeps the history linearizable either way.
void lose_write_outcomes(history& h, std::int64_t from, std::int64_t to) {
  for (auto& op : h)
    if (op.op != kind::get && op.invoke_ns >= from && op.invoke_ns < to)
      op.outcome = result::unknown;
}

std::int64_t last_return(const history& h) {
  std::int64_t out = 0;
  for (auto& op : h)
    out = std::max(out, op.return_ns);
  return out;
}

/// Makes one read from the second half of the history return a value that was overwritten
/// before the read began: a put P1 finished, then a put P2 of the same key ran, finished, and
/// only then did the read start. Returns the read's index.
std::size_t make_one_read_stale(history& h) {
  auto done_put = [&](std::size_t i, const std::string& key) {
    return h[i].op == kind::put && h[i].key == key && h[i].outcome == result::ok;
  };
  for (auto g = h.size() / 2; g < h.size(); ++g) {
    if (h[g].op != kind::get || h[g].outcome != result::ok)
      continue;
    for (std::size_t p2 = 0; p2 < h.size(); ++p2) {
      if (!done_put(p2, h[g].key) || h[p2].return_ns >= h[g].invoke_ns)
        continue;
      for (std::size_t p1 = 0; p1 < h.size(); ++p1) {
        if (!done_put(p1, h[g].key) || h[p1].return_ns >= h[p2].invoke_ns)
          continue;
        h[g].read_value = h[p1].value;
        h[g].version = h[p1].version;
        return g;
      }
    }
  }
  throw std::logic_error("no read can be made stale");
}

/// Runs a check and reports how long it took.
check_result timed_check(const history& h, const char* what) {
  auto start = std::chrono::steady_clock::now();
  auto r = check_kv_history(h);
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  std::cout << "[ timing   ] " << what << ": " << h.size() << " ops checked in " << ms.count()
            << " ms\n";
  ::testing::Test::RecordProperty(std::string{what} + "_us",
                                  std::to_string(std::int64_t(ms.count() * 1000)));
  return r;
}

TEST(KvLinearizability, AcceptsALargeRandomLinearizableHistory) {
  auto h = random_linearizable_history(5000, 16, 8, 42);
  auto r = timed_check(h, "random_5000_ops_16_keys_8_clients");
  EXPECT_TRUE(r.linearizable) << r.explanation;
  EXPECT_FALSE(r.timed_out);
}

TEST(KvLinearizability, AcceptsARandomHistoryWithManyUnknownOutcomes) {
  // Few keys and one write in five timing out: many optional operations pending per key.
  auto h = random_linearizable_history(2000, 4, 8, 7, 20);
  auto r = timed_check(h, "random_2000_ops_4_keys_20pct_unknown");
  EXPECT_TRUE(r.linearizable) << r.explanation;
  EXPECT_FALSE(r.timed_out);
}

TEST(KvLinearizability, RejectsALargeRandomHistoryWithOneStaleRead) {
  auto h = random_linearizable_history(5000, 16, 8, 42);
  auto stale = make_one_read_stale(h);
  auto r = timed_check(h, "random_5000_ops_one_stale_read");
  EXPECT_FALSE(r.linearizable);
  EXPECT_FALSE(r.timed_out) << r.explanation;
  EXPECT_EQ(r.key, h[stale].key);
  EXPECT_TRUE(in_window(r, stale)) << r.explanation;
  std::cout << r.explanation;
}

TEST(KvLinearizability, ChecksAHistoryWithALeaderFailoverQuickly) {
  // For 5% of the run every write times out, as while a new leader is elected.
  auto h = random_linearizable_history(5000, 16, 8, 99, 0);
  auto end = last_return(h);
  lose_write_outcomes(h, end * 40 / 100, end * 45 / 100);
  auto accepted = timed_check(h, "failover_5000_ops_16_keys_5pct_window");
  EXPECT_TRUE(accepted.linearizable) << accepted.explanation;
  auto stale = make_one_read_stale(h);
  auto rejected = timed_check(h, "failover_5000_ops_16_keys_one_stale_read");
  EXPECT_FALSE(rejected.linearizable);
  EXPECT_FALSE(rejected.timed_out) << rejected.explanation;
  EXPECT_TRUE(in_window(rejected, stale)) << rejected.explanation;
}

TEST(KvLinearizability, AcceptsRandomHistoriesOfManySeeds) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    auto h = random_linearizable_history(400, 3, 5, seed, 10);
    EXPECT_TRUE(linearizable(h)) << "seed " << seed;
    make_one_read_stale(h);
    EXPECT_FALSE(linearizable(h)) << "seed " << seed;
  }
}

// -- a brute-force oracle -------------------------------------------------------------------------

/// One key as the brute force sees it: everything concrete, including the versions of
/// unknown-outcome puts, which it tries one by one.
struct concrete_key {
  bool present = false;
  std::string value;
  std::uint64_t version = 0;
  /// The next put must return more than this when the key is absent.
  std::uint64_t floor = 0;
};

bool condition_holds(const concrete_key& s, const std::optional<std::uint64_t>& if_version) {
  if (!if_version)
    return true;
  return *if_version == 0 ? !s.present : s.present && s.version == *if_version;
}

/// Every state `op` can lead to from `s` (none if it cannot come next).
std::vector<concrete_key> successors(const concrete_key& s, const kv_operation& op, bool survive,
                                     std::uint64_t max_version) {
  auto base = s.present ? s.version : s.floor;
  auto holds = condition_holds(s, op.if_version);
  switch (op.op) {
    case kind::get:
      if (op.outcome == result::absent)
        return s.present ? std::vector<concrete_key>{} : std::vector{s};
      if (s.present && s.value == op.read_value && s.version == op.version)
        return {s};
      return {};
    case kind::put: {
      if (op.outcome == result::refused)
        return holds ? std::vector<concrete_key>{} : std::vector{s};
      std::vector<concrete_key> out;
      for (auto v = base + 1; holds && v <= max_version; ++v)
        if (op.outcome == result::unknown || v == op.version)
          out.push_back({true, op.value, v, 0});
      return out;
    }
    default:
      if (op.outcome == result::absent)
        return s.present ? std::vector<concrete_key>{} : std::vector{s};
      if (op.outcome == result::refused)
        return !s.present || (op.if_version && !holds) ? std::vector{s}
                                                       : std::vector<concrete_key>{};
      if (!s.present || !holds)
        return {};
      return {{false, "", 0, survive ? s.version : 0}};
  }
}

/// Tries every order that respects real time, with every subset of the unknown outcomes.
class brute_force {
 public:
  brute_force(const history& h, bool survive) : h_(h), survive_(survive), placed_(h.size()) {
    for (auto& op : h)
      max_version_ = std::max(max_version_, op.version);
    max_version_ += h.size() + 1;  // room for every unknown put
  }

  bool linearizable() { return search(); }

 private:
  bool known(std::size_t i) const { return h_[i].outcome != result::unknown; }

  /// An operation may come next if no other pending operation returned before it began.
  bool may_come_next(std::size_t i) const {
    for (std::size_t j = 0; j < h_.size(); ++j)
      if (!placed_[j] && j != i && known(j) && h_[j].return_ns < h_[i].invoke_ns)
        return false;
    return true;
  }

  bool search() {
    auto done = true;
    for (std::size_t i = 0; i < h_.size(); ++i)
      done = done && (placed_[i] || !known(i));
    if (done)
      return true;
    for (std::size_t i = 0; i < h_.size(); ++i) {
      if (placed_[i] || !may_come_next(i))
        continue;
      auto before = keys_[h_[i].key];
      placed_[i] = true;
      for (auto& next : successors(before, h_[i], survive_, max_version_)) {
        keys_[h_[i].key] = next;
        if (search())
          return true;
      }
      keys_[h_[i].key] = before;
      placed_[i] = false;
    }
    return false;
  }

  const history& h_;
  bool survive_;
  std::vector<bool> placed_;
  std::map<std::string, concrete_key> keys_;
  std::uint64_t max_version_ = 0;
};

/// A small history of arbitrary (mostly wrong) answers over two keys.
history random_small_history(std::mt19937_64& rng) {
  auto uniform = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>{lo, hi}(rng);
  };
  history h(std::size_t(uniform(1, 6)));
  for (auto& op : h) {
    op.key = uniform(0, 3) == 0 ? "b" : "a";
    op.invoke_ns = uniform(0, 20);
    op.return_ns = op.invoke_ns + uniform(0, 10);
    op.op = kind(uniform(0, 2));
    op.value = op.op == kind::put ? std::string(1, char('x' + uniform(0, 2))) : "";
    op.read_value = std::string(1, char('x' + uniform(0, 2)));
    op.version = std::uint64_t(uniform(0, 4));
    if (op.op != kind::get && uniform(0, 1) == 0)
      op.if_version = std::uint64_t(uniform(op.op == kind::del ? 1 : 0, 3));
    op.outcome = result(uniform(0, 3));
  }
  return h;
}

/// Changes one thing about one operation of a (linearizable) history.
void mutate(history& h, std::mt19937_64& rng) {
  auto uniform = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>{lo, hi}(rng);
  };
  auto& op = h[std::size_t(uniform(0, std::int64_t(h.size()) - 1))];
  switch (uniform(0, 4)) {
    case 0:
      op.version =
        std::uint64_t(std::max<std::int64_t>(0, std::int64_t(op.version) + uniform(-2, 2)));
      break;
    case 1:
      op.outcome = result(uniform(0, 3));
      break;
    case 2:
      op.read_value = h[std::size_t(uniform(0, std::int64_t(h.size()) - 1))].value;
      break;
    case 3:
      op.invoke_ns += uniform(-30, 30);
      break;
    default:
      op.if_version = std::uint64_t(uniform(0, 3));
      break;
  }
}

TEST(KvLinearizability, RejectsManyConcurrentReadsWithoutTryingEveryOrder) {
  // 16 overlapping reads can be ordered 16! ways but leave only 2^16 distinct (set, state)
  // configurations: without the memo this rejection would not finish.
  history h{put("a", "x", 0, 10, 1)};
  for (int i = 0; i < 16; ++i)
    h.push_back(get("a", 20 + i, 100, "x", 1));
  h.push_back(get_absent("a", 200, 210));
  auto start = std::chrono::steady_clock::now();
  auto r = check_kv_history(h, std::chrono::seconds{5});
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  std::cout << "[ timing   ] 16 concurrent reads then a lost write: " << ms.count() << " ms\n";
  EXPECT_FALSE(r.linearizable);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.window, std::vector<std::size_t>{17}) << r.explanation;
}

TEST(KvLinearizability, AgreesWithBruteForceOnSmallHistories) {
  std::mt19937_64 rng{2024};
  std::size_t accepted = 0;
  std::size_t rejected = 0;
  for (std::uint64_t round = 0; round < 20000; ++round) {
    auto h =
      round % 2 == 0 ? random_small_history(rng) : random_linearizable_history(6, 2, 3, round, 30);
    if (round % 4 == 1)
      mutate(h, rng);
    for (auto survive : {false, true}) {
      check_options options;
      options.versions_survive_deletes = survive;
      check_result r;
      try {
        r = check_kv_history(h, options);
      } catch (const std::invalid_argument&) {
        break;  // not a history the model can express
      }
      ASSERT_FALSE(r.timed_out);
      auto expected = brute_force{h, survive}.linearizable();
      (expected ? accepted : rejected) += 1;
      if (r.linearizable != expected) {
        std::ostringstream text;
        write_history(text, h);
        FAIL() << "round " << round << (survive ? " (versions survive deletes)" : "")
               << ": brute force says " << expected << ", checker says " << r.linearizable << "\n"
               << text.str() << r.explanation;
      }
    }
  }
  std::cout << "[ oracle   ] " << accepted << " accepted, " << rejected << " rejected\n";
  EXPECT_GT(accepted, 5000u);
  EXPECT_GT(rejected, 5000u);
}

}  // namespace
