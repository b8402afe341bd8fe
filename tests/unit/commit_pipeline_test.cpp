// The commit pipeline (actors/replica/commit_pipeline) on its own: a storage
// and a sink that record every call in one journal, so each test checks what
// happened and in which order.
#include "actors/replica/commit_pipeline.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace ballot::actors {
namespace {

using journal = std::vector<std::string>;

/// Records appends and syncs; a sync can be made to fail.
class journal_storage final : public storage {
 public:
  explicit journal_storage(journal& j) : j_(j) {}
  paxos::durable_state load() override { return {}; }
  void append(const paxos::ready& rd) override {
    j_.push_back("append " + describe(rd));
    rd.persist_to(state);
  }
  void append_owned(paxos::ready& rd) override {
    j_.push_back("append_owned " + describe(rd));
    rd.persist_to(state);
  }
  void sync() override {
    if (full_syncs > 0) {
      --full_syncs;
      j_.push_back("sync: full");
      throw storage_full("no space left on device");
    }
    if (broken) {
      j_.push_back("sync: error");
      throw storage_error("input/output error");
    }
    j_.push_back("sync");
  }

  int full_syncs = 0;
  bool broken = false;
  paxos::durable_state state;

 private:
  static std::string describe(const paxos::ready& rd) {
    std::string s;
    if (rd.promised)
      s += "promise ";
    for (auto& [slot, vote] : rd.accepted)
      s += "vote" + std::to_string(slot) + " ";
    for (auto& c : rd.chosen)
      s += "chosen" + std::to_string(c.slot) + " ";
    if (rd.compacted)
      s += "snapshot ";
    if (!s.empty())
      s.pop_back();
    return s;
  }

  journal& j_;
};

/// Records the outputs, in order.
class journal_sink final : public commit_sink {
 public:
  explicit journal_sink(journal& j) : j_(j) {}
  void send(paxos::envelope& env) override {
    auto kind = std::holds_alternative<paxos::accept>(env.msg)          ? "accept"
                : std::holds_alternative<paxos::accepted>(env.msg)      ? "accepted"
                : std::holds_alternative<paxos::promise>(env.msg)       ? "promise"
                : std::holds_alternative<paxos::prepare>(env.msg)       ? "prepare"
                : std::holds_alternative<paxos::heartbeat>(env.msg)     ? "heartbeat"
                : std::holds_alternative<paxos::heartbeat_ack>(env.msg) ? "ack"
                                                                        : "other";
    j_.push_back(std::string("send ") + kind + " to " + std::to_string(env.to));
  }
  void reply(paxos::client_reply& r) override {
    j_.push_back("reply " + std::to_string(r.client) + "." + std::to_string(r.seq) + " " +
                 r.result);
  }
  std::vector<read_answer> serve(const std::vector<paxos::read_result>& reads) override {
    std::vector<read_answer> out;
    for (auto& r : reads) {
      j_.push_back("serve read " + std::to_string(r.id));
      if (r.id != forgotten_read)
        out.push_back(read_answer{r.id, r.status, "x=" + std::to_string(r.id), r.leader_hint});
    }
    return out;
  }
  void answer(read_answer& read) override {
    j_.push_back("read " + std::to_string(read.id) + " " + read.result);
  }
  void schedule_sync(sync_when when) override {
    j_.push_back(when == sync_when::after_queued_inputs ? "schedule sync" : "schedule retry");
  }
  void disk_full(const std::string& why) override { j_.push_back("disk full: " + why); }
  void disk_space_again() override { j_.push_back("disk space again"); }

  /// A read whose requester is gone: `serve` leaves it out.
  std::uint64_t forgotten_read = 0;

 private:
  journal& j_;
};

paxos::envelope message(paxos::node_id to, paxos::message msg) {
  return paxos::envelope{1, to, std::move(msg)};
}

paxos::accepted_value vote_at(std::uint64_t round) {
  paxos::accepted_value v;
  v.ballot = paxos::ballot_number{round, 1};
  return v;
}

/// What a leader's core hands over after proposing slot `slot`: its own vote
/// to write, phase 2a to the others, and its vote back to itself.
paxos::ready proposal(paxos::slot_index slot) {
  paxos::ready rd;
  rd.accepted.emplace_back(slot, vote_at(1));
  rd.messages.push_back(message(2, paxos::accept{}));
  rd.messages.push_back(message(1, paxos::accepted{}));
  rd.messages.push_back(message(3, paxos::accept{}));
  return rd;
}

paxos::client_reply answer_to(std::uint64_t client, std::uint64_t seq, std::string result) {
  return paxos::client_reply{client, seq, paxos::reply_status::ok, std::move(result), 1};
}

struct CommitPipeline : ::testing::Test {
  journal j;
  journal_storage disk{j};
  journal_sink sink{j};
  commit_pipeline pipe{disk, sink};

  journal take() {
    auto out = std::move(j);
    j.clear();
    return out;
  }
};

TEST_F(CommitPipeline, SendsPhase2aBeforeTheSyncAndTheOwnVoteAfterIt) {
  pipe.commit(proposal(7));
  EXPECT_EQ(take(),
            (journal{"send accept to 2", "send accept to 3", "append vote7", "schedule sync"}));
  EXPECT_TRUE(pipe.sync_scheduled());
  EXPECT_EQ(pipe.held(), 1u);
  pipe.sync();
  EXPECT_EQ(take(), (journal{"sync", "send accepted to 1"}));
  EXPECT_FALSE(pipe.sync_scheduled());
  EXPECT_EQ(pipe.held(), 0u);
}

TEST_F(CommitPipeline, ServesReadsOnlyOncePhase2aLeft) {
  auto rd = proposal(2);
  rd.reads.push_back(paxos::read_result{8, paxos::reply_status::ok, 1});
  pipe.commit(std::move(rd));
  EXPECT_EQ(take(), (journal{"send accept to 2", "send accept to 3", "serve read 8", "append vote2",
                             "schedule sync"}));
  pipe.sync();
  EXPECT_EQ(take(), (journal{"sync", "send accepted to 1", "read 8 x=8"}));
}

TEST_F(CommitPipeline, HoldsRepliesReadsAndPromisesUntilTheSync) {
  paxos::ready rd;
  rd.promised = paxos::ballot_number{3, 2};
  rd.messages.push_back(message(2, paxos::promise{}));
  rd.replies.push_back(answer_to(9, 1, "done"));
  rd.reads.push_back(paxos::read_result{4, paxos::reply_status::ok, 1});
  rd.reads.push_back(paxos::read_result{5, paxos::reply_status::ok, 1});
  sink.forgotten_read = 5;
  pipe.commit(std::move(rd));
  // Served now (from the state of this moment), delivered after the sync.
  EXPECT_EQ(take(), (journal{"serve read 4", "serve read 5", "append promise", "schedule sync"}));
  pipe.sync();
  EXPECT_EQ(take(), (journal{"sync", "send promise to 2", "reply 9.1 done", "read 4 x=4"}));
  EXPECT_EQ(disk.state.promised, (paxos::ballot_number{3, 2}));
}

// A disk slower than an election timeout must not silence a leader or its
// followers: heartbeats and acks leave at once, even behind held outputs.
// A prepare waits for the candidate's own promise to be durable (so that a
// restart never runs one ballot twice), and a promise for the voter's.
TEST_F(CommitPipeline, HeartbeatsAndAcksLeaveBeforeTheSyncPreparesAfterIt) {
  paxos::ready candidate;
  candidate.promised = paxos::ballot_number{4, 1};
  candidate.messages.push_back(message(2, paxos::prepare{}));
  candidate.messages.push_back(message(3, paxos::heartbeat{}));
  pipe.commit(std::move(candidate));
  EXPECT_EQ(take(), (journal{"send heartbeat to 3", "append promise", "schedule sync"}));
  paxos::ready follower;
  follower.messages.push_back(message(2, paxos::heartbeat_ack{}));
  follower.messages.push_back(message(2, paxos::promise{}));
  pipe.commit(std::move(follower));
  EXPECT_EQ(take(), (journal{"send ack to 2"}));
  EXPECT_EQ(pipe.held(), 2u);
  pipe.sync();
  EXPECT_EQ(take(), (journal{"sync", "send prepare to 2", "send promise to 2"}));
}

TEST_F(CommitPipeline, InputsQueuedBeforeTheSyncShareItAndLeaveInOrder) {
  for (paxos::slot_index slot = 1; slot <= 3; ++slot) {
    auto rd = proposal(slot);
    rd.replies.push_back(answer_to(5, slot, "r" + std::to_string(slot)));
    pipe.commit(std::move(rd));
  }
  auto before = take();
  EXPECT_EQ(std::count(before.begin(), before.end(), "schedule sync"), 1);
  EXPECT_EQ(std::count(before.begin(), before.end(), "send accept to 2"), 3);
  EXPECT_EQ(pipe.held(), 3u);
  pipe.sync();
  EXPECT_EQ(take(), (journal{"sync", "send accepted to 1", "reply 5.1 r1", "send accepted to 1",
                             "reply 5.2 r2", "send accepted to 1", "reply 5.3 r3"}));
  // The next input after the sync asks for a sync of its own.
  pipe.commit(proposal(4));
  EXPECT_EQ(take().back(), "schedule sync");
}

TEST_F(CommitPipeline, NeedsNoSyncWhenNothingWaitsForTheDisk) {
  // Chosen slots learned from others: written, but nobody waits for them.
  paxos::ready rd;
  rd.chosen.push_back(paxos::chosen_entry{3, {}});
  rd.messages.push_back(message(2, paxos::accepted{}));
  rd.replies.push_back(answer_to(9, 2, "ok"));
  pipe.commit(std::move(rd));
  EXPECT_EQ(take(), (journal{"append chosen3", "send accepted to 2", "reply 9.2 ok"}));
  EXPECT_FALSE(pipe.sync_scheduled());
  // Not even a write: straight out.
  paxos::ready reply_only;
  reply_only.replies.push_back(answer_to(9, 3, "ok"));
  pipe.commit(std::move(reply_only));
  EXPECT_EQ(take(), (journal{"reply 9.3 ok"}));
}

TEST_F(CommitPipeline, AnOutputWithoutWritesWaitsBehindEarlierHeldOnes) {
  auto first = proposal(1);
  first.replies.push_back(answer_to(5, 1, "first"));
  pipe.commit(std::move(first));
  take();
  paxos::ready second;
  second.replies.push_back(answer_to(5, 2, "second"));
  pipe.commit(std::move(second));
  EXPECT_TRUE(take().empty()) << "overtook the held answer it follows";
  EXPECT_EQ(pipe.held(), 2u);
  pipe.sync();
  EXPECT_EQ(take(), (journal{"sync", "send accepted to 1", "reply 5.1 first", "reply 5.2 second"}));
}

TEST_F(CommitPipeline, AFullDiskHoldsEverythingAndRetriesUntilThereIsSpace) {
  disk.full_syncs = 2;
  auto rd = proposal(1);
  rd.replies.push_back(answer_to(5, 1, "late"));
  pipe.commit(std::move(rd));
  take();
  pipe.sync();
  EXPECT_EQ(take(),
            (journal{"sync: full", "disk full: no space left on device", "schedule retry"}));
  EXPECT_TRUE(pipe.disk_is_full());
  EXPECT_TRUE(pipe.sync_scheduled());
  // Inputs meanwhile wait for the retry; it is scheduled already.
  auto more = proposal(2);
  pipe.commit(std::move(more));
  EXPECT_EQ(take(), (journal{"send accept to 2", "send accept to 3", "append vote2"}));
  // Still full: said once, retried again.
  pipe.sync();
  EXPECT_EQ(take(), (journal{"sync: full", "schedule retry"}));
  pipe.sync();
  EXPECT_EQ(take(), (journal{"sync", "disk space again", "send accepted to 1", "reply 5.1 late",
                             "send accepted to 1"}));
  EXPECT_FALSE(pipe.disk_is_full());
  EXPECT_FALSE(pipe.sync_scheduled());
}

// A leader whose disk is full cannot commit: its heartbeats (and a
// follower's acks) wait with everything else, so the followers elect a
// leader whose disk takes writes. Sent early, they kept the full-disk leader
// in office for as long as its disk stayed full (found by review).
TEST_F(CommitPipeline, AFullDiskHoldsHeartbeatsAndAcksUntilThereIsSpace) {
  disk.full_syncs = 1;
  pipe.commit(proposal(1));
  take();
  pipe.sync();
  ASSERT_TRUE(pipe.disk_is_full());
  take();
  paxos::ready beat;
  beat.messages.push_back(message(2, paxos::heartbeat{}));
  beat.messages.push_back(message(3, paxos::heartbeat_ack{}));
  beat.messages.push_back(message(3, paxos::accept{}));
  pipe.commit(std::move(beat));
  EXPECT_EQ(take(), (journal{"send accept to 3"}));
  pipe.sync();
  EXPECT_EQ(take(), (journal{"sync", "disk space again", "send accepted to 1",
                             "send heartbeat to 2", "send ack to 3"}));
  // With space again, they leave at once.
  paxos::ready next;
  next.messages.push_back(message(2, paxos::heartbeat{}));
  pipe.commit(std::move(next));
  EXPECT_EQ(take(), (journal{"send heartbeat to 2"}));
}

TEST_F(CommitPipeline, OtherStorageErrorsReachTheDriverAndReleaseNothing) {
  disk.broken = true;
  pipe.commit(proposal(1));
  take();
  EXPECT_THROW(pipe.sync(), storage_error);
  EXPECT_EQ(take(), (journal{"sync: error"}));
  EXPECT_FALSE(pipe.disk_is_full());
}

TEST_F(CommitPipeline, GivesACompactionAwayAndIgnoresEmptyInputs) {
  paxos::ready rd;
  rd.compacted = paxos::durable_state{};
  pipe.commit(std::move(rd));
  EXPECT_EQ(take(), (journal{"append_owned snapshot"}));
  pipe.commit(paxos::ready{});
  EXPECT_TRUE(take().empty());
  EXPECT_FALSE(pipe.sync_scheduled());
}

}  // namespace
}  // namespace ballot::actors
