// Three replica actors on CAF's deterministic test_coordinator: nothing runs
// unless the test runs it, and time moves only when the test advances it, so
// every run elects the same leader and commits the same log.

#include "actors/replica/replica_actor.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "caf/all.hpp"

#include "actors/paxos/membership.hpp"
#include "actors/replica/kv_state_machine.hpp"
#include "actors/replica/memory_storage.hpp"
#include "actors/replica/type_ids.hpp"

namespace {

using namespace ballot;
using actors::log_atom_v;
using actors::propose_atom_v;
using actors::read_atom_v;
using actors::status_atom_v;
using paxos::reply_status;

constexpr auto tick_interval = std::chrono::milliseconds(10);

/// The answer to one request, filled in when the scheduler runs the reply.
template <class T>
struct answer {
  std::optional<T> value;
  std::optional<std::string> error;
};

/// A log as comparable values (the core's chosen_entry has no operator==).
using plain_log = std::vector<std::pair<paxos::slot_index, paxos::value>>;

class ReplicaActorTest : public ::testing::Test {
 protected:
  static caf::actor_system_config& configure(caf::actor_system_config& cfg) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.file-verbosity", caf::atom("quiet"));
    cfg.add_message_types<caf::id_block::ballot>();
    return cfg;
  }

  /// `tweak` adjusts every replica's options (a variant of the fixture).
  explicit ReplicaActorTest(std::function<void(actors::replica_options&)> tweak = {})
      : tweak_(std::move(tweak)),
        sys(configure(cfg)),
        sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
    for (paxos::node_id id : {1, 2, 3}) {
      disks[id] = std::make_shared<paxos::durable_state>();
      spawn(id);
    }
    actors::introduce(group);
    sched.run();
  }

  /// (Re)starts replica `id` on its in-memory disk.
  void spawn(paxos::node_id id) {
    actors::replica_options opts;
    opts.paxos.id = id;
    opts.paxos.members = {1, 2, 3};
    opts.tick_interval = tick_interval;
    opts.on_event = [this](const std::string& line) { events.push_back(line); };
    opts.make_state_machine = [] { return std::make_unique<actors::kv_state_machine>(); };
    opts.make_storage = [disk = disks.at(id)] {
      return std::make_unique<actors::memory_storage>(disk);
    };
    if (tweak_)
      tweak_(opts);
    group[id] = actors::spawn_replica(sys, opts);
  }

  ~ReplicaActorTest() override {
    // The replicas tick forever and hold handles to each other: stop them, or
    // the actor system would wait for them when it shuts down.
    for (auto& [id, replica] : group)
      caf::anon_send_exit(replica, caf::exit_reason::user_shutdown);
    sched.run();
  }

  /// Sends a request from a one-shot actor. Unlike a blocking scoped_actor,
  /// this cannot hang the test: if no reply comes, the answer stays empty.
  template <class T, class... Ts>
  std::shared_ptr<answer<T>> ask(const caf::actor& dest, Ts... xs) {
    auto out = std::make_shared<answer<T>>();
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(dest, caf::infinite, xs...)
        .then([=](T& x) { out->value = std::move(x); },
              [=](caf::error& err) { out->error = self->system().render(err); });
    });
    return out;
  }

  /// A request whose reply needs no time to pass.
  template <class T, class... Ts>
  T query(const caf::actor& dest, Ts... xs) {
    auto res = ask<T>(dest, xs...);
    sched.run();
    EXPECT_TRUE(res->value.has_value()) << "no reply" << (res->error ? ": " + *res->error : "");
    return res->value.value_or(T{});
  }

  void advance(int ticks = 1) {
    for (int i = 0; i < ticks; ++i) {
      sched.advance_time(tick_interval);
      sched.run();
    }
  }

  actors::replica_status status(paxos::node_id id) {
    return query<actors::replica_status>(group.at(id), status_atom_v);
  }

  plain_log log_of(paxos::node_id id) {
    plain_log result;
    for (auto& e : query<std::vector<paxos::chosen_entry>>(group.at(id), log_atom_v))
      result.emplace_back(e.slot, e.val);
    return result;
  }

  /// The leader every live replica agrees on, if it is one of them.
  std::optional<paxos::node_id> agreed_leader(const std::vector<paxos::node_id>& live) {
    std::optional<paxos::node_id> leader;
    for (auto id : live) {
      auto st = status(id);
      if (!st.leader_hint || (leader && *leader != *st.leader_hint))
        return std::nullopt;
      if (st.is_leader != (*st.leader_hint == id))
        return std::nullopt;
      leader = st.leader_hint;
    }
    // Followers keep naming a dead leader until they time out.
    if (leader && std::find(live.begin(), live.end(), *leader) == live.end())
      return std::nullopt;
    return leader;
  }

  /// Advances time until the live replicas agree on a leader.
  paxos::node_id elect(const std::vector<paxos::node_id>& live = {1, 2, 3}) {
    for (int i = 0; i < 500; ++i) {
      advance();
      if (auto leader = agreed_leader(live))
        return *leader;
    }
    ADD_FAILURE() << "no leader after 500 ticks";
    return 0;
  }

  std::shared_ptr<answer<paxos::client_reply>> propose(paxos::node_id at, paxos::command cmd) {
    return ask<paxos::client_reply>(group.at(at), propose_atom_v, std::move(cmd));
  }

  std::function<void(actors::replica_options&)> tweak_;
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  actors::peer_map group;
  /// What each replica persisted; outlives the actors, like a disk.
  std::map<paxos::node_id, std::shared_ptr<paxos::durable_state>> disks;
  /// The replicas' `on_event` lines.
  std::vector<std::string> events;

  std::size_t events_with(const std::string& text) const {
    return static_cast<std::size_t>(std::count_if(
      events.begin(), events.end(), [&](auto& e) { return e.find(text) != std::string::npos; }));
  }
};

using ForgedInputActorTest = ReplicaActorTest;

/// Each "grow N" adds 1000 bytes of state and answers its running count; the
/// state machine admits at most one "capped" command ever.
class growing_machine final : public paxos::state_machine {
 public:
  std::string apply(const std::string& payload) override {
    if (payload.rfind("capped", 0) == 0)
      return "capped#" + std::to_string(++capped_);
    return "grown#" + std::to_string(++grown_);
  }
  std::uint64_t state_bytes() const override { return grown_ * 1000; }
  bool grows(const std::string& payload) const override { return payload.rfind("grow", 0) == 0; }
  std::optional<std::string> admit(const std::string& payload) const override {
    if (payload.rfind("capped", 0) == 0 && capped_ >= 1)
      return std::string{"refused: the cap of 1"};
    return std::nullopt;
  }

 private:
  std::uint64_t grown_ = 0;
  std::uint64_t capped_ = 0;
};

/// Replicas with a 1500-byte quota over a growing_machine.
class ReplicaAdmissionTest : public ReplicaActorTest {
 protected:
  ReplicaAdmissionTest()
      : ReplicaActorTest([](actors::replica_options& o) {
          o.quota_bytes = 1500;
          o.make_state_machine = [] { return std::make_unique<growing_machine>(); };
        }) {}
};

// A client whose answer was lost retries with the same request id after the
// state went over the quota (or a cap filled): its write applied, so it must
// hear the recorded result, never "quota exceeded" or a cap's refusal, which
// would tell it that a write that happened did not.
TEST_F(ReplicaAdmissionTest, ARetryOfAnAppliedCommandGetsItsResultNotAQuotaOrCapRefusal) {
  auto leader = elect();
  ASSERT_NE(leader, 0u);
  auto first = propose(leader, {7, 1, "grow a"});
  sched.run();
  auto second = propose(leader, {7, 2, "grow b"});  // 1000 < 1500: admitted
  sched.run();
  ASSERT_TRUE(first->value && second->value);
  EXPECT_EQ(second->value->result, "grown#2");
  // Now 2000 bytes: a new grow is refused, the retry of #2 is answered.
  auto fresh = propose(leader, {7, 3, "grow c"});
  auto retry = propose(leader, {7, 2, "grow b"});
  sched.run();
  ASSERT_TRUE(fresh->value && retry->value);
  EXPECT_EQ(fresh->value->status, reply_status::quota_exceeded);
  EXPECT_EQ(retry->value->status, reply_status::ok);
  EXPECT_EQ(retry->value->result, "grown#2");
  // The same for a cap: the first capped command applies, a second is
  // refused by admit, a retry of the first gets its result.
  auto capped = propose(leader, {8, 1, "capped x"});
  sched.run();
  ASSERT_TRUE(capped->value);
  EXPECT_EQ(capped->value->result, "capped#1");
  auto refused = propose(leader, {8, 2, "capped y"});
  auto capped_retry = propose(leader, {8, 1, "capped x"});
  sched.run();
  ASSERT_TRUE(refused->value && capped_retry->value);
  EXPECT_EQ(refused->value->result, "refused: the cap of 1");
  EXPECT_EQ(capped_retry->value->result, "capped#1");
  // A reused id with another command is still refused as such, not let
  // through by being "known".
  auto reused = propose(leader, {7, 2, "grow other"});
  sched.run();
  ASSERT_TRUE(reused->value);
  EXPECT_EQ(reused->value->status, reply_status::id_reused);
}

// A maximal prepare from a member reaches two replica actors many times:
// each drops every copy, says so in its log at the 1st and the 10th (not at
// every one), and the cluster elects a leader and commits afterwards.
TEST_F(ForgedInputActorTest, MaximalPrepareIsDroppedAndLoggedSparingly) {
  auto leader = elect();
  ASSERT_NE(leader, 0u);
  paxos::node_id forger = leader % 3 + 1;
  for (int i = 0; i < 12; ++i)
    for (paxos::node_id to : {1, 2, 3})
      if (to != forger)
        caf::anon_send(group.at(to), forger,
                       paxos::prepare{{UINT64_MAX, forger}, paxos::slot_index{1}});
  sched.run();
  EXPECT_EQ(events_with("dropped 1 message(s) from the network as insane (round_too_high; "
                        "last from member " +
                        std::to_string(forger)),
            2u);
  EXPECT_EQ(events_with("dropped 10 message(s)"), 2u);
  EXPECT_EQ(events_with("as insane"), 4u);
  caf::anon_send_exit(group.at(leader), caf::exit_reason::kill);
  sched.run();
  std::vector<paxos::node_id> live;
  for (paxos::node_id id : {1, 2, 3})
    if (id != leader)
      live.push_back(id);
  auto next = elect(live);
  ASSERT_NE(next, 0u);
  auto reply = propose(next, {99, 1, "add counter 1"});
  advance(10);
  ASSERT_TRUE(reply->value.has_value());
  EXPECT_EQ(reply->value->status, reply_status::ok);
}

TEST_F(ReplicaActorTest, ElectsOneLeaderByAdvancingTime) {
  // No time has passed: nobody has timed out, so nobody leads.
  for (paxos::node_id id : {1, 2, 3}) {
    auto st = status(id);
    EXPECT_EQ(st.id, id);
    EXPECT_FALSE(st.is_leader);
    EXPECT_FALSE(st.leader_hint.has_value());
  }
  auto leader = elect();
  ASSERT_NE(leader, 0u);
  int leaders = 0;
  for (paxos::node_id id : {1, 2, 3}) {
    auto st = status(id);
    leaders += st.is_leader ? 1 : 0;
    EXPECT_EQ(st.leader_hint, leader);
  }
  EXPECT_EQ(leaders, 1);
  // A stable leader keeps its followers from starting elections.
  advance(100);
  EXPECT_EQ(agreed_leader({1, 2, 3}), leader);
}

TEST_F(ReplicaActorTest, FollowersRedirectAndAllReplicasCommitTheSameLog) {
  auto leader = elect();
  ASSERT_NE(leader, 0u);
  std::vector<paxos::node_id> followers;
  for (paxos::node_id id : {1, 2, 3})
    if (id != leader)
      followers.push_back(id);

  // A follower answers at once, with the leader to retry at.
  for (auto id : followers) {
    auto reply = propose(id, {99, 1, "add counter 100"});
    sched.run();
    ASSERT_TRUE(reply->value);
    EXPECT_EQ(reply->value->status, reply_status::not_leader);
    EXPECT_EQ(reply->value->leader_hint, leader);
  }

  // Six clients, all in flight at once.
  std::vector<paxos::command> cmds;
  for (std::uint64_t client = 1; client <= 6; ++client)
    cmds.push_back({client, 1, "add counter 1"});
  std::vector<std::shared_ptr<answer<paxos::client_reply>>> replies;
  for (auto& cmd : cmds)
    replies.push_back(propose(leader, cmd));
  sched.run();
  for (auto& reply : replies) {
    ASSERT_TRUE(reply->value) << (reply->error ? *reply->error : "no reply");
    EXPECT_EQ(reply->value->status, reply_status::ok);
  }

  // Followers learn the commit index from the next heartbeat.
  advance(5);
  auto log = log_of(leader);
  for (auto id : followers)
    EXPECT_EQ(log_of(id), log) << "replica " << id;
  for (paxos::node_id id : {1, 2, 3})
    EXPECT_EQ(status(id).commit_index, log.size());

  // The rejected proposals never reached the log, and the log order is the
  // order in which the counter saw the commands: the k-th is answered "k".
  std::vector<paxos::command> applied;
  for (auto& [slot, val] : log)
    applied.insert(applied.end(), val.commands.begin(), val.commands.end());
  ASSERT_EQ(applied.size(), cmds.size());
  for (std::size_t k = 0; k < applied.size(); ++k) {
    auto it = std::find(cmds.begin(), cmds.end(), applied[k]);
    ASSERT_NE(it, cmds.end());
    EXPECT_EQ(replies[it - cmds.begin()]->value->result, std::to_string(k + 1));
  }
}

TEST_F(ReplicaActorTest, RetriedCommandAppliesOnce) {
  auto leader = elect();
  ASSERT_NE(leader, 0u);
  paxos::command cmd{7, 1, "add n 5"};
  // A retry while the first attempt is in flight, and one after it applied.
  auto first = propose(leader, cmd);
  auto concurrent_retry = propose(leader, cmd);
  sched.run();
  auto late_retry = propose(leader, cmd);
  sched.run();
  for (auto& reply : {first, concurrent_retry, late_retry}) {
    ASSERT_TRUE(reply->value);
    EXPECT_EQ(reply->value->status, reply_status::ok);
    EXPECT_EQ(reply->value->result, "5");
  }
  auto read = propose(leader, {7, 2, "get n"});
  sched.run();
  ASSERT_TRUE(read->value);
  EXPECT_EQ(read->value->result, "5");

  advance(5);
  for (paxos::node_id id : {1, 2, 3}) {
    int copies = 0;
    for (auto& [slot, val] : log_of(id))
      copies += static_cast<int>(std::count(val.commands.begin(), val.commands.end(), cmd));
    EXPECT_EQ(copies, 1) << "replica " << id;
  }
}

// A gateway's writes of one moment go to the replica as one message (the
// bridge's batch): each command is taken as a propose of its own would be,
// and the answers come back in the batch's order.
TEST_F(ReplicaActorTest, ABatchOfCommandsIsAnsweredInOrderEachAsAloneWouldBe) {
  auto leader = elect();
  ASSERT_NE(leader, 0u);
  auto follower = leader == 1 ? paxos::node_id{2} : paxos::node_id{1};
  std::vector<paxos::command> batch{
    {1, 1, "add n 5"},
    {2, 1, "add n 3"},
    {1, 1, "add n 5"},  // a retry of the first, in the same batch
    {paxos::membership_client, 9, "not a change"},
    {3, 0, "add n 1"},  // seq 0: invalid
  };
  auto at_follower =
    ask<std::vector<paxos::client_reply>>(group.at(follower), actors::propose_batch_atom_v, batch);
  auto at_leader =
    ask<std::vector<paxos::client_reply>>(group.at(leader), actors::propose_batch_atom_v, batch);
  sched.run();

  ASSERT_TRUE(at_follower->value) << (at_follower->error ? *at_follower->error : "no reply");
  ASSERT_EQ(at_follower->value->size(), batch.size());
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*at_follower->value)[i].status, reply_status::not_leader) << i;
    EXPECT_EQ((*at_follower->value)[i].leader_hint, leader) << i;
  }

  ASSERT_TRUE(at_leader->value) << (at_leader->error ? *at_leader->error : "no reply");
  auto& r = *at_leader->value;
  ASSERT_EQ(r.size(), batch.size());
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(r[i].status, reply_status::ok) << i;
    EXPECT_EQ(r[i].client, batch[i].client) << i;
    EXPECT_EQ(r[i].seq, batch[i].seq) << i;
  }
  EXPECT_EQ(r[0].result, "5");
  EXPECT_EQ(r[1].result, "8");
  EXPECT_EQ(r[2].result, "5") << "the retry gets the first attempt's result";
  EXPECT_EQ(r[3].status, reply_status::invalid);
  EXPECT_EQ(r[4].status, reply_status::invalid);

  // Each command is in the log once; the refused ones are not.
  advance(5);
  std::vector<paxos::command> applied;
  for (auto& [slot, val] : log_of(leader))
    applied.insert(applied.end(), val.commands.begin(), val.commands.end());
  EXPECT_EQ(std::count(applied.begin(), applied.end(), batch[0]), 1);
  EXPECT_EQ(std::count(applied.begin(), applied.end(), batch[1]), 1);
  EXPECT_EQ(std::count(applied.begin(), applied.end(), batch[3]), 0);
  EXPECT_EQ(std::count(applied.begin(), applied.end(), batch[4]), 0);
  for (auto id : {paxos::node_id{1}, paxos::node_id{2}, paxos::node_id{3}})
    EXPECT_EQ(log_of(id), log_of(leader)) << "replica " << id;

  // An empty batch is answered at once, with nothing.
  auto empty = ask<std::vector<paxos::client_reply>>(group.at(leader), actors::propose_batch_atom_v,
                                                     std::vector<paxos::command>{});
  sched.run();
  ASSERT_TRUE(empty->value);
  EXPECT_TRUE(empty->value->empty());
}

TEST_F(ReplicaActorTest, RetryAtNewLeaderAfterFailoverAppliesOnce) {
  auto old_leader = elect();
  ASSERT_NE(old_leader, 0u);
  paxos::command cmd{7, 1, "add n 5"};
  auto first = propose(old_leader, cmd);
  sched.run();
  ASSERT_TRUE(first->value);
  ASSERT_EQ(first->value->result, "5");
  advance(5);

  caf::anon_send_exit(group.at(old_leader), caf::exit_reason::kill);
  sched.run();
  std::vector<paxos::node_id> live;
  for (paxos::node_id id : {1, 2, 3})
    if (id != old_leader)
      live.push_back(id);
  auto new_leader = elect(live);
  ASSERT_NE(new_leader, 0u);
  ASSERT_NE(new_leader, old_leader);

  // The client never saw its answer, say, and retries at the new leader.
  auto retry = propose(new_leader, cmd);
  sched.run();
  ASSERT_TRUE(retry->value);
  EXPECT_EQ(retry->value->status, reply_status::ok);
  EXPECT_EQ(retry->value->result, "5");
  auto read = propose(new_leader, {7, 2, "add n 1"});
  sched.run();
  ASSERT_TRUE(read->value);
  EXPECT_EQ(read->value->result, "6");
}

TEST_F(ReplicaActorTest, RestartedReplicaRecoversFromItsStorage) {
  auto leader = elect();
  ASSERT_NE(leader, 0u);
  for (std::uint64_t client = 1; client <= 3; ++client)
    propose(leader, {client, 1, "add n 1"});
  sched.run();
  advance(5);
  auto log = log_of(leader);
  std::size_t commands = 0;
  for (auto& [slot, val] : log)
    commands += val.commands.size();
  // Proposed together, they may share a slot: count commands, not slots.
  ASSERT_EQ(commands, 3u);
  // Every promise, vote and decision went through the storage seam.
  for (paxos::node_id id : {1, 2, 3}) {
    EXPECT_EQ(disks.at(id)->promised, disks.at(leader)->promised) << "replica " << id;
    EXPECT_EQ(disks.at(id)->promised.node, leader) << "replica " << id;
    EXPECT_EQ(disks.at(id)->chosen.size(), log.size()) << "replica " << id;
  }

  auto follower = leader == 1 ? paxos::node_id{2} : paxos::node_id{1};
  caf::anon_send_exit(group.at(follower), caf::exit_reason::kill);
  sched.run();
  // Two of three still form a quorum.
  auto more = propose(leader, {4, 1, "add n 1"});
  sched.run();
  ASSERT_TRUE(more->value);
  EXPECT_EQ(more->value->result, "4");

  spawn(follower);
  actors::introduce(group);
  sched.run();
  // The restarted replica replays what its disk holds before hearing anyone...
  EXPECT_EQ(status(follower).commit_index, log.back().first);
  // ...and catches up on the rest from the leader.
  advance(10);
  EXPECT_EQ(log_of(follower), log_of(leader));
  EXPECT_EQ(log_of(follower).size(), log.size() + 1);
}

/// Each message, put into a caf::message the way the actor sends it, survives
/// CAF's binary serialization: the type registration is what the middleman
/// needs to carry replica traffic between processes.
template <class T>
void expect_round_trip(caf::actor_system& sys, T x) {
  auto original = caf::make_message(paxos::node_id{2}, std::move(x));
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  ASSERT_FALSE(sink(original)) << "cannot serialize " << caf::deep_to_string(original);
  caf::message copy;
  caf::binary_deserializer source{sys, buf};
  ASSERT_FALSE(source(copy)) << "cannot deserialize " << caf::deep_to_string(original);
  EXPECT_TRUE((copy.match_elements<paxos::node_id, T>()));
  EXPECT_EQ(caf::deep_to_string(copy), caf::deep_to_string(original));
}

TEST_F(ReplicaActorTest, MessagesSurviveCafSerialization) {
  paxos::ballot_number b{3, 2};
  paxos::value v{{{1, 2, "put k v"}, {4, 5, "get k"}}};
  expect_round_trip(sys, paxos::prepare{b, 7});
  expect_round_trip(sys, paxos::promise{b, {{7, {2, 1}, v, false}, {8, b, {}, true}}});
  expect_round_trip(sys, paxos::promise{b, {{42, b, v, true}}, 41});
  expect_round_trip(sys, paxos::accept{b, 9, v, 8});
  expect_round_trip(sys, paxos::accepted{b, 9});
  expect_round_trip(sys, paxos::reject{b, {4, 1}});
  expect_round_trip(sys, paxos::heartbeat{b, 9});
  expect_round_trip(sys, paxos::catchup_request{5});
  expect_round_trip(sys, paxos::catchup_reply{{{5, v}, {6, {}}}});
  expect_round_trip(sys, paxos::client_reply{1, 2, reply_status::not_leader, "", 3});
  expect_round_trip(sys, paxos::client_reply{1, 2, reply_status::ok, "x", std::nullopt});
  expect_round_trip(sys, actors::replica_status{1, false, 2, 10});
  expect_round_trip(sys, actors::replica_status{1, false, std::nullopt, 10});
  // Printing shows what was written; check that loading rebuilt the optional itself.
  auto reply = caf::make_message(paxos::client_reply{1, 2, reply_status::ok, "x", 3});
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  ASSERT_FALSE(sink(reply));
  caf::message copy;
  caf::binary_deserializer source{sys, buf};
  ASSERT_FALSE(source(copy));
  ASSERT_TRUE(copy.match_elements<paxos::client_reply>());
  EXPECT_EQ(copy.get_as<paxos::client_reply>(0).leader_hint, 3u);
  // A snapshot travels whole: binary machine state and results, the dedup
  // table, and the promise's compaction point.
  paxos::snapshot snap{
    40,
    std::string("kv\0\xff", 4),
    {{7, {{1, "r1"}, {2, std::string("\0\x01", 2)}}, 0, {11, 12}, 5}, {9, {}, 3, {}, 0}},
    "E 1 4\nM 1 v a:1 b:1\n"};
  expect_round_trip(sys, paxos::install_snapshot{snap});
  auto loaded = [&](caf::message msg) {
    std::vector<char> bytes;
    caf::binary_serializer out{sys, bytes};
    EXPECT_FALSE(out(msg));
    caf::message back;
    caf::binary_deserializer in{sys, bytes};
    EXPECT_FALSE(in(back));
    return back;
  };
  auto installed = loaded(caf::make_message(paxos::node_id{2}, paxos::install_snapshot{snap}));
  ASSERT_TRUE((installed.match_elements<paxos::node_id, paxos::install_snapshot>()));
  EXPECT_EQ(installed.get_as<paxos::install_snapshot>(1).snap, snap);
  // A frozen machine state (a snapshot taken with state_machine::freeze) is
  // encoded where it is serialized, into the very bytes of the plain one.
  struct frozen_kv : paxos::frozen_state {
    std::string encode() const override { return std::string("kv\0\xff", 4); }
    std::size_t size_hint() const override { return 4; }
  };
  auto lazy = snap;
  lazy.machine = paxos::machine_image{std::make_shared<frozen_kv>()};
  ASSERT_FALSE(lazy.machine.encoded());
  std::vector<char> plain_wire;
  std::vector<char> lazy_wire;
  caf::binary_serializer plain_sink{sys, plain_wire};
  caf::binary_serializer lazy_sink{sys, lazy_wire};
  ASSERT_FALSE(plain_sink(snap));
  ASSERT_FALSE(lazy_sink(lazy));
  EXPECT_TRUE(lazy.machine.encoded());
  EXPECT_EQ(lazy_wire, plain_wire);
  auto lazy_installed = loaded(caf::make_message(paxos::node_id{2}, paxos::install_snapshot{lazy}));
  EXPECT_EQ(lazy_installed.get_as<paxos::install_snapshot>(1).snap, snap);
  auto promised = loaded(caf::make_message(paxos::node_id{2}, paxos::promise{b, {}, 41}));
  ASSERT_TRUE((promised.match_elements<paxos::node_id, paxos::promise>()));
  EXPECT_EQ(promised.get_as<paxos::promise>(1).compacted, 41u);
}

TEST_F(ReplicaActorTest, LinearizableReadSeesAnAcknowledgedWrite) {
  auto leader = elect();
  auto written = propose(leader, {5, 1, "put color blue"});
  sched.run();
  ASSERT_TRUE(written->value);
  ASSERT_EQ(written->value->status, reply_status::ok);
  // The read needs a confirmation round through a quorum before its answer.
  auto read = ask<actors::read_reply>(group.at(leader), read_atom_v, std::string{"color"});
  sched.run();
  ASSERT_TRUE(read->value) << (read->error ? *read->error : "no reply");
  EXPECT_EQ(read->value->status, reply_status::ok);
  EXPECT_EQ(read->value->result, "blue");
  paxos::node_id follower = leader % 3 + 1;
  auto refused = ask<actors::read_reply>(group.at(follower), read_atom_v, std::string{"color"});
  sched.run();
  ASSERT_TRUE(refused->value);
  EXPECT_EQ(refused->value->status, reply_status::not_leader);
  EXPECT_EQ(refused->value->leader_hint, leader);
}

}  // namespace

namespace {

/// Sends what a replica gives it straight to the addressee's actor, as the
/// peer port's outlet writes it straight to the transport, and counts it; an
/// install_snapshot it leaves to the replica's peer map.
class forwarding_outlet final : public actors::peer_outlet {
 public:
  explicit forwarding_outlet(const actors::peer_map& group) : group_(group) {}

  bool send(paxos::node_id to, paxos::node_id from, const paxos::message& msg) override {
    if (std::holds_alternative<paxos::install_snapshot>(msg))
      return false;
    ++sent;
    std::visit([&](const auto& m) { caf::anon_send(group_.at(to), from, m); }, msg);
    return true;
  }

  std::size_t sent = 0;

 private:
  const actors::peer_map& group_;
};

class ReplicaOutletTest : public ReplicaActorTest {
 protected:
  ReplicaOutletTest()
      : ReplicaActorTest([this](actors::replica_options& o) {
          outlets[o.paxos.id] = std::make_shared<forwarding_outlet>(group);
          o.outlet = outlets[o.paxos.id];
        }) {}

  ~ReplicaOutletTest() override { outlets.clear(); }

  // Static: the base class's constructor fills it (spawning the replicas),
  // before a member of this class would exist.
  static inline std::map<paxos::node_id, std::shared_ptr<forwarding_outlet>> outlets;
};

// With an outlet, the consensus messages go through it, not through the
// replicas' peer map (where, in a process, the members' link actors are).
TEST_F(ReplicaOutletTest, ConsensusMessagesGoThroughTheOutletAndTheLogCommits) {
  auto leader = elect();
  ASSERT_NE(leader, 0u);
  auto reply = propose(leader, {1, 1, "add counter 5"});
  sched.run();
  ASSERT_TRUE(reply->value);
  EXPECT_EQ(reply->value->status, reply_status::ok);
  advance(5);
  for (paxos::node_id id : {1, 2, 3}) {
    EXPECT_GT(outlets.at(id)->sent, 0u) << "replica " << id << " sent nothing through its outlet";
    EXPECT_EQ(log_of(id), log_of(leader)) << "replica " << id;
  }
}

}  // namespace
