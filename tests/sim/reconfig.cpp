#include "tests/sim/reconfig.hpp"

#include "actors/paxos/member_report.hpp"

namespace ballot::sim {

namespace {

/// A change not answered is asked again after this many ticks.
constexpr std::uint64_t retry_ticks = 20;
/// Scenarios per run.
constexpr std::size_t max_scenarios = 2;

}  // namespace

reconfigurator::reconfigurator(std::uint64_t seed, std::size_t nodes, bool allowed)
    : rng_(seed * 0x9FB21C651E98DF25ULL + nodes * 7 + 3) {
  enabled_ = below(2) == 0 && allowed;
  // Without changes alpha bounds nothing: a run replays as before.
  alpha_ = enabled_ ? std::uint64_t{1} << below(4) : std::uint64_t{1} << 20;
  not_before_ = below(120);
}

void reconfigurator::plan() {
  ++scenarios_;
  switch (below(4)) {
    case 0:  // a voter dies with its disk: add a learner, promote it, remove the dead one
      steps_ = {step::kill_voter, step::add, step::promote_added, step::remove_victim};
      description_ += " replace";
      break;
    case 1:  // grow by two voters and shrink back (3 -> 5 -> 3)
      steps_ = {step::add,           step::promote_added, step::add,
                step::promote_added, step::remove_voter,  step::remove_voter};
      description_ += " grow-shrink";
      break;
    case 2:  // a learner comes and goes
      steps_ = {step::add, step::remove_added};
      description_ += " learner";
      break;
    default:  // shrink by one voter, then grow back
      steps_ = {step::remove_voter, step::add, step::promote_added};
      description_ += " shrink-grow";
      break;
  }
}

reconfigurator::action reconfigurator::next(std::uint64_t tick, const paxos::configuration& latest,
                                            bool may_start, bool may_kill) {
  action none;
  if (!enabled_)
    return none;
  if (asked_) {
    if (tick < asked_tick_ + retry_ticks)
      return none;
    asked_tick_ = tick;
    return *asked_;
  }
  if (!may_start || tick < not_before_)
    return none;
  if (steps_.empty()) {
    if (scenarios_ >= max_scenarios)
      return none;
    plan();
  }
  auto voters = latest.voters();
  action a;
  a.what = action::kind::change;
  switch (steps_.front()) {
    case step::kill_voter:
      if (!may_kill)
        return none;
      steps_.pop_front();
      if (voters.size() < 3) {  // two voters cannot lose one for good
        steps_.clear();
        return none;
      }
      victim_ = voters[below(voters.size())];
      a.what = action::kind::kill;
      a.victim = victim_;
      return a;
    case step::add: {
      auto n = std::to_string(next_seq_);
      a.change = {paxos::member_change::kind::add_learner, 0, "10.0.0." + n + ":7000",
                  "10.0.0." + n + ":7100"};
      break;
    }
    case step::promote_added:
      a.change = {paxos::member_change::kind::promote, added_, {}, {}};
      break;
    case step::remove_victim:
      a.change = {paxos::member_change::kind::remove, victim_, {}, {}};
      break;
    case step::remove_added:
      a.change = {paxos::member_change::kind::remove, added_, {}, {}};
      break;
    case step::remove_voter:
      if (voters.size() < 3) {
        steps_.pop_front();
        return none;
      }
      a.change = {paxos::member_change::kind::remove, voters[below(voters.size())], {}, {}};
      a.cut_off_ticks = 40 + below(60);
      break;
  }
  if (a.change.what != paxos::member_change::kind::add_learner && a.change.id == 0) {
    steps_.pop_front();
    return none;
  }
  a.seq = next_seq_++;
  asked_ = a;
  asked_tick_ = tick;
  return a;
}

void reconfigurator::retry_soon(std::uint64_t tick) {
  if (asked_ && tick + 2 < asked_tick_ + retry_ticks)
    asked_tick_ = tick + 2 - retry_ticks;
}

reconfigurator::outcome reconfigurator::on_result(std::uint64_t seq, const std::string& result,
                                                  std::uint64_t tick) {
  outcome out;
  if (!asked_ || asked_->seq != seq)
    return out;  // a late answer to a change answered already
  if (result.rfind("ok ", 0) != 0) {
    // Refused: a learner still behind is promoted later; anything else
    // (it left meanwhile) is given up.
    if (paxos::is_lag_refusal(result)) {
      asked_tick_ = tick;
      return out;
    }
    steps_.pop_front();
    asked_.reset();
    return out;
  }
  auto id = static_cast<paxos::node_id>(std::stoul(result.substr(3)));
  ++changes_done_;
  if (asked_->change.what == paxos::member_change::kind::add_learner)
    out.joined = added_ = id;
  if (asked_->change.what == paxos::member_change::kind::remove)
    out.removed = id;
  steps_.pop_front();
  asked_.reset();
  not_before_ = tick + below(40);
  return out;
}

}  // namespace ballot::sim
