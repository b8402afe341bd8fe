#include "runtime/gateway/status_summary.hpp"

namespace ballot::gateway {

status_summary summarize(const std::vector<member_view>& views, paxos::node_id self) {
  status_summary out;
  const member_view* me = nullptr;
  const member_view* leader = nullptr;
  for (auto& m : views) {
    if (m.id == self)
      me = &m;
    if (m.up)
      ++out.up;
    if (!m.learner) {
      ++out.voters;
      if (m.up)
        ++out.voters_up;
    }
    if (m.up && m.is_leader && (!leader || m.commit_index > leader->commit_index))
      leader = &m;
  }
  if (me != nullptr && me->up)
    out.self_commit_index = me->commit_index;
  if (leader) {
    out.leader = leader->id;
    out.commit_index = leader->commit_index;
    out.leader_answered = true;
  } else {
    if (me != nullptr && me->up && me->leader_hint)
      out.leader = *me->leader_hint;
    if (me != nullptr)
      out.commit_index = me->commit_index;
  }
  return out;
}

health_verdict judge_health(const std::vector<member_view>& views, paxos::node_id self,
                            std::uint64_t max_lag) {
  const member_view* me = nullptr;
  for (auto& m : views)
    if (m.id == self)
      me = &m;
  if (me == nullptr || !me->up)
    return {false, "this node's replica did not answer"};
  auto s = summarize(views, self);
  // Learners do not count: a majority of voters is what commits.
  auto majority = s.voters / 2 + 1;
  if (s.voters_up < majority)
    return {false, "only " + std::to_string(s.voters_up) + " of " + std::to_string(s.voters) +
                     " voters answer (a majority is " + std::to_string(majority) + ")"};
  if (s.leader == 0)
    return {false, "no leader known"};
  if (!s.leader_answered)
    return {false, "leader " + std::to_string(s.leader) + " does not answer"};
  if (s.commit_index > me->commit_index + max_lag)
    return {false, "commit index " + std::to_string(me->commit_index) + " is " +
                     std::to_string(s.commit_index - me->commit_index) + " behind leader " +
                     std::to_string(s.leader) + " (at most " + std::to_string(max_lag) + ")"};
  return {true, "ok"};
}

}  // namespace ballot::gateway
