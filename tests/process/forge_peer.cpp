// ballot-forge-peer: a hostile program for the ForgedPeer tests. It connects to
// one member's peer port the way a member would (Ballot's peer transport, with
// or without a TLS certificate), announces itself as `--as`, and sends frames
// in the name of `--from`: a catchup_reply and an install_snapshot (as a chunk) "choosing"
// a key of its own, accepted votes for every ballot and slot, a heartbeat
// with a huge commit index and a prepare with the largest ballot. With
// `--caf` it first tries what worked against the CAF middleman: connecting
// to the port as a remote actor.
//
//   ballot-forge-peer --target 1=127.0.0.1:7411 --as 2 --from 3
//                     [--cacert F --cert F --key F] [--wait-ms 3000] [--caf]
//                     [--cluster-id HEX]
//
// `--cluster-id` is the id its hellos carry (the target's own, read from its
// data directory, to get past the hello to the checks behind it).
//
// Prints `connected` or `not connected`, then `sent N frames`, and exits 0.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "caf/all.hpp"
#include "caf/io/all.hpp"

#include "actors/backup/sha256.hpp"
#include "actors/kv/command_codec.hpp"
#include "actors/replica/type_ids.hpp"
#include "runtime/peer/payload_codec.hpp"
#include "runtime/peer/snapshot_chunk.hpp"
#include "runtime/peer/transport.hpp"

namespace {

using namespace ballot;

std::string slurp(const std::string& path) {
  std::ifstream in{path};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

paxos::value forged_value() {
  paxos::value v;
  v.commands.push_back(
    paxos::command{666, 1, kv::encode(kv::request{kv::put_request{"forged", "evil", {}}})});
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  std::string target, cacert, cert, key, cluster_hex;
  std::uint32_t as = 0, from = 0;
  int wait_ms = 3000;
  bool try_caf = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--target")
      target = next();
    else if (a == "--as")
      as = static_cast<std::uint32_t>(std::stoul(next()));
    else if (a == "--from")
      from = static_cast<std::uint32_t>(std::stoul(next()));
    else if (a == "--cacert")
      cacert = next();
    else if (a == "--cert")
      cert = next();
    else if (a == "--key")
      key = next();
    else if (a == "--wait-ms")
      wait_ms = std::stoi(next());
    else if (a == "--caf")
      try_caf = true;
    else if (a == "--cluster-id")
      cluster_hex = next();
    else {
      std::fprintf(stderr, "ballot-forge-peer: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  auto eq = target.find('='), colon = target.rfind(':');
  if (eq == std::string::npos || colon == std::string::npos || as == 0) {
    std::fprintf(stderr, "usage: ballot-forge-peer --target ID=HOST:PORT --as N --from N ...\n");
    return 2;
  }
  auto target_id = static_cast<std::uint32_t>(std::stoul(target.substr(0, eq)));
  auto host = target.substr(eq + 1, colon - eq - 1);
  auto port = static_cast<std::uint16_t>(std::stoul(target.substr(colon + 1)));

  caf::actor_system_config cfg;
  cfg.add_message_types<caf::id_block::ballot>();
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};

  if (try_caf) {
    // What an attacker did before: take the published replica as a remote actor.
    auto remote = sys.middleman().remote_actor(host, port);
    std::printf("caf remote_actor: %s\n",
                remote ? "connected" : ("refused: " + sys.render(remote.error())).c_str());
    if (remote)
      caf::anon_send(*remote, actors::peers_atom_v, actors::peer_map{});
    std::fflush(stdout);
  }

  peer::transport_options o;
  o.self = as;
  o.members[target_id] = {host, port};
  o.members[as] = {"127.0.0.1", 0};  // it must listen somewhere; nobody dials it
  if (!cert.empty())
    o.tls = peer::tls_material{slurp(cacert), slurp(cert), slurp(key)};
  if (!cluster_hex.empty() && !backup::from_hex(cluster_hex, o.cluster_id)) {
    std::fprintf(stderr, "ballot-forge-peer: --cluster-id is not hex\n");
    return 2;
  }
  o.log = [](const std::string& line) { std::fprintf(stderr, "forge: %s\n", line.c_str()); };
  auto net = peer::transport::start(o);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  while (!net->connected(target_id) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  bool up = net->connected(target_id);
  std::printf("%s\n", up ? "connected" : "not connected");
  std::fflush(stdout);

  int sent = 0;
  auto send = [&](peer::frame_kind kind, const auto& msg) {
    if (net->send(target_id, peer::make_frame(sys, kind, from, 0, msg)) ==
        peer::transport::send_result::queued)
      ++sent;
  };
  constexpr auto max_round = std::numeric_limits<std::uint64_t>::max();
  for (int round = 0; round < 3; ++round) {
    // A log of its own, "chosen" from slot 1 on.
    paxos::catchup_reply reply;
    for (paxos::slot_index s = 1; s <= 64; ++s)
      reply.entries.push_back({s, forged_value()});
    send(peer::frame_kind::catchup_reply, reply);
    paxos::install_snapshot snap;
    snap.snap.last = 1'000'000;
    snap.snap.machine = "not a state machine";
    // A snapshot travels as a transfer of chunks: this one in one chunk.
    auto bytes = peer::encode_payload(sys, snap);
    if (net->send(target_id, peer::make_chunk_frame(from, 1 + round, bytes.size(), 0,
                                                    peer::chunk_crc(bytes.data(), bytes.size()),
                                                    bytes.data(), bytes.size())) ==
        peer::transport::send_result::queued)
      ++sent;
    // Votes in another member's name for every likely ballot and slot.
    for (std::uint64_t r = 1; r <= 20; ++r)
      for (paxos::node_id n = 1; n <= 3; ++n)
        for (paxos::slot_index s = 1; s <= 20; ++s)
          send(peer::frame_kind::accepted, paxos::accepted{{r, n}, s});
    send(peer::frame_kind::heartbeat, paxos::heartbeat{{max_round, from}, 1'000'000, 1});
    send(peer::frame_kind::prepare, paxos::prepare{{max_round, from}, 1});
    send(peer::frame_kind::promise, paxos::promise{{max_round, from}, {}, 0, 0});
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::printf("sent %d frames\n", sent);
  std::fflush(stdout);
  net->stop();
  return 0;
}
