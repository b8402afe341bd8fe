// A node's requests to another member (a follower's gateway forwarding writes
// to the leader) through two peer services on 127.0.0.1: an answered request
// is delivered once, and never fails later; every unanswered one fails with
// request_timeout at its own deadline, not at an earlier one's, however many
// are open (one timer stands for all of them, member_link.cpp).
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "caf/all.hpp"

#include "actors/replica/type_ids.hpp"
#include "runtime/peer/peer_service.hpp"
#include "tests/support/process.hpp"

namespace ballot::peer {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// Member 2's replica: answers a command whose payload is "answer", keeps
/// every other request open for good.
struct holding_state {
  std::vector<caf::typed_response_promise<paxos::client_reply>> held;
};

caf::behavior holding_replica(caf::stateful_actor<holding_state>* self) {
  return {
    [self](actors::propose_atom, paxos::command& cmd) -> caf::result<paxos::client_reply> {
      if (static_cast<const std::string&>(cmd.payload) == "answer")
        return paxos::client_reply{cmd.client, cmd.seq, paxos::reply_status::ok, "done", {}};
      auto promise = self->make_response_promise<paxos::client_reply>();
      self->state.held.push_back(promise);
      return promise;
    },
  };
}

/// When a request ended, and how.
struct outcome {
  clock_type::duration after{};
  bool ok = false;
  caf::error err;
};

class MemberLinkTest : public ::testing::Test {
 protected:
  static caf::actor_system_config& configure(caf::actor_system_config& cfg) {
    cfg.set("logger.file-verbosity", caf::atom("quiet"));
    cfg.add_message_types<caf::id_block::ballot>();
    return cfg;
  }

  MemberLinkTest() : sys(configure(cfg)) {
    std::map<std::uint32_t, std::pair<std::string, std::uint16_t>> members{
      {1, {"127.0.0.1", ballot::testing::free_port()}},
      {2, {"127.0.0.1", ballot::testing::free_port()}}};
    for (std::uint32_t id : {1u, 2u}) {
      service_options o;
      o.self = id;
      o.members = members;
      o.cluster_id = std::string(32, 'm');
      o.log = [](const std::string&) {};
      o.request_timeout = timeout;
      replicas.push_back(sys.spawn(holding_replica));
      services.push_back(peer_service::start(sys, replicas.back(), o));
    }
    for (auto end = clock_type::now() + 5s; clock_type::now() < end;
         std::this_thread::sleep_for(5ms))
      if (services[0]->connected(2) && services[1]->connected(1))
        break;
    link = services[0]->links().at(2);
  }

  ~MemberLinkTest() override {
    for (auto& s : services)
      s->stop();
    // The replicas hold requests open: the actor system waits for them.
    for (auto& r : replicas)
      caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  }

  /// Asks member 2, through node 1's link, to take a command carrying
  /// `payload`; the future holds how the request ended.
  std::future<outcome> ask(const std::string& payload, std::uint64_t seq) {
    auto done = std::make_shared<std::promise<outcome>>();
    auto result = done->get_future();
    auto start = clock_type::now();
    sys.spawn([this, payload, seq, done, start](caf::event_based_actor* self) {
      paxos::command cmd;
      cmd.client = 7;
      cmd.seq = seq;
      cmd.payload = payload;
      self->request(link, caf::infinite, actors::propose_atom_v, std::move(cmd))
        .then(
          [done, start](paxos::client_reply&) {
            done->set_value({clock_type::now() - start, true, {}});
          },
          [done, start](caf::error& e) {
            done->set_value({clock_type::now() - start, false, e});
          });
    });
    return result;
  }

  static constexpr auto timeout = std::chrono::milliseconds{400};
  caf::actor_system_config cfg;
  caf::actor_system sys;
  std::vector<caf::actor> replicas;
  std::vector<std::unique_ptr<peer_service>> services;
  caf::actor link;
};

TEST_F(MemberLinkTest, EachUnansweredRequestFailsAtItsOwnDeadline) {
  ASSERT_TRUE(services[0]->connected(2));
  // Ten open requests now, ten more 200 ms later, and answered ones between.
  std::vector<std::future<outcome>> early, late, answered;
  for (std::uint64_t i = 0; i < 10; ++i) {
    early.push_back(ask("hold", i + 1));
    answered.push_back(ask("answer", 100 + i));
  }
  std::this_thread::sleep_for(200ms);
  for (std::uint64_t i = 0; i < 10; ++i)
    late.push_back(ask("hold", 20 + i));
  auto give_up = clock_type::now() + 10s;
  auto ended = [give_up](std::future<outcome>& f) -> outcome {
    if (f.wait_until(give_up) != std::future_status::ready) {
      ADD_FAILURE() << "a request never ended";
      return {};
    }
    return f.get();
  };
  for (auto& f : answered) {
    auto o = ended(f);
    EXPECT_TRUE(o.ok) << "an answered request failed: " << to_string(o.err);
    EXPECT_LT(o.after, timeout) << "an answer waited for the timeout";
  }
  for (auto& f : early) {
    auto o = ended(f);
    EXPECT_EQ(o.err, caf::sec::request_timeout) << (o.ok ? "answered" : to_string(o.err));
    EXPECT_GE(o.after, timeout) << "failed before its deadline";
  }
  for (auto& f : late) {
    auto o = ended(f);
    EXPECT_EQ(o.err, caf::sec::request_timeout) << (o.ok ? "answered" : to_string(o.err));
    // Measured from its own ask: an expiry that ended everything open at
    // the early ones' deadline would end these after about 200 ms.
    EXPECT_GE(o.after, timeout) << "failed at an earlier request's deadline";
    EXPECT_LT(o.after, timeout + 900ms) << "no timer came for the later deadline";
  }
}

}  // namespace
}  // namespace ballot::peer
