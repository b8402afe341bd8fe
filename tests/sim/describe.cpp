#include "tests/sim/describe.hpp"

#include <type_traits>

namespace ballot::sim {

namespace {

std::string str(const paxos::ballot_number& b) {
  return "(" + std::to_string(b.round) + "," + std::to_string(b.node) + ")";
}

std::string str(const paxos::value& v) {
  if (v.is_noop())
    return "no-op";
  std::string out = "[";
  for (std::size_t i = 0; i < v.commands.size(); ++i)
    // A lock workload payload is "client:seq|<binary command>": its identity.
    out +=
      (i ? " " : "") + v.commands[i].payload.str().substr(0, v.commands[i].payload.str().find('|'));
  return out + "]";
}

}  // namespace

std::string describe(const paxos::message& msg) {
  return std::visit(
    [](const auto& m) -> std::string {
      using t = std::decay_t<decltype(m)>;
      using std::to_string;
      if constexpr (std::is_same_v<t, paxos::prepare>)
        return "prepare b=" + str(m.ballot) + " from=" + to_string(m.first_open);
      else if constexpr (std::is_same_v<t, paxos::promise>)
        return "promise b=" + str(m.ballot) + " entries=" + to_string(m.entries.size()) +
               " committed=" + to_string(m.committed);
      else if constexpr (std::is_same_v<t, paxos::accept>)
        return "accept b=" + str(m.ballot) + " slot=" + to_string(m.slot) + " " + str(m.val) +
               " commit=" + to_string(m.commit);
      else if constexpr (std::is_same_v<t, paxos::accepted>)
        return "accepted b=" + str(m.ballot) + " slot=" + to_string(m.slot);
      else if constexpr (std::is_same_v<t, paxos::reject>)
        return "reject b=" + str(m.ballot) + " promised=" + str(m.promised);
      else if constexpr (std::is_same_v<t, paxos::heartbeat>)
        return "heartbeat b=" + str(m.ballot) + " commit=" + to_string(m.commit) +
               (m.read_round ? " round=" + to_string(m.read_round) : "");
      else if constexpr (std::is_same_v<t, paxos::heartbeat_ack>)
        return "heartbeat_ack b=" + str(m.ballot) + " round=" + to_string(m.read_round);
      else if constexpr (std::is_same_v<t, paxos::catchup_request>)
        return "catchup_request from=" + to_string(m.from);
      else if constexpr (std::is_same_v<t, paxos::catchup_reply>)
        return "catchup_reply entries=" + to_string(m.entries.size());
      else if constexpr (std::is_same_v<t, paxos::install_snapshot>)
        return "install_snapshot last=" + to_string(m.snap.last);
      else if constexpr (std::is_same_v<t, paxos::state_query>)
        return "state_query nonce=" + to_string(m.nonce);
      else
        return "state_report nonce=" + to_string(m.nonce) + " promised=" + str(m.promised) +
               " highest=" + to_string(m.highest) + " commit=" + to_string(m.commit) +
               (m.intact ? "" : " repairing") + (m.has_state ? "" : " empty");
    },
    msg);
}

}  // namespace ballot::sim
