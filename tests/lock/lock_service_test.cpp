// The lock service, one rule per test: FIFO, readers/writer compatibility,
// hand-off in the release's result, fencing tokens, lock-delay, session
// expiry and keep-alive, leader-change grace, watches, and snapshots.

#include "actors/lock/lock_service.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "tests/lock/lock_test_util.hpp"

namespace {

using namespace ballot::lock;
using namespace ballot::lock::test;

std::vector<session_id> sessions_of(const std::vector<grant>& gs) {
  std::vector<session_id> out;
  for (auto& g : gs)
    out.push_back(g.session);
  return out;
}

TEST(LockServiceTest, FreeLockIsGrantedAtOnceWithAToken) {
  lock_service svc;
  auto s = open(svc, 0);
  auto r = take(svc, 1, s, "a");
  EXPECT_EQ(r.code, result_code::ok);
  EXPECT_GT(r.token, 0u);
  auto info = ask(svc, lock_info{"a"});
  ASSERT_EQ(info.holders.size(), 1u);
  EXPECT_EQ(info.holders[0], (grant{s, "a", lock_mode::exclusive, r.token}));
}

TEST(LockServiceTest, WaitersAreGrantedInFifoOrder) {
  lock_service svc;
  auto s1 = open(svc, 0);
  auto s2 = open(svc, 0);
  auto s3 = open(svc, 0);
  auto s4 = open(svc, 0);
  ASSERT_TRUE(take(svc, 1, s1, "a").ok());
  EXPECT_EQ(take(svc, 2, s3, "a").code, result_code::queued);
  EXPECT_EQ(take(svc, 3, s2, "a").code, result_code::queued);
  EXPECT_EQ(take(svc, 4, s4, "a").code, result_code::queued);
  auto r = run(svc, release{5, s1, "a"});
  EXPECT_EQ(sessions_of(r.grants), std::vector<session_id>{s3});
  r = run(svc, release{6, s3, "a"});
  EXPECT_EQ(sessions_of(r.grants), std::vector<session_id>{s2});
  r = run(svc, release{7, s2, "a"});
  EXPECT_EQ(sessions_of(r.grants), std::vector<session_id>{s4});
}

TEST(LockServiceTest, SharedHoldersCoexistAndExcludeExclusive) {
  lock_service svc;
  auto s1 = open(svc, 0);
  auto s2 = open(svc, 0);
  auto s3 = open(svc, 0);
  EXPECT_TRUE(take(svc, 1, s1, "r", lock_mode::shared).ok());
  EXPECT_TRUE(take(svc, 1, s2, "r", lock_mode::shared).ok());
  EXPECT_EQ(take(svc, 1, s3, "r", lock_mode::exclusive, false).code, result_code::busy);
  EXPECT_TRUE(take(svc, 1, s1, "w", lock_mode::exclusive).ok());
  EXPECT_EQ(take(svc, 1, s2, "w", lock_mode::shared, false).code, result_code::busy);
  EXPECT_EQ(take(svc, 1, s3, "w", lock_mode::exclusive, false).code, result_code::busy);
  EXPECT_EQ(ask(svc, lock_info{"r"}).holders.size(), 2u);
}

TEST(LockServiceTest, TryLockOnABusyLockDoesNotQueue) {
  lock_service svc;
  auto s1 = open(svc, 0);
  auto s2 = open(svc, 0);
  ASSERT_TRUE(take(svc, 1, s1, "a").ok());
  EXPECT_EQ(take(svc, 2, s2, "a", lock_mode::exclusive, false).code, result_code::busy);
  EXPECT_TRUE(ask(svc, lock_info{"a"}).waiters.empty());
  EXPECT_TRUE(run(svc, release{3, s1, "a"}).grants.empty());
}

TEST(LockServiceTest, WaitingWriterIsNotStarvedByLaterReaders) {
  lock_service svc;
  auto reader1 = open(svc, 0);
  auto writer = open(svc, 0);
  auto reader2 = open(svc, 0);
  ASSERT_TRUE(take(svc, 1, reader1, "a", lock_mode::shared).ok());
  EXPECT_EQ(take(svc, 2, writer, "a", lock_mode::exclusive).code, result_code::queued);
  // Compatible with the holder, but the writer waits ahead of it.
  EXPECT_EQ(take(svc, 3, reader2, "a", lock_mode::shared, false).code, result_code::busy);
  EXPECT_EQ(take(svc, 4, reader2, "a", lock_mode::shared).code, result_code::queued);
  auto r = run(svc, release{5, reader1, "a"});
  EXPECT_EQ(sessions_of(r.grants), std::vector<session_id>{writer});
  r = run(svc, release{6, writer, "a"});
  EXPECT_EQ(sessions_of(r.grants), std::vector<session_id>{reader2});
}

TEST(LockServiceTest, ReleaseResultListsEveryHandOff) {
  lock_service svc;
  auto s1 = open(svc, 0);
  auto r2 = open(svc, 0);
  auto r3 = open(svc, 0);
  auto w4 = open(svc, 0);
  ASSERT_TRUE(take(svc, 1, s1, "a").ok());
  take(svc, 2, r2, "a", lock_mode::shared);
  take(svc, 3, r3, "a", lock_mode::shared);
  take(svc, 4, w4, "a", lock_mode::exclusive);
  auto r = run(svc, release{5, s1, "a"});
  ASSERT_TRUE(r.ok());
  // Both readers at once, in queue order; the writer behind them keeps waiting.
  ASSERT_EQ(r.grants.size(), 2u);
  EXPECT_EQ(r.grants[0].session, r2);
  EXPECT_EQ(r.grants[1].session, r3);
  EXPECT_EQ(r.grants[0].mode, lock_mode::shared);
  EXPECT_LT(r.grants[0].token, r.grants[1].token);
  EXPECT_TRUE(token_valid(svc, "a", r.grants[0].token));
  EXPECT_TRUE(token_valid(svc, "a", r.grants[1].token));
  auto info = ask(svc, lock_info{"a"});
  EXPECT_EQ(info.holders.size(), 2u);
  ASSERT_EQ(info.waiters.size(), 1u);
  EXPECT_EQ(info.waiters[0].session, w4);
}

TEST(LockServiceTest, CancelledWriterNoLongerHoldsBackReaders) {
  lock_service svc;
  auto reader1 = open(svc, 0);
  auto writer = open(svc, 0);
  auto reader2 = open(svc, 0);
  ASSERT_TRUE(take(svc, 1, reader1, "a", lock_mode::shared).ok());
  take(svc, 2, writer, "a", lock_mode::exclusive);
  take(svc, 3, reader2, "a", lock_mode::shared);
  auto r = run(svc, cancel_wait{4, writer, "a"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(sessions_of(r.grants), std::vector<session_id>{reader2});
  EXPECT_EQ(run(svc, cancel_wait{5, writer, "a"}).code, result_code::not_waiting);
}

TEST(LockServiceTest, TokensStrictlyIncreaseAcrossReleaseExpiryAndRestore) {
  lock_service svc;
  std::vector<std::uint64_t> tokens;
  auto s1 = open(svc, 0, 100);
  tokens.push_back(take(svc, 1, s1, "a").token);
  run(svc, release{2, s1, "a"});
  tokens.push_back(take(svc, 3, s1, "a").token);
  // s1 expires at 101 while holding; s2 takes over.
  auto s2 = open(svc, 50, 10'000);
  run(svc, tick{200});
  tokens.push_back(take(svc, 201, s2, "a").token);
  run(svc, release{202, s2, "a"});
  lock_service restored;
  restored.restore(*svc.snapshot());
  tokens.push_back(take(restored, 203, s2, "a").token);
  for (std::size_t i = 1; i < tokens.size(); ++i)
    EXPECT_LT(tokens[i - 1], tokens[i]) << "at grant " << i;
}

TEST(LockServiceTest, CheckTokenIsValidOnlyForACurrentHolder) {
  lock_service svc;
  auto s1 = open(svc, 0);
  auto s2 = open(svc, 0);
  auto t1 = take(svc, 1, s1, "a").token;
  EXPECT_TRUE(token_valid(svc, "a", t1));
  EXPECT_FALSE(token_valid(svc, "b", t1));
  EXPECT_FALSE(token_valid(svc, "a", t1 + 1));
  take(svc, 2, s2, "a");
  auto r = run(svc, release{3, s1, "a"});
  ASSERT_EQ(r.grants.size(), 1u);
  EXPECT_EQ(ask(svc, check_token{"a", t1}).code, result_code::stale);
  EXPECT_TRUE(token_valid(svc, "a", r.grants[0].token));
}

TEST(LockServiceTest, LockDelayAfterExpiryHoldsTheLock) {
  lock_service svc;
  auto holder = open(svc, 0, 1'000);
  auto waiter = open(svc, 0, 100'000);
  auto other = open(svc, 0, 100'000);
  ASSERT_TRUE(take(svc, 1, holder, "a", lock_mode::exclusive, true, 5'000).ok());
  take(svc, 2, waiter, "a");
  // Expires at 1,001: the lock stays unavailable until 6,001.
  auto r = run(svc, tick{1'001});
  EXPECT_EQ(r.expired, std::vector<session_id>{holder});
  EXPECT_TRUE(r.grants.empty());
  EXPECT_EQ(ask(svc, lock_info{"a"}).deadline, 6'001u);
  EXPECT_EQ(take(svc, 3'000, other, "a", lock_mode::exclusive, false).code, result_code::busy);
  EXPECT_TRUE(run(svc, tick{6'000}).grants.empty());
  r = run(svc, tick{6'001});
  EXPECT_EQ(sessions_of(r.grants), std::vector<session_id>{waiter});
}

TEST(LockServiceTest, NoLockDelayAfterReleaseOrClose) {
  lock_service svc;
  auto s1 = open(svc, 0);
  auto s2 = open(svc, 0);
  auto s3 = open(svc, 0);
  ASSERT_TRUE(take(svc, 1, s1, "a", lock_mode::exclusive, true, 60'000).ok());
  take(svc, 2, s2, "a", lock_mode::exclusive, true, 60'000);
  EXPECT_EQ(sessions_of(run(svc, release{3, s1, "a"}).grants), std::vector<session_id>{s2});
  take(svc, 4, s3, "a");
  EXPECT_EQ(sessions_of(run(svc, close_session{5, s2}).grants), std::vector<session_id>{s3});
}

TEST(LockServiceTest, LockDelayAboveTheMaximumIsRefused) {
  lock_service svc;
  auto s = open(svc, 0);
  auto r = take(svc, 1, s, "a", lock_mode::exclusive, true, max_lock_delay_ms + 1);
  EXPECT_EQ(r.code, result_code::bad_request);
  EXPECT_TRUE(take(svc, 1, s, "a", lock_mode::exclusive, true, max_lock_delay_ms).ok());
}

TEST(LockServiceTest, ExpiryReleasesLocksAndDeletesEphemeralKeys) {
  lock_service svc;
  auto s = open(svc, 0, 100);
  auto keeper = open(svc, 0, 10'000);
  ASSERT_TRUE(take(svc, 1, s, "a").ok());
  take(svc, 2, s, "b", lock_mode::shared);
  take(svc, 3, keeper, "a");
  ASSERT_TRUE(run(svc, put_key{4, "eph", "x", s}).ok());
  ASSERT_TRUE(run(svc, put_key{5, "perm", "y", 0}).ok());
  EXPECT_TRUE(run(svc, tick{100}).expired.empty());  // deadline 100 is not < 100
  auto r = run(svc, tick{101});
  EXPECT_EQ(r.expired, std::vector<session_id>{s});
  EXPECT_EQ(sessions_of(r.grants), std::vector<session_id>{keeper});
  EXPECT_TRUE(ask(svc, lock_info{"b"}).holders.empty());
  EXPECT_EQ(ask(svc, get_key{"eph"}).code, result_code::not_found);
  EXPECT_TRUE(ask(svc, get_key{"perm"}).ok());
  auto events = ask(svc, events_since{"eph", 0}).events;
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].type, event_type::del);
  EXPECT_EQ(run(svc, keep_alive{102, s}).code, result_code::no_session);
}

TEST(LockServiceTest, KeepAlivePostponesExpiry) {
  lock_service svc;
  auto s = open(svc, 0, 100);
  auto r = run(svc, keep_alive{90, s});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.deadline, 190u);
  EXPECT_TRUE(run(svc, tick{150}).expired.empty());
  EXPECT_EQ(run(svc, tick{191}).expired, std::vector<session_id>{s});
}

// A batch keeps each session alive by the single keep-alive's rule: the same
// deadlines, the same refusals, each in its place, and nothing else changes.
TEST(LockServiceTest, KeepAliveManyAnswersEachSessionAsItsOwnKeepAliveWould) {
  lock_service one, many;
  for (auto* svc : {&one, &many}) {
    open(*svc, 0, 100);
    run(*svc, open_session{0, 300, {"alice", 77}});
    open(*svc, 0, 50);
    run(*svc, tick{60});  // the third session expires
  }
  std::vector<keep_alive> ks{keep_alive{90, 1},
                             keep_alive{90, 2, {"alice", 77}},
                             keep_alive{90, 2, {"eve", 77}},
                             keep_alive{90, 3},
                             keep_alive{90, 99},
                             keep_alive{90, 1}};
  auto r = run(many, keep_alive_many{90, ks});
  ASSERT_TRUE(r.ok()) << r.message;
  ASSERT_EQ(r.kept.size(), ks.size());
  for (std::size_t i = 0; i < ks.size(); ++i) {
    auto single = run(one, ks[i]);
    EXPECT_EQ(r.kept[i].session, ks[i].session) << i;
    EXPECT_EQ(r.kept[i].code, single.code) << i;
    EXPECT_EQ(r.kept[i].deadline, single.deadline) << i;
    EXPECT_EQ(r.kept[i].message, single.message) << i;
  }
  EXPECT_EQ(r.kept[0].deadline, 190u);
  EXPECT_EQ(r.kept[1].deadline, 390u);
  EXPECT_EQ(r.kept[2].code, result_code::permission_denied);
  EXPECT_EQ(r.kept[3].code, result_code::no_session);
  EXPECT_EQ(r.kept[4].code, result_code::no_session);
  EXPECT_EQ(*many.snapshot(), *one.snapshot());
  // Kept alive: nobody expires at 150; unkept, session 1 would have.
  EXPECT_TRUE(run(many, tick{150}).expired.empty());
}

TEST(LockServiceTest, KeepAliveManyOfNoneOrTooManySessionsIsRefusedAndChangesNothing) {
  lock_service svc;
  auto s = open(svc, 0, 100);
  auto before = *svc.snapshot();
  EXPECT_EQ(run(svc, keep_alive_many{50, {}}).code, result_code::bad_request);
  keep_alive_many big{50, std::vector<keep_alive>(max_keep_alive_batch + 1, keep_alive{50, s})};
  auto r = run(svc, big);
  EXPECT_EQ(r.code, result_code::bad_request);
  EXPECT_NE(r.message.find("1025 sessions"), std::string::npos) << r.message;
  EXPECT_EQ(*svc.snapshot(), before);
}

TEST(LockServiceTest, LeaderChangeGraceSavesSessionWhoseDeadlinePassedDuringFailover) {
  lock_service svc;
  auto s = open(svc, 0, 100);
  ASSERT_TRUE(take(svc, 50, s, "a").ok());
  // No leader from 60 to 500: nothing is applied, the deadline 100 passes.
  auto r = run(svc, leader_change{500, 200});
  EXPECT_TRUE(r.expired.empty());
  EXPECT_EQ(ask(svc, lock_info{"a"}).holders.size(), 1u);
  EXPECT_EQ(svc.sessions().find(s)->deadline, 700u);
  EXPECT_TRUE(run(svc, keep_alive{650, s}).ok());
}

TEST(LockServiceTest, LeaderChangeGraceDoesNotReviveAnExpiredSession) {
  lock_service svc;
  auto s = open(svc, 0, 100);
  ASSERT_TRUE(take(svc, 50, s, "a").ok());
  EXPECT_EQ(run(svc, tick{101}).expired, std::vector<session_id>{s});
  auto r = run(svc, leader_change{500, 200});
  EXPECT_TRUE(r.expired.empty());
  EXPECT_EQ(svc.sessions().find(s), nullptr);
  EXPECT_EQ(run(svc, keep_alive{501, s}).code, result_code::no_session);
  EXPECT_TRUE(ask(svc, lock_info{"a"}).holders.empty());
}

TEST(LockServiceTest, LogTimeNeverRunsBackwards) {
  lock_service svc;
  auto s = open(svc, 0, 100);
  run(svc, tick{1'000});
  // A leader whose clock is behind: the session does not come back and a new
  // one's deadline counts from the log's time, not from the stale clock.
  auto late = run(svc, open_session{10, 100});
  EXPECT_EQ(late.deadline, 1'100u);
  EXPECT_EQ(run(svc, keep_alive{20, s}).code, result_code::no_session);
  EXPECT_EQ(svc.now(), 1'000u);
}

TEST(LockServiceTest, EventsSinceIsGapFreeInCommitOrder) {
  lock_service svc;
  auto s = open(svc, 0);
  run(svc, put_key{1, "w/a", "1", 0});
  run(svc, put_key{2, "x/b", "2", 0});
  run(svc, put_key{3, "w/c", "3", s});
  run(svc, delete_key{4, "w/a"});
  run(svc, close_session{5, s});
  auto all = ask(svc, events_since{"", 0});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all.revision, 5u);
  ASSERT_EQ(all.events.size(), 5u);
  for (std::size_t i = 0; i < all.events.size(); ++i)
    EXPECT_EQ(all.events[i].revision, i + 1);
  auto watched = ask(svc, events_since{"w/", 1});
  ASSERT_EQ(watched.events.size(), 3u);
  EXPECT_EQ(watched.events[0], (event{3, event_type::put, "w/c", "3"}));
  EXPECT_EQ(watched.events[1], (event{4, event_type::del, "w/a", ""}));
  EXPECT_EQ(watched.events[2], (event{5, event_type::del, "w/c", ""}));
  EXPECT_TRUE(ask(svc, events_since{"w/", 5}).events.empty());
}

TEST(LockServiceTest, EventsSinceReportsACompactedHistory) {
  lock_service svc{3};
  for (int i = 1; i <= 5; ++i)
    run(svc, put_key{static_cast<time_ms>(i), "k", std::to_string(i), 0});
  // Revisions 3..5 are kept: after 2 is complete, after 1 is not.
  auto r = ask(svc, events_since{"k", 2});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.events.size(), 3u);
  EXPECT_EQ(r.events[0].revision, 3u);
  EXPECT_EQ(ask(svc, events_since{"k", 1}).code, result_code::compacted);
  EXPECT_EQ(ask(svc, events_since{"other", 0}).code, result_code::compacted);
}

TEST(LockServiceTest, InvalidCommandsAreRefusedAndChangeNothing) {
  lock_service svc;
  auto s = open(svc, 0);
  auto before = *svc.snapshot();
  EXPECT_EQ(run(svc, open_session{5, 0}).code, result_code::bad_request);
  EXPECT_EQ(run(svc, open_session{5, max_session_ttl_ms + 1}).code, result_code::bad_request);
  EXPECT_EQ(take(svc, 5, s, "").code, result_code::bad_request);
  EXPECT_EQ(run(svc, release{5, s, ""}).code, result_code::bad_request);
  EXPECT_EQ(run(svc, put_key{5, "", "v", 0}).code, result_code::bad_request);
  EXPECT_EQ(run(svc, delete_key{5, ""}).code, result_code::bad_request);
  EXPECT_EQ(*svc.snapshot(), before);
}

TEST(LockServiceTest, UnknownSessionsAndUnheldLocksAreRefused) {
  lock_service svc;
  auto s = open(svc, 0);
  EXPECT_EQ(take(svc, 1, 99, "a").code, result_code::no_session);
  EXPECT_EQ(run(svc, put_key{1, "k", "v", 99}).code, result_code::no_session);
  EXPECT_EQ(run(svc, release{1, s, "a"}).code, result_code::not_held);
  auto t = take(svc, 1, s, "a").token;
  auto again = take(svc, 2, s, "a");
  EXPECT_EQ(again.code, result_code::already_held);
  EXPECT_EQ(again.token, t);
  EXPECT_EQ(run(svc, delete_key{3, "k"}).code, result_code::not_found);
}

TEST(LockServiceTest, SnapshotRoundTripGivesIdenticalAnswers) {
  lock_service svc{8};
  auto s1 = open(svc, 0, 1'000);
  auto s2 = open(svc, 0, 5'000);
  auto s3 = open(svc, 0, 5'000);
  take(svc, 1, s1, "a", lock_mode::exclusive, true, 2'000);
  take(svc, 2, s2, "a", lock_mode::shared);
  take(svc, 3, s3, "a", lock_mode::shared);
  take(svc, 4, s2, "b", lock_mode::shared);
  run(svc, put_key{5, "e/1", "x", s1});
  for (int i = 0; i < 10; ++i)
    run(svc, put_key{6, "p/" + std::to_string(i), "v", 0});
  run(svc, tick{1'500});  // s1 expires: "a" is delayed until 3,500
  lock_service copy;
  copy.restore(*svc.snapshot());
  EXPECT_EQ(*copy.snapshot(), *svc.snapshot());
  EXPECT_EQ(copy.now(), svc.now());
  std::vector<query> queries{lock_info{"a"},      lock_info{"b"},       check_token{"b", 4},
                             events_since{"", 0}, events_since{"", 10}, events_since{"p/", 12},
                             get_key{"p/3"},      get_key{"e/1"}};
  for (auto& q : queries)
    EXPECT_EQ(copy.query(encode(q)), svc.query(encode(q)));
  std::vector<command> commands{tick{3'499},
                                tick{3'500},
                                release{3'501, s3, "a"},
                                open_session{3'502, 10},
                                acquire{3'503, s3, "b", lock_mode::exclusive, true, 0},
                                tick{9'000}};
  for (auto& c : commands)
    EXPECT_EQ(copy.apply(encode(c)), svc.apply(encode(c)));
  EXPECT_EQ(*copy.snapshot(), *svc.snapshot());
}

TEST(LockServiceTest, DamagedSnapshotIsRejectedAndChangesNothing) {
  lock_service svc;
  auto s = open(svc, 0);
  take(svc, 1, s, "a");
  run(svc, put_key{2, "k", "v", s});
  auto good = *svc.snapshot();
  lock_service other;
  auto other_s = open(other, 0);
  auto before = *other.snapshot();
  for (std::size_t cut = 0; cut < good.size(); ++cut)
    EXPECT_THROW(other.restore(good.substr(0, cut)), std::runtime_error) << "cut at " << cut;
  EXPECT_THROW(other.restore(good + "x"), std::runtime_error);
  auto bad_format = good;
  bad_format[0] = 9;
  EXPECT_THROW(other.restore(bad_format), std::runtime_error);
  EXPECT_EQ(*other.snapshot(), before);
  EXPECT_TRUE(run(other, keep_alive{1, other_s}).ok());
}

}  // namespace
