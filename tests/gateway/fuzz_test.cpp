// A bounded fuzz of the client port: well-formed Cap'n Proto RPC messages
// (a bootstrap and a put call) mutated at random (bytes flipped, cut,
// repeated, lengths changed) and sent on fresh connections. Whatever the
// bytes, the gateway must keep serving: the connection may be closed or
// answered, and a normal client is served afterwards. The seed and the count
// come from BALLOT_FUZZ_SEED / BALLOT_FUZZ_RUNS for longer runs.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <random>

#include <capnp/message.h>
#include <capnp/rpc.capnp.h>
#include <capnp/serialize.h>

#include "schemas/client.capnp.h"
#include "tests/gateway/cluster_fixture.hpp"

namespace {

using namespace ballot;
using namespace std::chrono_literals;

std::string flat(capnp::MessageBuilder& msg) {
  auto words = capnp::messageToFlatArray(msg);
  auto bytes = words.asBytes();
  return {reinterpret_cast<const char*>(bytes.begin()), bytes.size()};
}

/// A valid bootstrap, then a valid put call on the bootstrap capability.
std::string valid_session() {
  capnp::MallocMessageBuilder boot;
  boot.initRoot<capnp::rpc::Message>().initBootstrap().setQuestionId(0);
  capnp::MallocMessageBuilder call;
  auto c = call.initRoot<capnp::rpc::Message>().initCall();
  c.setQuestionId(1);
  c.initTarget().initPromisedAnswer().setQuestionId(0);
  c.setInterfaceId(capnp::typeId<schemas::client::Ballot>());
  c.setMethodId(0);  // put
  auto params = c.initParams().getContent().initAs<schemas::client::Ballot::PutParams>();
  params.initId().setClientId(4242);
  params.getId().setSeq(1);
  params.setKey("fuzz");
  params.setValue(kj::StringPtr("value").asBytes());
  return flat(boot) + flat(call);
}

std::string mutate(std::string bytes, std::mt19937_64& rng) {
  auto pick = [&](std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng() % n); };
  switch (rng() % 5) {
    case 0:  // flip a few bytes
      for (int i = 0, n = 1 + static_cast<int>(rng() % 8); i < n; ++i)
        bytes[pick(bytes.size())] ^= static_cast<char>(1 + rng() % 255);
      break;
    case 1:  // cut
      bytes.resize(pick(bytes.size()));
      break;
    case 2:  // repeat a slice
      bytes.insert(pick(bytes.size()), bytes.substr(pick(bytes.size()), 1 + pick(64)));
      break;
    case 3:  // an absurd word in a header or pointer position
      if (bytes.size() >= 8) {
        auto at = pick(bytes.size() / 8) * 8;
        for (int i = 0; i < 8; ++i)
          bytes[at + i] = static_cast<char>(rng());
      }
      break;
    default:  // random tail
      for (int i = 0, n = static_cast<int>(pick(256)); i < n; ++i)
        bytes.push_back(static_cast<char>(rng()));
  }
  return bytes;
}

/// Sends `bytes` on a fresh connection and reads whatever comes back for a
/// moment; the outcome does not matter, only that the node survives.
void poke(std::uint16_t port, const std::string& bytes, long wait_us = 50'000) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{0, wait_us};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    char buf[4096];
    while (::recv(fd, buf, sizeof(buf), 0) > 0) {
    }
  }
  ::close(fd);
}

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::strtoull(v, nullptr, 10) : fallback;
}

class GatewayFuzzTest : public test_support::ClusterFixture {};

TEST_F(GatewayFuzzTest, MutatedRpcMessagesNeverStopTheGateway) {
  auto opts = gateway_options(1);
  opts.max_message_bytes = 1 << 20;
  gateways[1] = gateway::start(sys, opts, gateway::find_in(group));
  auto port = gateways[1]->port();
  auto seed = env_or("BALLOT_FUZZ_SEED", 1);
  auto runs = env_or("BALLOT_FUZZ_RUNS", 300);
  std::mt19937_64 rng{seed};
  auto valid = valid_session();
  ASSERT_NE(await_leader(), 0u);
  poke(port, valid, 900'000);  // the unmutated session is served: a put
  auto c = make_client({endpoint_of(1)});
  auto got = c->get("fuzz");
  ASSERT_TRUE(got.ok()) << "the valid session's put did not apply: the fuzz base is wrong";
  EXPECT_EQ(got.value, "value");
  for (std::uint64_t i = 0; i < runs; ++i) {
    auto bytes = mutate(valid, rng);
    for (int more = static_cast<int>(rng() % 3); more > 0; --more)
      bytes = mutate(bytes, rng);
    poke(port, bytes);
    if (i % 50 == 49) {
      ASSERT_TRUE(c->put("alive", std::to_string(i)).ok())
        << "after run " << i << " (seed " << seed << ")";
    }
  }
  auto fresh = make_client({endpoint_of(1)});
  EXPECT_TRUE(fresh->put("after", "ok").ok());
}

}  // namespace
