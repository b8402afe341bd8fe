#include "tests/sim/forger.hpp"

namespace ballot::sim {

paxos::envelope forge(std::uint64_t kind, paxos::node_id forger, const paxos::replica& victim,
                      std::size_t members) {
  using namespace paxos;
  constexpr std::uint64_t max = UINT64_MAX;
  const config defaults;
  auto to = victim.id();
  auto known = victim.known_round();
  auto commit = victim.commit_index();
  // A ballot the victim takes (the forger's own at a round it knows): only
  // the slot is wrong in the forgeries that use it.
  ballot_number plausible{known, forger};
  value forged{{command{0xF0F0F0F0, 1, "forged"}}};
  envelope env{forger, to, prepare{{max, forger}, 1}};
  switch (kind % forged_kinds) {
    case 0:  // the round after which `round + 1` wraps
      break;
    case 1:  // within the ceiling, but far past the lead
      env.msg = prepare{{known + defaults.round_lead + 1 + kind % 1000, forger}, 1};
      break;
    case 2:
      env.msg = accept{{max, forger}, commit + 1, forged, 0};
      break;
    case 3:
      env.msg = heartbeat{{max, forger}, max, 0};
      break;
    case 4:  // a vote this far ahead would make the next leader fill the gap
      env.msg = accept{plausible, commit + defaults.slot_lead + 1 + kind % 1000, forged, commit};
      break;
    case 5:
      env.msg = accept{plausible, max, forged, commit};
      break;
    case 6:
      env.msg = catchup_request{kind % 2 == 0 ? 0 : max};
      break;
    case 7:
      env.msg = catchup_reply{{{max - kind % 1000, forged}}};
      break;
    case 8: {
      snapshot snap;
      snap.last = max;
      env.msg = install_snapshot{snap};
      break;
    }
    case 9: {
      state_report r;
      r.highest = max;
      r.commit = max;
      env.msg = r;
      break;
    }
    case 10:  // a sender that is not a member
      env.from = static_cast<node_id>(members + 1 + kind % 7);
      env.msg = heartbeat{{known + 1, env.from}, commit, 0};
      break;
    case 11:  // the victim itself, which only hands back its own votes
      env.from = to;
      env.msg = heartbeat{{known + 1, to}, commit, 0};
      break;
    case 12:  // a promise to the victim's ballot with a vote far ahead
      env.msg =
        promise{victim.promised().node == to ? victim.promised() : ballot_number{known, to},
                {promise_entry{commit + defaults.slot_lead + 2, {1, forger}, forged, false}},
                0,
                0};
      break;
  }
  return env;
}

}  // namespace ballot::sim
